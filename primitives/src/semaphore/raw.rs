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
//! `QUEUED` is set, under the lock, exactly while the queue holds waiters
//! or a served waiter has not run yet (see below). While the queue holds
//! waiters the atomic count is zero: every permit that comes back is handed
//! straight to the waiters at the head of the queue instead of going into
//! the count. So a fresh acquirer cannot *barge*: it finds `QUEUED` set and
//! queues up behind the others.
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
//! # A served waiter that has not run yet
//!
//! As in asyncio since Python 3.13 (gh-90155), a waiter that was served but
//! has not run yet (its future not polled since) still counts as waiting:
//! [`locked`](RawSemaphore::locked) stays true, and a fresh acquire queues
//! behind it even if permits are free. Permits released while nobody is
//! queued but a served waiter has not run are *parked* in the count, with
//! `QUEUED` still set; when a served waiter runs it hands the parked
//! permits to whoever queued meanwhile, and the last one to run clears
//! `QUEUED` if nobody is queued. `unclaimed` counts the served waiters that
//! have not run: the granter raises it under the lock before it publishes
//! `served`, and the waiter lowers it when it runs (or is dropped).
//!
//! ```text
//!   A waits; B: release(1) ──▶ A served, unclaimed = 1, QUEUED stays
//!   B: release(2)          ──▶ nobody queued: 2 parked in the count
//!   B: acquire             ──▶ QUEUED: B queues behind A (asyncio: same)
//!   A runs                 ──▶ unclaimed = 0; hands a parked permit to B
//! ```
//!
//! So completion follows arrival order under a FIFO executor, like
//! asyncio's (CPython's `test_acquire_fifo_order_2` and `_4` give
//! `[1, 2, 3, 4]` on both). The price: a served acquire future that is
//! neither polled nor dropped keeps fresh acquires queued, as an asyncio
//! task that never runs again would; and the last served waiter to run
//! takes the lock once more to reopen the fast path (callgrind, the
//! `mutex_contended` benchmark: 851 → 940 instructions per contended lock;
//! `semaphore`: 1375 → 1390 per acquire).
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
//!   next waiter, which is woken; then it counts as having run;
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
    /// Served acquires that have not been polled (nor dropped) since: they
    /// keep `QUEUED` set. Raised under the `waiters` lock, lowered without.
    unclaimed: AtomicUsize,
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
            unclaimed: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    /// Number of permits free right now: zero while tasks are queued, but
    /// possibly more while a served waiter has not run yet (fresh acquires
    /// queue behind it all the same).
    pub(crate) fn available_permits(&self) -> usize {
        self.state.load(Ordering::Acquire) >> PERMIT_SHIFT
    }

    /// Whether an acquire would not succeed at once: no permit is free,
    /// tasks are waiting or were served and have not run yet, or the
    /// semaphore is closed.
    pub(crate) fn locked(&self) -> bool {
        let state = self.state.load(Ordering::Acquire);
        state & (QUEUED | CLOSED) != 0 || state >> PERMIT_SHIFT == 0
    }

    /// Whether permits were handed to a waiter that has not run yet
    /// (asyncio's woken task); for `Lock::locked`.
    pub(crate) fn handing_over(&self) -> bool {
        self.unclaimed.load(Ordering::Acquire) != 0
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
        if permits != 0 && !self.add_to_count(permits, QueuedFlag::GiveUpIfSet) {
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
            // count and clears `QUEUED` unless a served waiter has not run.
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
            let queued = state & QUEUED != 0;
            let can_take = !queued && available >= permits;
            // Under `QUEUED`, permits in the count are parked until a
            // served waiter runs and hands them out: we wait for that, as
            // asyncio's newcomer waits for the woken task to run.
            let (next, granted) = if can_take {
                (state - (permits << PERMIT_SHIFT), 0)
            } else if queued {
                (state, 0)
            } else {
                (QUEUED, available)
            };
            // Fast-path acquirers and releasers may still race us until
            // `QUEUED` is set, hence the compare-and-swap even under the lock.
            // Once it is set, only holders of this lock write the word:
            // joining an existing queue changes nothing and needs no swap.
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
                        granted,
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
            self.claim();
            return Poll::Ready(Ok(()));
        }
        let mut waiters = self.waiters.lock();
        // `served` only changes under this lock: not served here, the slot is
        // still ours. A slot granted but not served was closed.
        if self.is_served(ticket.number) {
            drop(waiters);
            self.claim();
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
                // Granted in full, but never polled again: give them back
                // (to the waiters behind it first), then stop holding the
                // fast path shut.
                drop(waiters);
                self.add_permits(permits);
                self.claim();
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

    /// A served waiter ran (or was dropped): asyncio's woken task running.
    /// It hands the parked permits to the queue, and the last one to run
    /// lets fresh acquires use the fast path again if nobody is queued.
    fn claim(&self) {
        let last = self.unclaimed.fetch_sub(1, Ordering::AcqRel) == 1;
        let state = self.state.load(Ordering::Acquire);
        let parked = state & QUEUED != 0 && state >> PERMIT_SHIFT != 0;
        if !last && !parked {
            return;
        }
        self.release_to_waiters(0);
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
        if !waiters.is_empty() {
            // Permits parked in the count while a served waiter had not run
            // go to the queue too. The queue is not empty, so `QUEUED` is
            // set and only lock holders (we) write the word.
            let parked = self.state.load(Ordering::Acquire) >> PERMIT_SHIFT;
            if parked != 0 {
                self.state
                    .fetch_sub(parked << PERMIT_SHIFT, Ordering::AcqRel);
                permits += parked;
            }
        }
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
            // It counts as unclaimed until it runs; counted before `served`
            // tells it, so its claim never runs ahead of the count.
            waiters.grant_front_and_free(wakeups);
            self.unclaimed.fetch_add(1, Ordering::AcqRel);
            // Everyone queued before it was served or left: one store tells
            // them all, and this waiter, that they are done.
            self.served.store(ticket + 1, Ordering::Release);
        }
        // Nobody is queued any more. Until every served waiter has run,
        // fresh acquires still queue behind it (asyncio's rule): the
        // permits are parked in the count under `QUEUED`. `QUEUED` only
        // changes under the lock we hold, but fast-path releasers can still
        // add permits concurrently while it is clear.
        let flag = if self.unclaimed.load(Ordering::Acquire) == 0 {
            QueuedFlag::Clear
        } else {
            QueuedFlag::Keep
        };
        self.add_to_count(permits, flag);
    }

    /// Puts `permits` into the count, with a compare-and-swap loop that
    /// races fast-path acquirers and releasers, doing to `QUEUED` what
    /// `flag` says; `false` (nothing changed) if it gave up.
    #[inline]
    fn add_to_count(&self, permits: usize, flag: QueuedFlag) -> bool {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let next = match flag {
                QueuedFlag::GiveUpIfSet if state & QUEUED != 0 => return false,
                QueuedFlag::GiveUpIfSet | QueuedFlag::Clear => {
                    with_permits_added(state, permits) & !QUEUED
                }
                QueuedFlag::Keep => with_permits_added(state, permits),
            };
            match self
                .state
                .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
    }
}

