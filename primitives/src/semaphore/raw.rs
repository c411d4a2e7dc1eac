//! The algorithm of the crate's fair semaphore, apart from its API: a count
//! of permits, a FIFO of waiting acquires, and the rules that hand permits
//! from one to the other. [`Semaphore`](crate::Semaphore) wraps it in
//! permit guards and futures; [`Mutex`](crate::Mutex) is this with one
//! permit next to the data it protects.
//!
//! # The state word
//!
//! The whole fast path lives in one atomic word:
//!
//! ```text
//!   state: AtomicUsize
//!   ┌─────────────────────────────────────┬────────┬────────┐
//!   │ available permits                   │ CLOSED │ QUEUED │
//!   └─────────────────────────────────────┴────────┴────────┘
//!     all higher bits                       bit 1    bit 0
//! ```
//!
//! * An acquire with `QUEUED` clear and enough permits subtracts them with one
//!   compare-and-swap: no lock, no allocation.
//! * A release with `QUEUED` clear adds its permits with one compare-and-swap.
//! * Everything else (not enough permits, waiters queued, closing) takes the
//!   slow path: the `facade::Mutex` around a `WaiterQueue`.
//!
//! `QUEUED` is set, under the lock, exactly while the queue holds waiters,
//! and while it is set the atomic count is zero: every permit that comes
//! back is handed straight to the waiters at the head of the queue instead of
//! going into the count. So a fresh acquirer cannot *barge*: it finds no
//! permits and `QUEUED` set, and queues up behind the others.
//!
//! ```text
//!   queue before            release(3) hands out           queue after
//!   A wants 2, has 1   ───▶ 1 to A: complete, woken
//!   B wants 4, has 0   ───▶ 2 to B: still short        ───▶ B wants 4, has 2 (head)
//!   C wants 1, has 0        nothing left               ───▶ C wants 1, has 0
//! ```
//!
//! A waiter for several permits at the head *accumulates* partial grants
//! until it has all it asked for; the waiters behind it wait even if they
//! asked for fewer permits than are trickling in. That is what makes the
//! semaphore fair (first-in, first-out), like asyncio's since Python 3.11
//! and tokio's.
//!
//! # Telling a waiter it is done, without the lock
//!
//! Each queued acquire draws a *ticket*, numbered in arrival order. When the
//! head of the queue has all it asked for, the granter frees its slot and
//! stores `served = its ticket + 1`. Since grants go strictly front to back
//! and a cancelled waiter leaves the queue, every waiter with a smaller
//! ticket is already gone, so one number says to every waiter whether it is
//! done:
//!
//! ```text
//!   served = 8      queue: [ #8 wants 1 ] ⇄ [ #9 wants 2 ] ⇄ [ #11 wants 1 ]
//!   release(1) ──▶  #8 granted, slot freed, served = 9
//!   #8 polled  ──▶  8 < served: done (one atomic load, no lock)
//! ```
//!
//! So a woken waiter does not take the lock to learn its fate or to free its
//! slot: the granter already did both under the lock it held anyway. This is
//! the crate's [waiting protocol](crate::waiter_queue) with its completion
//! without the lock; `close`, which fails every waiter, grants through the
//! waiters' slots instead.
//!
//! Every successful compare-and-swap is `AcqRel`, and `served` is stored
//! with `Release` and loaded with `Acquire`, so whatever a task wrote before
//! releasing permits is visible to the task that acquires them next (the
//! [`Mutex`](crate::Mutex) relies on it).
//!
//! # Cancel safety
//!
//! An acquire future that is dropped while it owns a slot
//! ([`AcquireState::cancel`]) checks its ticket first:
//!
//! * served (its ticket is below `served`): its slot is gone already, and
//!   the permits it was granted go back through the release path, to the
//!   next waiter, which is woken;
//! * otherwise it cancels its slot (step 4 of the protocol): a waiter still
//!   queued hands on the permits it had gathered as the head, and one that
//!   [`close`](RawSemaphore::close) granted its failure has none left
//!   (`close` took them back).

use std::fmt;
use std::mem;
use std::task::{Context, Poll, Waker};

use super::error::{AcquireError, TryAcquireError};
use crate::facade::atomic::{AtomicU64, AtomicUsize, Ordering};
use crate::facade::Mutex;
use crate::waiter_queue::{FirstPoll, WaitState, WaiterKey, WaiterQueue};
use crate::wake_list::WakeList;

