//! condition_notify_one and condition_notify_all: round trips through
//! condition variables.
//!
//! Both use two conditions, each with its own lock: `requests`, which the
//! waiters wait on, and `acks`, which the notifying task waits on.
//!
//! notify_one: a producer hands out N tickets one at a time. For each, it
//! adds a ticket to `requests` and calls `notify(1)`; the longest-waiting
//! consumer takes the ticket and acknowledges on `acks`; the producer waits
//! for that acknowledgement before the next ticket. At the end the
//! producer marks `requests` closed and calls `notify_all`. The tickets the
//! consumers took must add up to N.
//!
//! notify_all: a leader runs R rounds. In round r it sets the generation in
//! `requests` to r and calls `notify_all`; each of the W waiters wakes,
//! sees generation r, and acknowledges; the last of them notifies the
//! leader, which waits for all W acknowledgements before the next round.
//! The acknowledgements must reach W × R and each waiter must see all R
//! rounds.
//!
//! ```text
//!   notify_one:  producer ──ticket, notify(1)──▶ one consumer ──ack──▶ producer   (× N)
//!   notify_all:  leader ──generation r, notify_all──▶ W waiters ──W acks──▶ leader (× R)
//! ```

use std::sync::Arc;

use super::{expect_eq, Verified};
use crate::adapters::AsyncCondition;
use crate::runtimes::BenchRuntime;

/// The `requests` value that tells the consumers to stop.
const CLOSED: u64 = u64::MAX;

/// A producer hands `round_trips` tickets to `consumers` consumers, one
/// `notify(1)` and one acknowledgement each, on conditions of type `C`.
///
/// ```
/// use weft_benches::runtimes::{BenchRuntime, Weft};
/// use weft_benches::workloads::condition_notify_one;
///
/// let rt = Weft::new();
/// let verified = rt.block_on(
///     condition_notify_one::<Weft, weft_primitives::Condition<u64>>(&rt, 3, 50),
/// );
/// assert!(verified.is_ok());
/// ```
pub async fn condition_notify_one<R: BenchRuntime, C: AsyncCondition>(
    rt: &R,
    consumers: u64,
    round_trips: u64,
) -> Verified {
    let requests = Arc::new(C::new(0));
    let acks = Arc::new(C::new(0));
    let handles: Vec<_> = (0..consumers)
        .map(|_| {
            let (requests, acks) = (requests.clone(), acks.clone());
            rt.spawn(async move {
                let mut taken = 0;
                loop {
                    let ticket = requests
                        .wait_then(
                            |tickets| *tickets > 0,
                            |tickets| match *tickets {
                                CLOSED => false,
                                _ => {
                                    *tickets -= 1;
                                    true
                                }
                            },
                        )
                        .await;
                    if !ticket {
                        return taken;
                    }
                    taken += 1;
                    acks.update(|acked| *acked += 1).await;
                    acks.notify_one();
                }
            })
        })
        .collect();
    for _ in 0..round_trips {
        requests.update(|tickets| *tickets += 1).await;
        requests.notify_one();
        acks.wait_then(|acked| *acked > 0, |acked| *acked -= 1)
            .await;
    }
    requests.update(|tickets| *tickets = CLOSED).await;
    requests.notify_all();
    let mut taken = 0;
    for handle in handles {
        taken += handle.await;
    }
    expect_eq("tickets taken", round_trips, taken)
}

/// A leader wakes `waiters` waiters with `notify_all` for `rounds` rounds,
/// on conditions of type `C`.
///
/// ```
/// use weft_benches::adapters::NotifyCondition;
/// use weft_benches::runtimes::{BenchRuntime, Tokio};
/// use weft_benches::workloads::condition_notify_all;
///
/// let rt = Tokio::new();
/// let verified = rt.block_on(condition_notify_all::<Tokio, NotifyCondition>(&rt, 5, 20));
/// assert!(verified.is_ok());
/// ```
pub async fn condition_notify_all<R: BenchRuntime, C: AsyncCondition>(
    rt: &R,
    waiters: u64,
    rounds: u64,
) -> Verified {
    let generation = Arc::new(C::new(0));
    let acks = Arc::new(C::new(0));
    let handles: Vec<_> = (0..waiters)
        .map(|_| {
            let (generation, acks) = (generation.clone(), acks.clone());
            rt.spawn(async move {
                let mut seen = 0;
                for round in 1..=rounds {
                    generation.wait_then(move |g| *g >= round, |_| ()).await;
                    seen += 1;
                    let acked = acks
                        .update(|acked| {
                            *acked += 1;
                            *acked
                        })
                        .await;
                    if acked == waiters * round {
                        acks.notify_one();
                    }
                }
                seen
            })
        })
        .collect();
    for round in 1..=rounds {
        generation.update(move |g| *g = round).await;
        generation.notify_all();
        let all_acked = waiters * round;
        acks.wait_then(move |acked| *acked == all_acked, |_| ())
            .await;
    }
    let mut seen = 0;
    for handle in handles {
        seen += handle.await;
    }
    expect_eq("rounds seen by the waiters", waiters * rounds, seen)?;
    let acked = acks.update(|acked| *acked).await;
    expect_eq("acknowledgements", waiters * rounds, acked)
}
