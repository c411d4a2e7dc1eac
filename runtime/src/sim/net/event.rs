//! [`NetEvent`]: the simulated network's log of what it did with every
//! connection attempt, segment and datagram, and why.
//!
//! Every fault decision shows up here with the simulated time it was taken
//! at and the arrival time it gave, so a failing test can be read from its
//! log, and two runs with the same seed can be compared line by line (the
//! `Display` form prints times to the nanosecond and is the same on every
//! machine).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// One entry of a [`Net`](super::Net)'s log: at which simulated time (since
/// the net was created) what happened.
///
/// ```
/// use std::time::Duration;
/// use weft_runtime::sim::net::{NetEvent, NetEventKind};
///
/// let event = NetEvent {
///     at: Duration::from_millis(5),
///     kind: NetEventKind::Heal { a: "10.0.0.1".parse().unwrap(), b: "10.0.0.2".parse().unwrap() },
/// };
/// assert_eq!(event.to_string(), "0.005000000s heal 10.0.0.1 <-> 10.0.0.2");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetEvent {
    /// Simulated time since the net was created.
    pub at: Duration,
    /// What happened.
    pub kind: NetEventKind,
}

/// What a [`NetEvent`] records. Arrival times are simulated times since
/// the net was created, like [`NetEvent::at`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetEventKind {
    /// A host tried to connect (sent a SYN).
    Connect {
        /// The connecting host.
        from: IpAddr,
        /// The address it connects to.
        to: SocketAddr,
        /// What became of the attempt.
        outcome: ConnectOutcome,
    },
    /// A connect waited for a partition to heal longer than
    /// [`Faults::connect_timeout`](super::Faults::connect_timeout).
    ConnectTimedOut {
        /// The connecting host.
        from: IpAddr,
        /// The address it tried.
        to: SocketAddr,
    },
    /// A TCP write put `len` bytes on the wire.
    Segment {
        /// The writing end.
        from: SocketAddr,
        /// The reading end.
        to: SocketAddr,
        /// How many bytes.
        len: usize,
        /// When the reader can see them; `None` while a partition holds
        /// them.
        arrival: Option<Duration>,
        /// The segment was lost once and arrives one retransmission
        /// timeout late.
        retransmitted: bool,
    },
    /// An end closed its writing side (FIN).
    Fin {
        /// The closing end.
        from: SocketAddr,
        /// The end that will read end of stream.
        to: SocketAddr,
        /// When the reader sees end of stream; `None` while a partition
        /// holds it.
        arrival: Option<Duration>,
    },
    /// A connection was reset: both ends fail from now on.
    Reset {
        /// The end whose action or timeout caused it.
        from: SocketAddr,
        /// The other end.
        to: SocketAddr,
        /// Why.
        cause: ResetCause,
    },
    /// A healed partition let held segments through again.
    Released {
        /// The writing end.
        from: SocketAddr,
        /// The reading end.
        to: SocketAddr,
        /// How many segments (a FIN counts as one).
        segments: usize,
    },
    /// A datagram was sent.
    Datagram {
        /// The sending socket.
        from: SocketAddr,
        /// Where it was sent.
        to: SocketAddr,
        /// Its size.
        len: usize,
        /// What became of it.
        fate: DatagramFate,
    },
    /// A partition began while datagrams between its hosts were in flight:
    /// they are gone.
    DatagramsCut {
        /// One side of the partition.
        a: IpAddr,
        /// The other side.
        b: IpAddr,
        /// How many datagrams were lost.
        count: usize,
    },
    /// Traffic between `a` and `b` stops.
    Partition {
        /// One side.
        a: IpAddr,
        /// The other side.
        b: IpAddr,
    },
    /// Traffic between `a` and `b` flows again.
    Heal {
        /// One side.
        a: IpAddr,
        /// The other side.
        b: IpAddr,
    },
}

/// What became of a connection attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectOutcome {
    /// A listener took it: `local` is the client's new address; the
    /// listener can accept it at `server_sees`, and `connect` returns at
    /// `client_sees`.
    Accepted {
        /// The client end's address (an ephemeral port of its host).
        local: SocketAddr,
        /// When the connection reaches the listener's backlog.
        server_sees: Duration,
        /// When the client's `connect` completes.
        client_sees: Duration,
    },
    /// Nothing listens there: `connect` fails at `at` with
    /// `ConnectionRefused`.
    Refused {
        /// When the refusal reaches the client.
        at: Duration,
    },
    /// A partition stands between the hosts: the SYN is retried until it
    /// heals or the connect times out.
    Held,
}