/// What [`RawSemaphore::add_to_count`] does with `QUEUED`.
#[derive(Clone, Copy)]
enum QueuedFlag {
    /// A release: if `QUEUED` is set, the permits belong to the waiters,
    /// so give up and leave the word alone.
    GiveUpIfSet,
    /// The queue emptied and every served waiter has run: clear it.
    Clear,
    /// The queue emptied but a served waiter has not run yet: keep it.
    Keep,
}

/// `state` with `permits` more permits.
fn with_permits_added(state: usize, permits: usize) -> usize {
    let available = state >> PERMIT_SHIFT;
    assert!(
        permits <= RawSemaphore::MAX_PERMITS - available,
        "adding {permits} permits to {available} would exceed Semaphore::MAX_PERMITS"
    );
    state + (permits << PERMIT_SHIFT)
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
    ///
    /// The common polls are answered here: a first poll that takes free
    /// permits with one compare-and-swap (or finds the semaphore closed),
    /// and a later poll of a waiter that was served (one load). The rest,
    /// queueing up or waiting on, goes through the waiting protocol in
    /// [`poll_slow`](Self::poll_slow), out of line: inlined, its register
    /// saves were paid by the fast polls as well.
    #[inline]
    pub(crate) fn poll_acquire(
        &mut self,
        semaphore: &RawSemaphore,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), AcquireError>> {
        let done = match self.wait {
            WaitState::Idle => match semaphore.try_take(self.permits) {
                Ok(()) => Ok(()),
                Err(TryAcquireError::Closed) => Err(AcquireError(())),
                Err(TryAcquireError::NoPermits) => return self.poll_slow(semaphore, cx.waker()),
            },
            WaitState::Waiting(ticket) if semaphore.is_served(ticket.number) => {
                semaphore.claim();
                Ok(())
            }
            WaitState::Waiting(_) | WaitState::Done => {
                return self.poll_slow(semaphore, cx.waker())
            }
        };
        self.wait = WaitState::Done;
        Poll::Ready(done)
    }

    /// [`poll_acquire`](Self::poll_acquire) through the waiting protocol:
    /// a first poll that found no permits free queues up (or takes them
    /// under the lock, if they came back meanwhile).
    #[inline(never)]
    fn poll_slow(
        &mut self,
        semaphore: &RawSemaphore,
        waker: &Waker,
    ) -> Poll<Result<(), AcquireError>> {
        let permits = self.permits;
        self.wait.poll(
            || semaphore.take_or_enqueue(permits, waker),
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
