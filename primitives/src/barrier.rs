//! [`Barrier`]: a meeting point for a fixed number of tasks, as in asyncio
//! (Python 3.11).
//!
//! A barrier for `parties` tasks holds every task that calls
//! [`Barrier::wait`] until `parties` of them are waiting, then releases them
//! all at once and starts over empty for the next cycle. Each released task
//! learns its arrival index in `0..parties` (asyncio's return value), and
//! exactly one of them, the one whose arrival filled the barrier, is the
//! *leader* (handy for "one task does the per-cycle bookkeeping").
//!
//! [`Barrier::abort`] breaks the barrier: current and future waits fail with
//! [`BrokenBarrierError`] until [`Barrier::reset`], which fails the current
//! waiters too and returns the barrier to empty and whole.
//!
//! # Algorithm
//!
//! Waiting parties queue in arrival order, by the crate's one waiting
//! protocol (`waiter_queue.rs`). The party that arrives when `parties - 1`
//! are already waiting does not queue: it grants the others, writing each
//! one's outcome (its index) into its slot, wakes them after unlocking, and
//! returns at once as the leader with index `parties - 1`:
//!
//! ```text
//!   parties = 3
//!   A arrives: queue [A]            B arrives: queue [A, B]
//!   C arrives: 2 + 1 = 3 ─▶ A gets index 0, B index 1 (unlinked, woken)
//!              C returns index 2, leader;   queue [] ─▶ next cycle
//! ```
//!
//! Because each released party's result is stored in its own slot, the next
//! cycle can start filling while the previous one's parties are still waking
//! up. asyncio makes new arrivals wait until the previous cycle has drained;
//! the results every task sees are the same, we just need no draining state.
//!
//! # Cancel safety
//!
//! Indices are handed out when the barrier fills, not on arrival, so parties
//! that leave early cannot leave gaps or duplicates:
//!
//! * A party dropped while still waiting is unlinked and no longer counted:
//!   the barrier then needs one more arrival to fill.
//! * A party released in a cycle and dropped before it ran only frees its
//!   slot; the others' outcomes were written already, so nobody is disturbed
//!   (tokio's `Barrier` is not cancel-safe in this sense).

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::facade::Mutex;
use crate::waiter_queue::{FirstPoll, WaitState, WaiterQueue};
use crate::wake_list::WakeList;

/// What a waiting party gets: `None` while it waits, then its outcome, written
/// by whoever released it (the filling party, `reset` or `abort`).
type Outcome = Option<Result<BarrierWaitResult, BrokenBarrierError>>;

/// An asyncio-style barrier for a fixed number of parties, reusable across
/// cycles and cancel-safe.
///
/// ```
/// use std::sync::Arc;
/// use weft_primitives::Barrier;
///
/// let barrier = Arc::new(Barrier::new(3));
/// let parties: Vec<_> = (0..3)
///     .map(|_| {
///         let barrier = barrier.clone();
///         std::thread::spawn(move || futures::executor::block_on(barrier.wait()))
///     })
///     .collect();
/// let mut indices: Vec<usize> = parties
///     .into_iter()
///     .map(|party| party.join().unwrap().unwrap().index())
///     .collect();
/// indices.sort();
/// assert_eq!(indices, [0, 1, 2]);
/// ```
pub struct Barrier {
    parties: usize,
    state: Mutex<State>,
}

/// Everything the barrier's lock protects.
struct State {
    /// Linked slots are the parties of the cycle now filling; unlinked slots
    /// hold the outcome of a party that has not run since it was released.
    waiters: WaiterQueue<Outcome>,
    broken: bool,
}

