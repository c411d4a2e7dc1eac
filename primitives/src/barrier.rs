//! [`Barrier`]: a meeting point for a fixed number of tasks, as in asyncio
//! (Python 3.11 to 3.13).
//!
//! A barrier for `parties` tasks holds every task that calls
//! [`Barrier::wait`] until `parties` of them are waiting, then releases them
//! all at once. Each released task learns its arrival index in `0..parties`
//! (asyncio's return value), and exactly one of them, the one whose arrival
//! filled the barrier, is the *leader* (handy for "one task does the
//! per-cycle bookkeeping").
//!
//! [`Barrier::abort`] breaks the barrier: current and future waits fail with
//! [`BrokenBarrierError`] until [`Barrier::reset`], which fails the current
//! waiters too and returns the barrier to whole.
//!
//! # Phases
//!
//! Like asyncio's, the barrier is in one of four phases:
//!
//! ```text
//!             last party arrives                  last released party resumes
//!   Filling ─────────────────────────▶ Draining ─────────────────────────────▶ Filling
//!      │ reset() with parties waiting      │ reset()
//!      ▼                                   ▼
//!   Resetting ──── last failed or released party resumes ────────────────────▶ Filling
//!   abort() from any phase ──▶ Broken ──── reset() ──▶ Resetting or Filling
//! ```
//!
//! * **Filling**: arriving parties queue in arrival order, by the crate's
//!   one waiting protocol (`waiter_queue.rs`). The party that arrives when
//!   `parties - 1` are waiting does not queue: it grants the others their
//!   index, wakes them after unlocking, and returns at once as the leader.
//! * **Draining**: the released parties have not all resumed (been polled
//!   again) yet. A task that arrives now, for the next cycle, waits until
//!   every one of them has, so the cycles never mix. `reset` or `abort` now
//!   fail the released parties that have not resumed yet.
//! * **Resetting**: `reset` failed the waiting parties, and some have not
//!   resumed yet; arrivals wait as while draining.
//! * **Broken**: every wait fails at once until `reset`.
//!
//! ```text
//!   parties = 3
//!   A, B arrive: queue [A, B]            C arrives: A gets index 0, B index 1,
//!   C returns index 2, leader            both are woken: Draining (2 to resume)
//!   C waits again: it queues, blocked    A resumes: Ok(0);  B resumes: Ok(1)
//!   B was the last: Filling again, and C is woken to arrive afresh
//! ```
//!
//! A task blocked behind a draining cycle is not part of the barrier yet:
//! when the cycle has left it is woken and arrives afresh on its next poll,
//! as asyncio's task does when it next runs. So a `reset` made by the last
//! party to leave a cycle fails none of the tasks that were waiting for the
//! next one (CPython's `test_reset_barrier_while_tasks_draining`).
//!
//! A released party that is neither polled nor dropped holds the next cycle
//! back, as an asyncio task that never runs again would.
//!
//! # Cancel safety
//!
//! Indices are handed out when the barrier fills, not on arrival, so parties
//! that leave early cannot leave gaps or duplicates (asyncio counts arrivals,
//! so there two parties of a cycle may share an index after a cancellation):
//!
//! * A party dropped while still waiting is unlinked and no longer counted:
//!   the barrier then needs one more arrival to fill.
//! * A party released (or failed) and dropped before it resumed counts as
//!   having left: if it was the last, the cycle has drained and the blocked
//!   tasks are woken.
//! * A blocked task dropped before or after it was woken leaves nothing:
//!   being woken to arrive afresh is not a grant anyone else needs.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

use crate::facade::Mutex;
use crate::waiter_queue::{FirstPoll, WaitState, WaiterKey, WaiterQueue};
use crate::wake_list::WakeList;

/// A waiting task's slot: queued, then what it was granted.
#[derive(Debug, Clone, Copy)]
enum Party {
    /// In the queue: a party of the filling cycle, or a task blocked until
    /// the draining (or resetting) cycle has left.
    Queued,
    /// Released when its cycle filled: it passes with this result if the
    /// cycle is still draining when it resumes, and fails if a `reset` or
    /// `abort` came first. Counted in `State::unresumed`.
    Released(BarrierWaitResult),
    /// Failed by `reset` or `abort` while it waited in the filling cycle.
    /// Counted in `State::unresumed`.
    Failed,
    /// Was blocked; the cycle it waited behind has left (or the barrier
    /// broke): it arrives afresh on its next poll.
    Admitted,
}

