//! Simulated UDP: each bound socket has an inbox of datagrams ordered by
//! arrival time.
//!
//! A datagram's fate is drawn when it is sent, in this order: dropped if a
//! partition stands between the hosts or no socket is bound at the
//! destination (no draw), lost with probability [`Faults::loss`] (one
//! draw), then its delay (latency plus a jitter draw), then whether it is
//! held back by [`Faults::reorder_delay`] (one draw). Only then is it
//! dropped if the destination is connected to another peer or its buffer
//! is full; otherwise it joins the destination's inbox at its arrival
//! time, after every datagram that
//! arrives no later, so datagrams overtake each other exactly when their
//! arrival times say so. A partition that begins while datagrams are in
//! flight between its hosts drops them, as a cut link would. An inbox
//! holds at most [`RECEIVE_BUFFER`] bytes; datagrams beyond are dropped,
//! as the kernel drops them when a socket's receive buffer is full.
//!
//! [`Faults::loss`]: super::Faults::loss
//! [`Faults::reorder_delay`]: super::Faults::reorder_delay

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::task::Waker;
use std::time::Duration;

use super::event::{DatagramFate, NetEventKind};
use super::world::{Step, Wakers, World};

/// The most bytes a socket's inbox holds (Linux's default `rmem_default`
/// is close to this).
pub(super) const RECEIVE_BUFFER: usize = 208 * 1024;

/// The largest UDP payload over IPv4.
pub(super) const MAX_DATAGRAM: usize = 65_507;

#[derive(Debug)]
struct Datagram {
    from: SocketAddr,
    data: Vec<u8>,
    arrival: Duration,
}

/// A bound socket's datagrams, in arrival order, and its waiting tasks.
#[derive(Debug, Default)]
pub(super) struct Inbox {
    datagrams: VecDeque<Datagram>,
    bytes: usize,
    /// The peer of a connected socket: datagrams from others are dropped.
    pub(super) peer: Option<SocketAddr>,
    receivers: Wakers,
}

impl World {
    pub(super) fn udp_bind(&mut self, ip: IpAddr, requested: SocketAddr) -> io::Result<SocketAddr> {
        let addr = self.bind_addr(ip, requested, |w, a| w.udp.contains_key(&a))?;
        self.udp.insert(addr, Inbox::default());
        Ok(addr)
    }

    pub(super) fn udp_unbind(&mut self, addr: SocketAddr) {
        self.udp.remove(&addr);
    }

    /// Sends `data` from `from` to `to`; see the module docs for the order
    /// of the draws.
    pub(super) fn udp_send(
        &mut self,
        from: SocketAddr,
        to: SocketAddr,
        data: &[u8],
    ) -> io::Result<usize> {
        if data.len() > MAX_DATAGRAM {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a datagram of {} bytes is larger than UDP's {MAX_DATAGRAM}",
                    data.len()
                ),
            ));
        }
        let fate = self.deliver(from, to, data);
        let len = data.len();
        self.wire.log(NetEventKind::Datagram {
            from,
            to,
            len,
            fate,
        });
        Ok(len)
    }

    fn deliver(&mut self, from: SocketAddr, to: SocketAddr, data: &[u8]) -> DatagramFate {
        let wire = &mut self.wire;
        if wire.partitioned(from.ip(), to.ip()) {
            return DatagramFate::Partitioned;
        }
        let Some(inbox) = self.udp.get_mut(&to) else {
            return DatagramFate::NoSocket;
        };
        if wire.rng.chance(wire.faults.loss) {
            return DatagramFate::Lost;
        }
        let mut arrival = wire.now() + wire.delay();
        let reordered = wire.rng.chance(wire.faults.reorder);
        if reordered {
            arrival += wire.faults.reorder_delay;
        }
        if inbox.peer.is_some_and(|peer| peer != from) {
            return DatagramFate::Filtered;
        }
        if inbox.bytes + data.len() > RECEIVE_BUFFER {
            return DatagramFate::Overflow;
        }
        let at = inbox.datagrams.partition_point(|d| d.arrival <= arrival);
        inbox.datagrams.insert(
            at,
            Datagram {
                from,
                data: data.to_vec(),
                arrival,
            },
        );
        inbox.bytes += data.len();
        wire.wake_all(&mut inbox.receivers);
        if reordered {
            DatagramFate::Reordered { arrival }
        } else {
            DatagramFate::Delivered { arrival }
        }
    }

    /// Takes the first datagram that has arrived at `addr` into `buf`
    /// (cutting it to `buf`'s length, as UDP does).
    pub(super) fn udp_recv(
        &mut self,
        addr: SocketAddr,
        buf: &mut [u8],
        waker: &Waker,
    ) -> Step<(usize, SocketAddr)> {
        let now = self.wire.now();
        let inbox = self
            .udp
            .get_mut(&addr)
            .expect("a bound socket keeps its inbox");
        match inbox.datagrams.front() {
            Some(first) if first.arrival <= now => {
                let datagram = inbox.datagrams.pop_front().expect("just seen");
                inbox.bytes -= datagram.data.len();
                let n = datagram.data.len().min(buf.len());
                buf[..n].copy_from_slice(&datagram.data[..n]);
                Step::Ready((n, datagram.from))
            }
            next => {
                let deadline = next.map(|d| self.wire.instant(d.arrival));
                inbox.receivers.register(waker);
                Step::Wait(deadline)
            }
        }
    }

    /// A partition between `a` and `b` began: datagrams in flight between
    /// them are lost.
    pub(super) fn cut_datagrams(&mut self, a: IpAddr, b: IpAddr) {
        let now = self.wire.now();
        let mut count = 0;
        for (addr, inbox) in &mut self.udp {
            let crosses = |from: IpAddr| (from, addr.ip()) == (a, b) || (from, addr.ip()) == (b, a);
            inbox.datagrams.retain(|d| {
                let cut = d.arrival > now && crosses(d.from.ip());
                if cut {
                    inbox.bytes -= d.data.len();
                    count += 1;
                }
                !cut
            });
        }
        if count > 0 {
            self.wire.log(NetEventKind::DatagramsCut { a, b, count });
        }
    }
}