/// Set while the waiter queue is not empty; fresh acquirers must then queue.
const QUEUED: usize = 0b01;
/// Set once [`RawSemaphore::close`] ran; acquires fail from then on.
const CLOSED: usize = 0b10;
/// The permit count sits above the two flag bits.
const PERMIT_SHIFT: u32 = 2;

/// A fair counting semaphore without guards: whoever takes permits gives
/// them back with [`add_permits`](Self::add_permits).
pub(crate) struct RawSemaphore {
    /// Available permits and the `QUEUED` / `CLOSED` flags; see module docs.
    state: AtomicUsize,
    /// Queued acquires with a ticket below this have all their permits and
    /// have left the queue; written under the `waiters` lock.
    served: AtomicU64,
    /// The slow path: waiters in arrival order.
    waiters: Mutex<Waiters>,
}

/// The queue behind the semaphore's lock.
#[derive(Debug, Default)]
struct Waiters {
    queue: WaiterQueue<Waiter>,
    /// The ticket the next queued acquire draws.
    next_ticket: u64,
}

/// What the semaphore knows about one queued acquire.
#[derive(Debug)]
struct Waiter {
    /// Permits the acquire asked for.
    wanted: usize,
    /// Permits handed to it so far, as the head of the queue.
    granted: usize,
    /// Its place in arrival order; see `served`.
    ticket: u64,
}

/// A queued acquire's claim: its slot and its ticket.
#[derive(Debug, Clone, Copy)]
struct Ticket {
    key: WaiterKey,
    number: u64,
}

impl RawSemaphore {
    /// The largest number of permits a semaphore can hold.
    pub(crate) const MAX_PERMITS: usize = usize::MAX >> PERMIT_SHIFT;

    /// A semaphore with `permits` available permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS).
    pub(crate) fn new(permits: usize) -> Self {
        assert!(
            permits <= Self::MAX_PERMITS,
            "a semaphore holds at most {} permits, {permits} were asked for",
            Self::MAX_PERMITS
        );
        Self {
            state: AtomicUsize::new(permits << PERMIT_SHIFT),
            served: AtomicU64::new(0),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    /// Number of permits free right now (zero while tasks are waiting).
    pub(crate) fn available_permits(&self) -> usize {
        self.state.load(Ordering::Acquire) >> PERMIT_SHIFT
    }

    /// Whether an acquire would not succeed at once: no permit is free,
    /// tasks are already waiting, or the semaphore is closed.
    pub(crate) fn locked(&self) -> bool {
        let state = self.state.load(Ordering::Acquire);
        state & (QUEUED | CLOSED) != 0 || state >> PERMIT_SHIFT == 0
    }

    /// Whether [`close`](Self::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Gives back (or adds) `permits` permits, handing them to waiting tasks
    /// first.
    ///
    /// # Panics
    ///
    /// If the count would exceed [`MAX_PERMITS`](Self::MAX_PERMITS).
    pub(crate) fn add_permits(&self, permits: usize) {
        if permits != 0 && !self.add_to_count(permits, true) {
            self.release_to_waiters(permits);
        }
    }

    /// Fails every waiting acquire, and every later one. Permits already
    /// taken stay valid and still come back.
    pub(crate) fn close(&self) {
        let mut wakeups = WakeList::new();
        {
            let mut waiters = self.waiters.lock();
            self.state.fetch_or(CLOSED, Ordering::AcqRel);
            // Every waiter is granted its failure: a slot granted but not
            // served was closed. The permits gathered by the head come back.
            let queue = &mut waiters.queue;
            let mut returned = 0;
            while let Some(waiter) = queue.grant_front(&mut wakeups) {
                returned += mem::take(&mut waiter.granted);
            }
            // The queue is now empty: this puts partial grants back into the
            // count and clears `QUEUED`.
            self.grant_locked(returned, queue, &mut wakeups);
        }
        wakeups.wake_all();
    }

    /// Fast path of every acquire: one compare-and-swap, no lock. On success
    /// the caller owns `permits` permits and must give them back.
    pub(crate) fn try_take(&self, permits: usize) -> Result<(), TryAcquireError> {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if permits == 0 {
                return Ok(());
            }
            if state & QUEUED != 0 || state >> PERMIT_SHIFT < permits {
                return Err(TryAcquireError::NoPermits);
            }
            match self.state.compare_exchange_weak(
                state,
                state - (permits << PERMIT_SHIFT),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => state = actual,
            }
        }
    }

    /// Slow path of a first poll: under the lock, take the permits if they
    /// are there and nobody waits, or else join the queue (taking whatever
    /// permits are free as a partial grant when becoming its head).
    fn take_or_enqueue(
        &self,
        permits: usize,
        waker: &Waker,
    ) -> FirstPoll<Result<(), AcquireError>, Ticket> {
        let mut waiters = self.waiters.lock();
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state & CLOSED != 0 {
                return FirstPoll::Ready(Err(AcquireError(())));
            }
            let available = state >> PERMIT_SHIFT;
            debug_assert!(state & QUEUED == 0 || available == 0);
            let can_take = state & QUEUED == 0 && available >= permits;
            let next = if can_take {
                state - (permits << PERMIT_SHIFT)
            } else {
                QUEUED
            };
            // Fast-path acquirers and releasers may still race us until
            // `QUEUED` is set, hence the compare-and-swap even under the lock.
            // Once it is set (and the count is zero), only holders of this
            // lock write the word: joining an existing queue changes nothing
            // and needs no swap.
            let swapped = if next == state {
                Ok(state)
            } else {
                self.state
                    .compare_exchange(state, next, Ordering::AcqRel, Ordering::Acquire)
            };
            match swapped {
                Ok(_) if can_take => return FirstPoll::Ready(Ok(())),
                Ok(_) => {
                    let number = waiters.next_ticket;
                    waiters.next_ticket += 1;
                    let waiter = Waiter {
                        wanted: permits,
                        granted: available,
                        ticket: number,
                    };
                    let key = waiters.queue.push_back(waiter, waker);
                    return FirstPoll::Queued(Ticket { key, number });
                }
                Err(actual) => state = actual,
            }
        }
    }