/// asyncio's barrier states; see the [module docs](self#phases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Filling,
    Draining,
    Resetting,
    Broken,
}

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
    /// While `Filling`: the parties of the cycle. While `Draining` or
    /// `Resetting`: the tasks blocked until that cycle has left. Empty while
    /// `Broken`. Unlinked slots belong to granted parties not yet resumed.
    waiters: WaiterQueue<Party>,
    /// Released or failed parties that have not resumed (nor been dropped)
    /// yet: the cycle has left when this is back to zero.
    unresumed: usize,
    /// Never `Filling` while `unresumed > 0`.
    phase: Phase,
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
                unresumed: 0,
                phase: Phase::Filling,
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

    /// Returns the barrier to its unbroken state. The tasks waiting in the
    /// filling cycle fail with [`BrokenBarrierError`], and so do the parties
    /// released by the last cycle that have not resumed yet; tasks that
    /// arrive before all of those have resumed wait until they have.
    ///
    /// ```
    /// let barrier = weft_primitives::Barrier::new(2);
    /// barrier.abort();
    /// barrier.reset();
    /// assert!(!barrier.broken());
    /// ```
    pub fn reset(&self) {
        self.change_phase(|state, wakes| {
            if state.phase == Phase::Filling {
                state.fail_queued_parties(wakes);
            }
            // Otherwise the queue holds blocked tasks (or nobody): they keep
            // waiting for the cycle to leave.
            state.phase = if state.unresumed > 0 {
                Phase::Resetting
            } else {
                Phase::Filling
            };
        });
    }

    /// Breaks the barrier: the tasks waiting now, the released parties that
    /// have not resumed yet, and every later [`wait`](Barrier::wait) fail
    /// with [`BrokenBarrierError`] until [`reset`](Barrier::reset).
    ///
    /// ```
    /// let barrier = weft_primitives::Barrier::new(2);
    /// barrier.abort();
    /// assert!(barrier.broken());
    /// assert!(futures::executor::block_on(barrier.wait()).is_err());
    /// ```
    pub fn abort(&self) {
        self.change_phase(|state, wakes| {
            match state.phase {
                Phase::Filling => state.fail_queued_parties(wakes),
                // Blocked tasks arrive afresh and find the barrier broken.
                Phase::Draining | Phase::Resetting => state.admit_blocked(wakes),
                Phase::Broken => {}
            }
            state.phase = Phase::Broken;
        });
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
        let state = self.state.lock();
        // Tasks blocked behind a draining cycle are not in the barrier yet.
        match state.phase {
            Phase::Filling => state.waiters.len(),
            Phase::Draining | Phase::Resetting | Phase::Broken => 0,
        }
    }

    /// Whether the barrier is broken ([`abort`](Barrier::abort) was called
    /// and no [`reset`](Barrier::reset) since).
    ///
    /// ```
    /// assert!(!weft_primitives::Barrier::new(4).broken());
    /// ```
    pub fn broken(&self) -> bool {
        self.state.lock().phase == Phase::Broken
    }

    /// Runs `change` under the lock and wakes whom it granted afterwards.
    fn change_phase(&self, change: impl FnOnce(&mut State, &mut WakeList)) {
        let mut wakes = WakeList::new();
        change(&mut self.state.lock(), &mut wakes);
        wakes.wake_all();
    }

    /// First poll of a wait (or the poll after a blocked task was
    /// admitted): fails on a broken barrier, queues while the barrier is
    /// not full or the last cycle has not left, and otherwise releases the
    /// waiting parties in arrival order and leads the cycle.
    fn arrive(&self, waker: &Waker) -> FirstPoll<Resumed> {
        let mut wakes = WakeList::new();
        let leader = {
            let mut state = self.state.lock();
            match state.phase {
                Phase::Broken => return FirstPoll::Ready(Resumed::Left(Err(BrokenBarrierError))),
                Phase::Draining | Phase::Resetting => {
                    return FirstPoll::Queued(state.waiters.push_back(Party::Queued, waker));
                }
                Phase::Filling if state.waiters.len() + 1 < self.parties => {
                    return FirstPoll::Queued(state.waiters.push_back(Party::Queued, waker));
                }
                Phase::Filling => {}
            }
            let mut index = 0;
            while let Some(party) = state.waiters.grant_front(&mut wakes) {
                *party = Party::Released(BarrierWaitResult {
                    index,
                    leader: false,
                });
                index += 1;
            }
            if index > 0 {
                state.unresumed = index;
                state.phase = Phase::Draining;
            }
            BarrierWaitResult {
                index,
                leader: true,
            }
        };
        wakes.wake_all();
        FirstPoll::Ready(Resumed::Left(Ok(leader)))
    }

    /// A later poll of a queued task: pending while queued; once granted,
    /// the party leaves with its outcome, or a blocked task is told to
    /// arrive afresh.
    fn resume(&self, key: WaiterKey, waker: &Waker) -> Poll<Resumed> {
        let mut wakes = WakeList::new();
        let resumed = {
            let mut state = self.state.lock();
            let party = ready!(state.waiters.poll(key, waker));
            // Read before `leave`, which may end the drain.
            let draining = state.phase == Phase::Draining;
            match party {
                Party::Queued => unreachable!("a granted party holds its grant"),
                Party::Admitted => Resumed::Admitted,
                Party::Released(result) if draining => {
                    state.leave(&mut wakes);
                    Resumed::Left(Ok(result))
                }
                Party::Released(_) | Party::Failed => {
                    state.leave(&mut wakes);
                    Resumed::Left(Err(BrokenBarrierError))
                }
            }
        };
        wakes.wake_all();
        Poll::Ready(resumed)
    }
}

