//! Simulated TCP connections: two ordered byte pipes, one per direction,
//! whose segments carry their arrival times (`handshake.rs` sets them up).
//!
//! ```text
//!   client end ── pipes[Client]: segments in send order ──▶ server end reads
//!              ◀── pipes[Server] ──────────────────────────
//!   segment: bytes (or FIN) + Arrival::At(t) | Arrival::Held { since }
//! ```
//!
//! A write draws the segment's fate when it is made: reset or not, its
//! delay, lost-and-retransmitted or not. Its arrival time is never before
//! the previous segment's, which is how TCP keeps bytes in order whatever
//! the jitter. A reader sees a segment once the clock reaches its arrival
//! time. Bytes in flight or unread count against a window per direction
//! ([`WINDOW`]); a writer that fills it waits for the reader, as a real
//! sender waits for acknowledgements.
//!
//! **Partitions.** When one begins, segments still in flight between its
//! hosts become *held* (a real network loses them and TCP keeps
//! retransmitting), and so does every segment written while it stands.
//! When it heals, held segments get fresh arrival times from the moment of
//! the heal, in order (the retransmission that finally gets through). If
//! a segment is held longer than [`Faults::abort_after`], the sender gives
//! up, as Linux does after `tcp_retries2` retransmissions: the sending end
//! fails with `TimedOut` and the other end with `ConnectionReset` (at once:
//! the simulation does not model the RST being held too).
//!
//! [`Faults::abort_after`]: super::Faults::abort_after

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::task::Waker;
use std::time::Duration;

use super::event::{NetEventKind, ResetCause};
use super::world::{Step, Wire, World};

/// How many bytes may be in flight or unread in one direction before
/// writes wait (a 64 KiB receive window).
pub(super) const WINDOW: usize = 64 * 1024;

/// Which end of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Client = 0,
    Server = 1,
}

impl Side {
    pub(super) fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Arrival {
    At(Duration),
    Held { since: Duration },
}

#[derive(Debug)]
struct Segment {
    data: Vec<u8>,
    /// How much of `data` the reader took already.
    taken: usize,
    /// End of stream: the writer shut down.
    fin: bool,
    arrival: Arrival,
}

/// The bytes one end writes and the other reads.
#[derive(Debug)]
struct Pipe {
    segments: VecDeque<Segment>,
    /// The latest arrival time given out: the next one is never earlier.
    last_arrival: Duration,
    /// Bytes in `segments` not yet taken: what counts against the window.
    queued: usize,
    /// The writer sent its FIN.
    shut: bool,
    reader: Option<Waker>,
    writer: Option<Waker>,
}

impl Pipe {
    fn new(first_arrival: Duration) -> Self {
        Self {
            segments: VecDeque::new(),
            last_arrival: first_arrival,
            queued: 0,
            shut: false,
            reader: None,
            writer: None,
        }
    }

    /// When the first held segment was held, if one is.
    fn held_since(&self) -> Option<Duration> {
        self.segments.iter().find_map(|s| match s.arrival {
            Arrival::Held { since } => Some(since),
            Arrival::At(_) => None,
        })
    }

    fn wake_both(&mut self, wire: &mut Wire) {
        wire.wake(self.reader.take());
        wire.wake(self.writer.take());
    }
}

/// Why every operation on a connection fails.
#[derive(Debug, Clone, Copy)]
enum Failure {
    Reset,
    /// The end `gave_up` gave up on data held by a partition.
    GaveUp {
        gave_up: Side,
    },
}

/// One TCP connection of the simulated network.
#[derive(Debug)]
pub(super) struct Connection {
    /// The client's and the server's addresses.
    addrs: [SocketAddr; 2],
    /// `pipes[side]` carries what `side` writes.
    pipes: [Pipe; 2],
    /// Whether each end still has a handle.
    open: [bool; 2],
    /// Whether each end shut its reading side down.
    read_shut: [bool; 2],
    failure: Option<Failure>,
}

impl Connection {
    /// A connection between `addrs` (client, server) whose first bytes
    /// from each side arrive no earlier than the given times.
    pub(super) fn new(
        addrs: [SocketAddr; 2],
        client_first: Duration,
        server_first: Duration,
    ) -> Self {
        Self {
            addrs,
            pipes: [Pipe::new(client_first), Pipe::new(server_first)],
            open: [true, true],
            read_shut: [false, false],
            failure: None,
        }
    }