    /// Whether the acquire holding ticket `number` has all its permits.
    fn is_served(&self, number: u64) -> bool {
        number < self.served.load(Ordering::Acquire)
    }

    /// Later polls: done once served (no lock needed to see it) or failed by
    /// `close`.
    fn poll_waiter(&self, ticket: Ticket, waker: &Waker) -> Poll<Result<(), AcquireError>> {
        if self.is_served(ticket.number) {
            return Poll::Ready(Ok(()));
        }
        let mut waiters = self.waiters.lock();
        // `served` only changes under this lock: not served here, the slot is
        // still ours. A slot granted but not served was closed.
        if self.is_served(ticket.number) {
            return Poll::Ready(Ok(()));
        }
        let closed = waiters.queue.poll(ticket.key, waker);
        closed.map(|_| Err(AcquireError(())))
    }

    /// A waiting future for `permits` permits was dropped: free its slot and
    /// pass on whatever it was granted and will never use.
    fn cancel_waiter(&self, ticket: Ticket, permits: usize) {
        let mut wakeups = WakeList::new();
        {
            let mut waiters = self.waiters.lock();
            if self.is_served(ticket.number) {
                // Granted in full, but never polled again: give them back.
                drop(waiters);
                self.add_permits(permits);
                return;
            }
            // Still queued: the permits it gathered as the head go on. Closed:
            // `close` took those back already, and none are left.
            let unused = waiters.queue.cancel(ticket.key).granted;
            // Also run when nothing was granted: if that waiter was the last
            // one queued, this clears `QUEUED` again.
            self.grant_locked(unused, &mut waiters.queue, &mut wakeups);
        }
        wakeups.wake_all();
    }

    /// Slow path of a release: waiters are (or were just) queued.
    fn release_to_waiters(&self, permits: usize) {
        let mut wakeups = WakeList::new();
        {
            let mut waiters = self.waiters.lock();
            self.grant_locked(permits, &mut waiters.queue, &mut wakeups);
        }
        wakeups.wake_all();
    }