/// How a poll of a [`BarrierWait`] ended, when it did not stay pending.
enum Resumed {
    /// The task passed or failed: the future completes with this.
    Left(Result<BarrierWaitResult, BrokenBarrierError>),
    /// The task was blocked and may now arrive afresh.
    Admitted,
}

impl State {
    /// Fails every party of the filling cycle; they count as unresumed.
    fn fail_queued_parties(&mut self, wakes: &mut WakeList) {
        while let Some(party) = self.waiters.grant_front(wakes) {
            *party = Party::Failed;
            self.unresumed += 1;
        }
    }

    /// Wakes every blocked task to arrive afresh.
    fn admit_blocked(&mut self, wakes: &mut WakeList) {
        while let Some(party) = self.waiters.grant_front(wakes) {
            *party = Party::Admitted;
        }
    }

    /// A released or failed party resumed or was dropped. If it was the
    /// last, the cycle has left: the barrier fills again (unless broken) and
    /// the blocked tasks are woken to arrive.
    fn leave(&mut self, wakes: &mut WakeList) {
        self.unresumed -= 1;
        if self.unresumed == 0 && matches!(self.phase, Phase::Draining | Phase::Resetting) {
            self.phase = Phase::Filling;
            self.admit_blocked(wakes);
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("phase", &state.phase)
            .field("queued", &state.waiters.len())
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
        loop {
            let resumed = this
                .wait
                .poll(|| barrier.arrive(waker), |key| barrier.resume(key, waker));
            match ready!(resumed) {
                Resumed::Left(outcome) => return Poll::Ready(outcome),
                // Blocked until the last cycle left: arrive again, exactly
                // like a fresh wait (at most once per poll: a fresh arrival
                // is never admitted at once).
                Resumed::Admitted => this.wait = WaitState::Idle,
            }
        }
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.wait.cancel() {
            let mut wakes = WakeList::new();
            {
                let mut state = self.barrier.state.lock();
                match state.waiters.cancel(key) {
                    // Queued: it stops counting. Admitted: nothing to hand on.
                    Party::Queued | Party::Admitted => {}
                    // Granted and never resumed: it has left all the same.
                    Party::Released(_) | Party::Failed => state.leave(&mut wakes),
                }
            }
            wakes.wake_all();
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
mod tests;
