//! [`Faults`]: how unreliable the simulated network is.

use std::time::Duration;

/// The network's behaviour, drawn from the net's seed: one-way latency
/// with jitter, datagram loss and reordering, TCP retransmissions and
/// resets, and how long TCP waits through a partition.
///
/// The defaults are a quiet LAN: 1 ms one way, no jitter, nothing lost,
/// with Linux's TCP timeouts. Change the fields you care about:
///
/// ```
/// use std::time::Duration;
/// use weft_runtime::sim::net::Faults;
///
/// let flaky = Faults {
///     latency: Duration::from_millis(20),
///     jitter: Duration::from_millis(10),
///     loss: 0.05,
///     ..Faults::default()
/// };
/// assert_eq!(flaky.reset, 0.0);
/// ```
///
/// Probabilities below 0 mean never and above 1 always. Every decision
/// draws from the net's [`SimRng`](crate::sim::SimRng) in a fixed order at
/// the moment the packet is sent (see the [module docs](super)), so the
/// same seed and the same schedule give the same decisions.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// The one-way delay every packet takes at least.
    pub latency: Duration,
    /// Up to this much more, drawn uniformly per packet. TCP keeps its
    /// bytes in order whatever the jitter; datagrams overtake each other.
    pub jitter: Duration,
    /// The probability that a datagram is lost. A TCP segment that is
    /// "lost" is retransmitted: it arrives
    /// [`retransmit_timeout`](Faults::retransmit_timeout) late, and the
    /// bytes behind it wait for it.
    pub loss: f64,
    /// The probability that a datagram is held back an extra
    /// [`reorder_delay`](Faults::reorder_delay), so that later ones
    /// overtake it.
    pub reorder: f64,
    /// How long a reordered datagram is held back.
    pub reorder_delay: Duration,
    /// The probability that a TCP write resets its connection: the write
    /// and every later operation on either end fail with
    /// `ConnectionReset`.
    pub reset: f64,
    /// How late a lost TCP segment arrives: Linux's minimum retransmission
    /// timeout, 200 ms, by default.
    pub retransmit_timeout: Duration,
    /// How long `connect` keeps retrying through a partition before it
    /// fails with `TimedOut`: 127 s by default, what Linux's six SYN
    /// retries add up to.
    pub connect_timeout: Duration,
    /// How long written data may be held by a partition before the sender
    /// gives up on the connection (its operations fail with `TimedOut`, the
    /// peer's with `ConnectionReset`): 924.6 s by default, what Linux's
    /// fifteen retransmissions (`tcp_retries2`) add up to.
    pub abort_after: Duration,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            latency: Duration::from_millis(1),
            jitter: Duration::ZERO,
            loss: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::from_millis(10),
            reset: 0.0,
            retransmit_timeout: Duration::from_millis(200),
            connect_timeout: Duration::from_secs(127),
            abort_after: Duration::from_millis(924_600),
        }
    }
}