    /// Resets the connection, blaming `from`, unless it failed already.
    pub(super) fn reset(&mut self, from: Side, cause: ResetCause, wire: &mut Wire) {
        if self.failure.is_none() {
            self.fail(Failure::Reset, from, cause, wire);
        }
    }

    fn ips(&self) -> (IpAddr, IpAddr) {
        (self.addrs[0].ip(), self.addrs[1].ip())
    }

    fn between(&self, a: IpAddr, b: IpAddr) -> bool {
        let (x, y) = self.ips();
        (x, y) == (a, b) || (x, y) == (b, a)
    }

    pub(super) fn addr(&self, side: Side) -> SocketAddr {
        self.addrs[side as usize]
    }

    /// The error an operation of `side` fails with, if the connection
    /// failed.
    fn error(&self, side: Side) -> Option<io::Error> {
        self.failure.map(|failure| match failure {
            Failure::GaveUp { gave_up } if gave_up == side => io::Error::new(
                io::ErrorKind::TimedOut,
                "the simulated connection gave up: data was held by a partition too long",
            ),
            _ => io::Error::new(
                io::ErrorKind::ConnectionReset,
                "the simulated connection was reset",
            ),
        })
    }

    /// When the sender gives up on held data, unless a heal comes first.
    fn give_up_at(&self, wire: &Wire) -> Option<Duration> {
        let since = self.pipes.iter().filter_map(Pipe::held_since).min()?;
        Some(since + wire.faults.abort_after)
    }

    /// Puts a segment (bytes, or a FIN) on `side`'s pipe.
    fn push_segment(&mut self, wire: &mut Wire, side: Side, data: Vec<u8>, fin: bool) {
        let (from, to) = (self.addr(side), self.addr(side.peer()));
        let pipe = &mut self.pipes[side as usize];
        let (arrival, retransmitted) = arrival(wire, from.ip(), to.ip(), pipe);
        let len = data.len();
        pipe.queued += len;
        pipe.segments.push_back(Segment {
            data,
            taken: 0,
            fin,
            arrival,
        });
        // The reader learns of the new arrival time (or the FIN) now.
        wire.wake(pipe.reader.take());
        let arrival = known(arrival);
        wire.log(if fin {
            NetEventKind::Fin { from, to, arrival }
        } else {
            NetEventKind::Segment {
                from,
                to,
                len,
                arrival,
                retransmitted,
            }
        });
    }

