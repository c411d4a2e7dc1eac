//! Setting connections up and taking them: the handshake, the listeners'
//! backlogs, and connects that wait for a partition to heal.
//!
//! The whole handshake is decided when the SYN leaves: SYN, SYN-ACK and
//! ACK each take one drawn delay, so the client is connected after two
//! delays and the connection reaches the listener's backlog after three.
//! A partition that begins during those few milliseconds does not affect
//! it: partitions act on connects begun while they stand. Handshake
//! packets are not subject to loss.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::task::Waker;
use std::time::Duration;

use super::conn::{Connection, Side};
use super::event::{ConnectOutcome, NetEventKind, ResetCause};
use super::world::{Step, World};

/// A listener's queue of connections not yet accepted, each visible from
/// the time its handshake reaches the server.
#[derive(Debug, Default)]
pub(super) struct Backlog {
    pending: VecDeque<(Duration, u64)>,
    acceptor: Option<Waker>,
}

/// What became of a SYN; see [`World::tcp_syn`].
#[derive(Debug)]
pub(super) enum Syn {
    /// Connection `conn` exists; `connect` completes at `established`.
    Sent { conn: u64, established: Duration },
    /// Refused: `connect` fails at `at`.
    Refused { at: Duration },
    /// A partition holds it.
    Held,
}

impl World {
    /// Sends a SYN from host `from` to `to` and decides the handshake
    /// (see the module docs).
    pub(super) fn tcp_syn(&mut self, from: IpAddr, to: SocketAddr) -> io::Result<Syn> {
        if self.wire.partitioned(from, to.ip()) {
            let outcome = ConnectOutcome::Held;
            self.wire.log(NetEventKind::Connect { from, to, outcome });
            return Ok(Syn::Held);
        }
        let now = self.wire.now();
        let syn = self.wire.delay();
        let back = self.wire.delay();
        if !self.listeners.contains_key(&to) {
            let at = now + syn + back;
            let outcome = ConnectOutcome::Refused { at };
            self.wire.log(NetEventKind::Connect { from, to, outcome });
            return Ok(Syn::Refused { at });
        }
        let ack = self.wire.delay();
        let local = self.bind_addr(from, SocketAddr::new(from, 0), |w, a| {
            w.tcp_bound.contains(&a)
        })?;
        self.tcp_bound.insert(local);
        let (client_sees, server_sees) = (now + syn + back, now + syn + back + ack);
        let conn = self.next_conn;
        self.next_conn += 1;
        // The client's first bytes travel behind its ACK.
        let connection = Connection::new([local, to], server_sees, client_sees);
        self.conns.insert(conn, connection);
        let backlog = self.listeners.get_mut(&to).expect("checked above");
        backlog.pending.push_back((server_sees, conn));
        self.wire.wake(backlog.acceptor.take());
        let outcome = ConnectOutcome::Accepted {
            local,
            server_sees,
            client_sees,
        };
        self.wire.log(NetEventKind::Connect { from, to, outcome });
        Ok(Syn::Sent {
            conn,
            established: client_sees,
        })
    }

    /// Waits for the partition between `from` and `to` to heal: `true`
    /// once it has, `false` once simulated time reaches `deadline`.
    pub(super) fn wait_heal(
        &mut self,
        from: IpAddr,
        to: SocketAddr,
        deadline: Duration,
        waker: &Waker,
    ) -> Step<bool> {
        if !self.wire.partitioned(from, to.ip()) {
            return Step::Ready(true);
        }
        if self.wire.now() >= deadline {
            self.wire.log(NetEventKind::ConnectTimedOut { from, to });
            return Step::Ready(false);
        }
        self.wire.heal_waiters.register(waker);
        Step::Wait(Some(self.wire.instant(deadline)))
    }

    pub(super) fn tcp_listen(&mut self, addr: SocketAddr) {
        self.tcp_bound.insert(addr);
        self.listeners.insert(addr, Backlog::default());
    }

    /// Takes the next connection whose handshake has reached the listener.
    pub(super) fn tcp_accept(
        &mut self,
        addr: SocketAddr,
        waker: &Waker,
    ) -> Step<(u64, SocketAddr)> {
        let now = self.wire.now();
        let backlog = self
            .listeners
            .get_mut(&addr)
            .expect("a listener's backlog lives as long as it");
        match backlog.pending.front() {
            Some(&(visible, conn)) if visible <= now => {
                backlog.pending.pop_front();
                Step::Ready((conn, self.conns[&conn].addr(Side::Client)))
            }
            next => {
                let deadline = next.map(|&(visible, _)| self.wire.instant(visible));
                backlog.acceptor = Some(waker.clone());
                Step::Wait(deadline)
            }
        }
    }

    /// Closes a listener: connections it never accepted are reset.
    pub(super) fn tcp_unlisten(&mut self, addr: SocketAddr) {
        self.tcp_bound.remove(&addr);
        let Some(backlog) = self.listeners.remove(&addr) else {
            return;
        };
        for (_, id) in backlog.pending {
            let conn = self
                .conns
                .get_mut(&id)
                .expect("a pending connection is live");
            conn.reset(Side::Server, ResetCause::ListenerClosed, &mut self.wire);
            self.tcp_close(id, Side::Server);
        }
    }
}