impl Barrier {
    /// A barrier that releases its waiters each time `parties` tasks wait.
    ///
    /// # Panics
    ///
    /// If `parties` is 0: such a barrier could never be filled (asyncio raises
    /// `ValueError` for it). A barrier for one party releases every waiter at
    /// once.
    ///
    /// ```
    /// let barrier = weft_primitives::Barrier::new(2);
    /// assert_eq!(barrier.parties(), 2);
    /// ```
    pub fn new(parties: usize) -> Self {
        assert!(parties > 0, "Barrier::new: parties must be at least 1");
        Self {
            parties,
            state: Mutex::new(State {
                waiters: WaiterQueue::new(),
                broken: false,
            }),
        }
    }

    /// Waits until `parties` tasks are waiting, then all of them complete.
    ///
    /// Fails with [`BrokenBarrierError`] if the barrier is broken (see
    /// [`abort`](Barrier::abort)) or is reset while this task waits.
    ///
    /// The future is cancel-safe: dropped before the barrier fills, it is no
    /// longer counted; dropped after being released, it disturbs nobody.
    ///
    /// ```
    /// let barrier = weft_primitives::Barrier::new(1);
    /// let result = futures::executor::block_on(barrier.wait()).unwrap();
    /// assert_eq!(result.index(), 0);
    /// assert!(result.is_leader());
    /// ```
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            wait: WaitState::Idle,
        }
    }

    /// Returns the barrier to its empty, unbroken state. The tasks waiting
    /// now fail with [`BrokenBarrierError`].
    ///
    /// ```
    /// let barrier = weft_primitives::Barrier::new(2);
    /// barrier.abort();
    /// barrier.reset();
    /// assert!(!barrier.broken());
    /// ```
    pub fn reset(&self) {
        self.fail_waiters(false);
    }

    /// Breaks the barrier: the tasks waiting now and every later
    /// [`wait`](Barrier::wait) fail with [`BrokenBarrierError`] until
    /// [`reset`](Barrier::reset).
    ///
    /// ```
    /// let barrier = weft_primitives::Barrier::new(2);
    /// barrier.abort();
    /// assert!(barrier.broken());
    /// assert!(futures::executor::block_on(barrier.wait()).is_err());
    /// ```
    pub fn abort(&self) {
        self.fail_waiters(true);
    }

    /// The number of tasks needed to pass the barrier.
    ///
    /// ```
    /// assert_eq!(weft_primitives::Barrier::new(4).parties(), 4);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// The number of tasks waiting in the cycle now filling.
    ///
    /// ```
    /// assert_eq!(weft_primitives::Barrier::new(4).n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.state.lock().waiters.len()
    }

    /// Whether the barrier is broken ([`abort`](Barrier::abort) was called
    /// and no [`reset`](Barrier::reset) since).
    ///
    /// ```
    /// assert!(!weft_primitives::Barrier::new(4).broken());
    /// ```
    pub fn broken(&self) -> bool {
        self.state.lock().broken
    }

    /// Releases every waiting party with an error and leaves the barrier
    /// `broken` or whole: the shared step of `reset` and `abort`.
    fn fail_waiters(&self, broken: bool) {
        let mut wakes = WakeList::new();
        {
            let mut state = self.state.lock();
            state.broken = broken;
            while let Some(outcome) = state.waiters.grant_front(&mut wakes) {
                *outcome = Some(Err(BrokenBarrierError));
            }
        }
        wakes.wake_all();
    }

    /// First poll of a wait: fails on a broken barrier, queues while the
    /// barrier is not full, and otherwise releases the waiting parties in
    /// arrival order and leads the cycle.
    fn arrive(&self, waker: &Waker) -> FirstPoll<Result<BarrierWaitResult, BrokenBarrierError>> {
        let mut wakes = WakeList::new();
        let leader = {
            let mut state = self.state.lock();
            if state.broken {
                return FirstPoll::Ready(Err(BrokenBarrierError));
            }
            if state.waiters.len() + 1 < self.parties {
                return FirstPoll::Queued(state.waiters.push_back(None, waker));
            }
            let mut index = 0;
            while let Some(outcome) = state.waiters.grant_front(&mut wakes) {
                *outcome = Some(Ok(BarrierWaitResult {
                    index,
                    leader: false,
                }));
                index += 1;
            }
            BarrierWaitResult {
                index,
                leader: true,
            }
        };
        wakes.wake_all();
        FirstPoll::Ready(Ok(leader))
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &state.waiters.len())
            .field("broken", &state.broken)
            .finish()
    }
}