    /// Marks the connection failed, drops what it carried, wakes everyone.
    fn fail(&mut self, failure: Failure, from: Side, cause: ResetCause, wire: &mut Wire) {
        self.failure = Some(failure);
        for pipe in &mut self.pipes {
            pipe.segments.clear();
            pipe.queued = 0;
            pipe.wake_both(wire);
        }
        wire.log(NetEventKind::Reset {
            from: self.addr(from),
            to: self.addr(from.peer()),
            cause,
        });
    }
}

/// The Arrival of a segment `from` → `to` written now, drawing its delay;
/// never before `pipe`'s last arrival.
fn arrival(wire: &mut Wire, from: IpAddr, to: IpAddr, pipe: &mut Pipe) -> (Arrival, bool) {
    let now = wire.now();
    if wire.partitioned(from, to) {
        return (Arrival::Held { since: now }, false);
    }
    let mut delay = wire.delay();
    let lost = wire.rng.chance(wire.faults.loss);
    if lost {
        delay += wire.faults.retransmit_timeout;
    }
    let at = (now + delay).max(pipe.last_arrival);
    pipe.last_arrival = at;
    (Arrival::At(at), lost)
}

fn known(arrival: Arrival) -> Option<Duration> {
    match arrival {
        Arrival::At(at) => Some(at),
        Arrival::Held { .. } => None,
    }
}

impl World {
    /// The connection `id` and the wire, after giving up on the
    /// connection if its held data has waited too long.
    fn conn(&mut self, id: u64) -> (&mut Connection, &mut Wire) {
        let conn = self
            .conns
            .get_mut(&id)
            .expect("an open end keeps its connection");
        let wire = &mut self.wire;
        let expired = conn.give_up_at(wire).is_some_and(|at| wire.now() >= at);
        if conn.failure.is_none() && expired {
            // The end whose data has been held the longest gives up.
            let [client, server] = conn.pipes.each_ref().map(Pipe::held_since);
            let gave_up = match (client, server) {
                (Some(c), Some(s)) if s < c => Side::Server,
                (None, Some(_)) => Side::Server,
                _ => Side::Client,
            };
            conn.fail(
                Failure::GaveUp { gave_up },
                gave_up,
                ResetCause::GaveUp,
                wire,
            );
        }
        (conn, wire)
    }

    pub(super) fn tcp_addr(&self, id: u64, side: Side) -> SocketAddr {
        self.conns[&id].addr(side)
    }

    /// Reads what has arrived for `side`. Without a waker (`try_read`) it
    /// registers none.
    pub(super) fn tcp_read(
        &mut self,
        id: u64,
        side: Side,
        buf: &mut [u8],
        waker: Option<&Waker>,
    ) -> Step<io::Result<usize>> {
        let (conn, wire) = self.conn(id);
        if let Some(e) = conn.error(side) {
            return Step::Ready(Err(e));
        }
        if buf.is_empty() || conn.read_shut[side as usize] {
            return Step::Ready(Ok(0));
        }
        let now = wire.now();
        let give_up = conn.give_up_at(wire);
        let pipe = &mut conn.pipes[side.peer() as usize];
        let mut read = 0;
        let mut at_end = false;
        while let Some(segment) = pipe.segments.front_mut() {
            if read == buf.len() || !matches!(segment.arrival, Arrival::At(at) if at <= now) {
                break;
            }
            if segment.fin {
                // The FIN stays in the pipe: every later read sees it too.
                at_end = true;
                break;
            }
            let n = (segment.data.len() - segment.taken).min(buf.len() - read);
            buf[read..read + n].copy_from_slice(&segment.data[segment.taken..segment.taken + n]);
            segment.taken += n;
            read += n;
            if segment.taken == segment.data.len() {
                pipe.segments.pop_front();
            }
        }
        if read > 0 {
            pipe.queued -= read;
            wire.wake(pipe.writer.take());
        }
        if read > 0 || at_end {
            return Step::Ready(Ok(read));
        }
        if let Some(waker) = waker {
            pipe.reader = Some(waker.clone());
        }
        let next = pipe.segments.front().and_then(|s| known(s.arrival));
        Step::Wait(earliest(next, give_up).map(|at| wire.instant(at)))
    }

    /// Writes as much of `buf` as the window takes. Without a waker
    /// (`try_write`) it registers none.
    pub(super) fn tcp_write(
        &mut self,
        id: u64,
        side: Side,
        buf: &[u8],
        waker: Option<&Waker>,
    ) -> Step<io::Result<usize>> {
        let (conn, wire) = self.conn(id);
        if let Some(e) = conn.error(side) {
            return Step::Ready(Err(e));
        }
        if buf.is_empty() {
            return Step::Ready(Ok(0));
        }
        let shut = conn.pipes[side as usize].shut;
        if shut || !conn.open[side.peer() as usize] {
            let why = if shut {
                "this end shut down writing"
            } else {
                "the peer closed the connection"
            };
            return Step::Ready(Err(io::Error::new(io::ErrorKind::BrokenPipe, why)));
        }
        let room = WINDOW - conn.pipes[side as usize].queued;
        if room == 0 {
            if let Some(waker) = waker {
                conn.pipes[side as usize].writer = Some(waker.clone());
            }
            return Step::Wait(conn.give_up_at(wire).map(|at| wire.instant(at)));
        }
        if wire.rng.chance(wire.faults.reset) {
            conn.fail(Failure::Reset, side, ResetCause::Fault, wire);
            return Step::Ready(Err(conn.error(side).expect("it just failed")));
        }
        let data = buf[..room.min(buf.len())].to_vec();
        let len = data.len();
        conn.push_segment(wire, side, data, false);
        Step::Ready(Ok(len))
    }