    /// Hands `permits` to the waiters at the head of the queue, in order,
    /// freeing the slots and collecting the wakers of those that now have all
    /// they asked for. What is left once the queue is empty goes back into
    /// the count, and `QUEUED` is cleared.
    fn grant_locked(
        &self,
        mut permits: usize,
        waiters: &mut WaiterQueue<Waiter>,
        wakeups: &mut WakeList,
    ) {
        while let Some(head) = waiters.front_mut() {
            if permits == 0 {
                return;
            }
            let share = permits.min(head.wanted - head.granted);
            head.granted += share;
            permits -= share;
            if head.granted < head.wanted {
                // The head still needs more: everyone behind it waits too.
                return;
            }
            let ticket = head.ticket;
            // Served in full: its slot is freed here, and `served` tells it.
            waiters.grant_front_and_free(wakeups);
            // Everyone queued before it was served or left: one store tells
            // them all, and this waiter, that they are done.
            self.served.store(ticket + 1, Ordering::Release);
        }
        // Nobody waits any more. `QUEUED` only changes under the lock we
        // hold, but fast-path releasers can still add permits concurrently.
        self.add_to_count(permits, false);
    }

    /// Puts `permits` into the count and clears `QUEUED`, with a
    /// compare-and-swap loop that races fast-path acquirers and releasers.
    /// With `unless_queued`, gives up (returning `false`, nothing changed)
    /// once it sees `QUEUED` set: the permits then belong to the waiters.
    #[inline]
    fn add_to_count(&self, permits: usize, unless_queued: bool) -> bool {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if unless_queued && state & QUEUED != 0 {
                return false;
            }
            match self.state.compare_exchange_weak(
                state,
                with_permits_added(state, permits),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
    }
}

/// `state` with `permits` more permits and `QUEUED` cleared.
fn with_permits_added(state: usize, permits: usize) -> usize {
    let available = state >> PERMIT_SHIFT;
    assert!(
        permits <= RawSemaphore::MAX_PERMITS - available,
        "adding {permits} permits to {available} would exceed Semaphore::MAX_PERMITS"
    );
    (state & !QUEUED) + (permits << PERMIT_SHIFT)
}

impl fmt::Debug for RawSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Ordering::Acquire);
        f.debug_struct("Semaphore")
            .field("available_permits", &(state >> PERMIT_SHIFT))
            .field("waiters_queued", &(state & QUEUED != 0))
            .field("closed", &(state & CLOSED != 0))
            .finish()
    }
}

/// The executor-facing half of every acquire future in this crate (the
/// semaphore's, and the mutex's lock futures): how many permits, and the
/// waiter slot if any. It does not hold the semaphore, so borrowed and owned
/// futures share it; the caller passes the same semaphore to every call.
#[derive(Debug)]
pub(crate) struct AcquireState {
    permits: usize,
    /// Queued, or served and not yet polled: the ticket tells which.
    wait: WaitState<Ticket>,
}

impl AcquireState {
    /// A request for `permits` permits.
    pub(crate) fn new(permits: usize) -> Self {
        assert!(
            permits <= RawSemaphore::MAX_PERMITS,
            "cannot acquire {permits} permits: a semaphore never holds more than {}",
            RawSemaphore::MAX_PERMITS
        );
        Self {
            permits,
            wait: WaitState::Idle,
        }
    }

    /// Number of permits requested.
    pub(crate) fn permits(&self) -> usize {
        self.permits
    }

    /// Polls the request; on `Ready(Ok)` the caller owns the permits.
    pub(crate) fn poll_acquire(
        &mut self,
        semaphore: &RawSemaphore,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), AcquireError>> {
        let (permits, waker) = (self.permits, cx.waker());
        self.wait.poll(
            || match semaphore.try_take(permits) {
                Ok(()) => FirstPoll::Ready(Ok(())),
                Err(TryAcquireError::Closed) => FirstPoll::Ready(Err(AcquireError(()))),
                Err(TryAcquireError::NoPermits) => semaphore.take_or_enqueue(permits, waker),
            },
            |ticket| semaphore.poll_waiter(ticket, waker),
        )
    }

    /// Withdraws the request (the future is being dropped), handing on any
    /// permits it was granted but never returned. It runs on every drop, so
    /// the common "nothing to undo" case is inlined.
    #[inline]
    pub(crate) fn cancel(&mut self, semaphore: &RawSemaphore) {
        if let Some(ticket) = self.wait.cancel() {
            semaphore.cancel_waiter(ticket, self.permits);
        }
    }
}

#[cfg(test)]
mod tests;