/// What a task learns when it passes a [`Barrier`].
///
/// ```
/// let barrier = weft_primitives::Barrier::new(1);
/// let passed = futures::executor::block_on(barrier.wait()).unwrap();
/// assert_eq!((passed.index(), passed.is_leader()), (0, true));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult {
    index: usize,
    leader: bool,
}

impl BarrierWaitResult {
    /// This task's arrival order in its cycle, in `0..parties`, unique within
    /// the cycle (asyncio's return value). Parties that left before the
    /// barrier filled are not counted.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Whether this task is the cycle's leader: the one whose arrival filled
    /// the barrier (index `parties - 1`). Exactly one per cycle.
    pub fn is_leader(&self) -> bool {
        self.leader
    }
}

/// The barrier was broken by [`Barrier::abort`], or reset by
/// [`Barrier::reset`] while the task waited.
///
/// ```
/// let barrier = weft_primitives::Barrier::new(2);
/// barrier.abort();
/// let error = futures::executor::block_on(barrier.wait()).unwrap_err();
/// assert_eq!(error.to_string(), "barrier is broken or was reset while waiting");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BrokenBarrierError;

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("barrier is broken or was reset while waiting")
    }
}

impl Error for BrokenBarrierError {}

/// Future returned by [`Barrier::wait`].
///
/// ```
/// use weft_primitives::{Barrier, BarrierWait};
///
/// let barrier = Barrier::new(1);
/// let wait: BarrierWait<'_> = barrier.wait();
/// assert!(futures::executor::block_on(wait).is_ok());
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    wait: WaitState,
}

impl Future for BarrierWait<'_> {
    type Output = Result<BarrierWaitResult, BrokenBarrierError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let (barrier, waker) = (this.barrier, cx.waker());
        this.wait.poll(
            || barrier.arrive(waker),
            |key| {
                let outcome = barrier.state.lock().waiters.poll(key, waker);
                outcome.map(|outcome| outcome.expect("a released barrier party holds its outcome"))
            },
        )
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.wait.cancel() {
            // Waiting: we stop counting. Released: the outcome goes unread,
            // which concerns nobody else.
            self.barrier.state.lock().waiters.cancel(key);
        }
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait")
            .field("parties", &self.barrier.parties)
            .field("queued", &self.wait.is_waiting())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker;

    #[test]
    fn indices_follow_arrival_order_of_the_parties_still_waiting() {
        let barrier = Barrier::new(3);
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut first = barrier.wait();
        let mut gone = barrier.wait();
        let mut second = barrier.wait();
        assert!(Pin::new(&mut first).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut gone).poll(&mut cx).is_pending());
        // One of the two leaves: it neither counts nor keeps an index.
        drop(gone);
        assert!(Pin::new(&mut second).poll(&mut cx).is_pending());
        assert_eq!(barrier.n_waiting(), 2);
        let leader = futures::executor::block_on(barrier.wait()).unwrap();
        assert_eq!((leader.index(), leader.is_leader()), (2, true));
        let first = Pin::new(&mut first).poll(&mut cx);
        let second = Pin::new(&mut second).poll(&mut cx);
        assert_eq!(
            (first, second),
            (
                Poll::Ready(Ok(BarrierWaitResult {
                    index: 0,
                    leader: false
                })),
                Poll::Ready(Ok(BarrierWaitResult {
                    index: 1,
                    leader: false
                }))
            )
        );
        assert_eq!(barrier.n_waiting(), 0);
    }
}