    /// Shuts `side`'s writing down: the peer reads end of stream after
    /// the bytes already written.
    pub(super) fn tcp_shutdown_write(&mut self, id: u64, side: Side) -> io::Result<()> {
        let (conn, wire) = self.conn(id);
        if let Some(e) = conn.error(side) {
            return Err(e);
        }
        if !conn.pipes[side as usize].shut {
            conn.pipes[side as usize].shut = true;
            conn.push_segment(wire, side, Vec::new(), true);
        }
        Ok(())
    }

    /// Shuts `side`'s reading down: its reads return end of stream.
    pub(super) fn tcp_shutdown_read(&mut self, id: u64, side: Side) {
        let (conn, wire) = self.conn(id);
        conn.read_shut[side as usize] = true;
        wire.wake(conn.pipes[side.peer() as usize].reader.take());
    }

    /// The last handle of `side` is gone: a FIN goes out (unless the
    /// connection failed), a peer waiting to write learns the pipe is
    /// broken, and the connection is forgotten once both ends are closed.
    pub(super) fn tcp_close(&mut self, id: u64, side: Side) {
        // An error means the connection failed: no FIN is owed then.
        let _ = self.tcp_shutdown_write(id, side);
        let (conn, wire) = self.conn(id);
        conn.open[side as usize] = false;
        wire.wake(conn.pipes[side.peer() as usize].writer.take());
        if !conn.open[side.peer() as usize] {
            let client = conn.addr(Side::Client);
            self.conns.remove(&id);
            self.tcp_bound.remove(&client);
        }
    }

    /// A partition between `a` and `b` began: data in flight is held.
    pub(super) fn hold_segments(&mut self, a: IpAddr, b: IpAddr) {
        let now = self.wire.now();
        for conn in self.conns.values_mut().filter(|c| c.between(a, b)) {
            for pipe in &mut conn.pipes {
                for segment in &mut pipe.segments {
                    if matches!(segment.arrival, Arrival::At(at) if at > now) {
                        segment.arrival = Arrival::Held { since: now };
                    }
                }
                // Waiting ends now wait for the heal, or for giving up.
                pipe.wake_both(&mut self.wire);
            }
        }
    }

    /// The partition between `a` and `b` healed: held segments get arrival
    /// times from now, in order; connections that waited too long give up
    /// instead.
    pub(super) fn release_segments(&mut self, a: IpAddr, b: IpAddr) {
        let ids: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, c)| c.between(a, b))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let (conn, wire) = self.conn(id);
            if conn.failure.is_some() {
                continue;
            }
            for side in [Side::Client, Side::Server] {
                let (from, to) = (conn.addr(side), conn.addr(side.peer()));
                let pipe = &mut conn.pipes[side as usize];
                let mut released = 0;
                for index in 0..pipe.segments.len() {
                    if let Arrival::Held { .. } = pipe.segments[index].arrival {
                        pipe.segments[index].arrival = arrival(wire, from.ip(), to.ip(), pipe).0;
                        released += 1;
                    }
                }
                if released > 0 {
                    let segments = released;
                    wire.log(NetEventKind::Released { from, to, segments });
                }
                pipe.wake_both(wire);
            }
        }
    }
}

/// The earlier of two optional instants.
fn earliest(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
