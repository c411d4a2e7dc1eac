//! event_fanout: one `set` wakes many waiters.
//!
//! W waiter tasks go through R rounds; round r has its own event. A waiter
//! counts itself as arrived, then waits on that round's event. The main
//! task yields until all W have arrived (each is then registered as a
//! waiter: arriving and starting to wait happen in the same poll), sets
//! the event, and moves to the next round. Each waiter returns how many
//! rounds it was released from; the total must be W × R.
//!
//! ```text
//!   round r:  W × (arrived += 1; events[r].wait())   main: yield until arrived = W(r+1);
//!                                                          events[r].set()
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::{expect_eq, Verified};
use crate::adapters::AsyncEvent;
use crate::runtimes::BenchRuntime;

/// `waiters` tasks released by `rounds` events of type `E`.
///
/// ```
/// use weft_benches::runtimes::{BenchRuntime, Weft};
/// use weft_benches::workloads::event_fanout;
///
/// let rt = Weft::new();
/// assert!(rt.block_on(event_fanout::<Weft, weft_primitives::Event>(&rt, 10, 3)).is_ok());
/// ```
pub async fn event_fanout<R: BenchRuntime, E: AsyncEvent>(
    rt: &R,
    waiters: u64,
    rounds: u64,
) -> Verified {
    let events: Arc<Vec<E>> = Arc::new((0..rounds).map(|_| E::new()).collect());
    let arrived = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..waiters)
        .map(|_| {
            let (events, arrived) = (events.clone(), arrived.clone());
            rt.spawn(async move {
                let mut released = 0;
                for event in events.iter() {
                    arrived.fetch_add(1, Ordering::Relaxed);
                    event.wait().await;
                    released += 1;
                }
                released
            })
        })
        .collect();
    for (round, event) in (1..).zip(events.iter()) {
        while arrived.load(Ordering::Relaxed) < waiters * round {
            R::yield_now().await;
        }
        event.set();
    }
    let mut released = 0;
    for handle in handles {
        released += handle.await;
    }
    expect_eq("waiters released", waiters * rounds, released)
}