/// Why a connection was reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetCause {
    /// The seeded [`Faults::reset`](super::Faults::reset) probability, drawn
    /// at a write.
    Fault,
    /// The listener was closed before the connection was accepted.
    ListenerClosed,
    /// Data was held by a partition longer than
    /// [`Faults::abort_after`](super::Faults::abort_after): the sender gave
    /// up.
    GaveUp,
}

/// What became of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatagramFate {
    /// It arrives at `arrival`.
    Delivered {
        /// When the receiver can take it.
        arrival: Duration,
    },
    /// It was held back by [`Faults::reorder_delay`](super::Faults) and
    /// arrives at `arrival`, after datagrams sent later.
    Reordered {
        /// When the receiver can take it.
        arrival: Duration,
    },
    /// Lost on the way ([`Faults::loss`](super::Faults::loss)).
    Lost,
    /// Dropped: a partition stands between the hosts.
    Partitioned,
    /// No socket is bound at the destination.
    NoSocket,
    /// The destination socket is connected to another peer and ignores it.
    Filtered,
    /// The destination's receive buffer is full.
    Overflow,
}

/// Seconds with nine decimals: the same text on every machine.
fn time(d: Duration) -> impl fmt::Display {
    struct Time(Duration);
    impl fmt::Display for Time {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}.{:09}s", self.0.as_secs(), self.0.subsec_nanos())
        }
    }
    Time(d)
}

/// An arrival time, or `held` while a partition holds the data.
fn arrival(at: Option<Duration>) -> String {
    at.map_or_else(|| "held".to_string(), |at| format!("at {}", time(at)))
}

impl fmt::Display for NetEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", time(self.at))?;
        match &self.kind {
            NetEventKind::Connect { from, to, outcome } => {
                write!(f, "connect {from} -> {to}: ")?;
                match outcome {
                    ConnectOutcome::Accepted {
                        local,
                        server_sees,
                        client_sees,
                    } => write!(
                        f,
                        "accepted as {local}, server at {}, client at {}",
                        time(*server_sees),
                        time(*client_sees)
                    ),
                    ConnectOutcome::Refused { at } => write!(f, "refused at {}", time(*at)),
                    ConnectOutcome::Held => write!(f, "held by a partition"),
                }
            }
            NetEventKind::ConnectTimedOut { from, to } => {
                write!(f, "connect {from} -> {to}: timed out")
            }
            NetEventKind::Segment {
                from,
                to,
                len,
                arrival: at,
                retransmitted,
            } => {
                let late = if *retransmitted {
                    ", retransmitted"
                } else {
                    ""
                };
                write!(f, "tcp {from} -> {to}: {len} B {}{late}", arrival(*at))
            }
            NetEventKind::Fin {
                from,
                to,
                arrival: at,
            } => write!(f, "tcp {from} -> {to}: fin {}", arrival(*at)),
            NetEventKind::Reset { from, to, cause } => {
                write!(f, "tcp {from} -> {to}: reset ({cause:?})")
            }
            NetEventKind::Released { from, to, segments } => {
                write!(f, "tcp {from} -> {to}: {segments} held segment(s) released")
            }
            NetEventKind::Datagram {
                from,
                to,
                len,
                fate,
            } => {
                write!(f, "udp {from} -> {to}: {len} B ")?;
                match fate {
                    DatagramFate::Delivered { arrival } => write!(f, "at {}", time(*arrival)),
                    DatagramFate::Reordered { arrival } => {
                        write!(f, "reordered, at {}", time(*arrival))
                    }
                    other => write!(f, "{other:?}"),
                }
            }
            NetEventKind::DatagramsCut { a, b, count } => {
                write!(f, "udp {a} <-> {b}: {count} datagram(s) in flight cut")
            }
            NetEventKind::Partition { a, b } => write!(f, "partition {a} <-> {b}"),
            NetEventKind::Heal { a, b } => write!(f, "heal {a} <-> {b}"),
        }
    }
}
