//! A fair counting semaphore: asyncio's `Semaphore`.
//!
//! A semaphore holds a number of permits. [`Semaphore::acquire`] takes one
//! (waiting while none is free) and the returned [`SemaphorePermit`] gives it
//! back when dropped; [`Semaphore::release`] adds permits by hand.
//!
//! # Algorithm
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
//! [`Mutex`](crate::Mutex) built on this relies on it).
//!
//! # Cancel safety
//!
//! Dropping an [`Acquire`] future is always safe:
//!
//! * before its first poll or after it completed: nothing to undo;
//! * while queued: its slot is freed, and any permits it had accumulated as
//!   the head are handed to the next waiter;
//! * after [`close`](Semaphore::close) granted it its failure, before it
//!   was polled again: its slot is freed (`close` took back its permits);
//! * after it was granted all its permits but before it was polled again
//!   (its ticket is below `served`): the permits go back through the
//!   release path, so the next waiter gets them and is woken.
//!
//! # Memory
//!
//! Waiters live in the slab of the `WaiterQueue`; a slot freed by one
//! waiter is reused by the next, so in steady state waiting allocates
//! nothing.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
// Owned permits keep the semaphore alive through std's `Arc`: it is the type
// users hold, and only std's smart pointers may be `self` receivers.
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::facade::atomic::{AtomicU64, AtomicUsize, Ordering};
use crate::facade::Mutex;
use crate::waiter_queue::{FirstPoll, WaitState, WaiterKey, WaiterQueue};
use crate::wake_list::WakeList;

/// Set while the waiter queue is not empty; fresh acquirers must then queue.
const QUEUED: usize = 0b01;
/// Set once [`Semaphore::close`] ran; acquires fail from then on.
const CLOSED: usize = 0b10;
/// The permit count sits above the two flag bits.
const PERMIT_SHIFT: u32 = 2;

/// A fair, cancel-safe counting semaphore (asyncio's `Semaphore`).
///
/// Permits are granted first-in, first-out: when tasks are waiting, a fresh
/// [`acquire`](Self::acquire) or [`try_acquire`](Self::try_acquire) does not
/// overtake them even if permits are free. See the [module
/// docs](crate::semaphore) for the algorithm.
///
/// # Examples
///
/// ```
/// use weft_primitives::Semaphore;
///
/// futures::executor::block_on(async {
///     let semaphore = Semaphore::new(2);
///     let first = semaphore.acquire().await.unwrap();
///     let second = semaphore.acquire().await.unwrap();
///     assert!(semaphore.locked());
///     assert!(semaphore.try_acquire().is_err());
///
///     drop(first); // the permit comes back on drop
///     assert_eq!(semaphore.available_permits(), 1);
///     # drop(second);
/// });
/// ```
pub struct Semaphore {
    /// Available permits and the `QUEUED` / `CLOSED` flags; see module docs.
    state: AtomicUsize,
    /// Queued acquires with a ticket below this have all their permits and
    /// have left the queue; written under the `waiters` lock.
    served: AtomicU64,
    /// The slow path: waiters in arrival order.
    waiters: Mutex<Waiters>,
    /// Permits taken out of circulation by [`SemaphorePermit::forget`]; a
    /// [`BoundedSemaphore`](crate::BoundedSemaphore) only lets `release`
    /// bring these back, never more.
    forgotten: AtomicUsize,
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

impl Semaphore {
    /// The largest number of permits a semaphore can hold.
    pub const MAX_PERMITS: usize = usize::MAX >> PERMIT_SHIFT;

    /// Creates a semaphore with `permits` available permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS).
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = weft_primitives::Semaphore::new(3);
    /// assert_eq!(semaphore.available_permits(), 3);
    /// ```
    pub fn new(permits: usize) -> Self {
        assert!(
            permits <= Self::MAX_PERMITS,
            "a semaphore holds at most {} permits, {permits} were asked for",
            Self::MAX_PERMITS
        );
        Self {
            state: AtomicUsize::new(permits << PERMIT_SHIFT),
            served: AtomicU64::new(0),
            waiters: Mutex::new(Waiters::default()),
            forgotten: AtomicUsize::new(0),
        }
    }

    /// Number of permits free right now (zero while tasks are waiting).
    pub fn available_permits(&self) -> usize {
        self.state.load(Ordering::Acquire) >> PERMIT_SHIFT
    }

    /// Whether an [`acquire`](Self::acquire) would not succeed at once: no
    /// permit is free, tasks are already waiting, or the semaphore is closed.
    ///
    /// This is asyncio's `Semaphore.locked()`.
    pub fn locked(&self) -> bool {
        let state = self.state.load(Ordering::Acquire);
        state & (QUEUED | CLOSED) != 0 || state >> PERMIT_SHIFT == 0
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Waits for one permit.
    ///
    /// The future fails only if the semaphore is (or gets) closed. It is
    /// cancel-safe: dropping it never loses a permit.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let semaphore = weft_primitives::Semaphore::new(1);
    /// let permit = semaphore.acquire().await.unwrap();
    /// assert_eq!(permit.num_permits(), 1);
    /// # });
    /// ```
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `permits` permits, all at once.
    ///
    /// While it waits at the head of the queue, released permits accumulate
    /// in it until it has them all; nobody behind it overtakes it. Asking for
    /// zero permits succeeds at once unless the semaphore is closed.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS): such a request
    /// could never be granted.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let semaphore = weft_primitives::Semaphore::new(5);
    /// let permits = semaphore.acquire_many(3).await.unwrap();
    /// assert_eq!(semaphore.available_permits(), 2);
    /// drop(permits);
    /// assert_eq!(semaphore.available_permits(), 5);
    /// # });
    /// ```
    pub fn acquire_many(&self, permits: usize) -> Acquire<'_> {
        Acquire {
            semaphore: self,
            request: AcquireState::new(permits),
        }
    }

    /// Like [`acquire`](Self::acquire), but the permit owns an `Arc` of the
    /// semaphore instead of borrowing it, so it can move into a spawned task.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weft_primitives::Semaphore;
    ///
    /// # futures::executor::block_on(async {
    /// let semaphore = Arc::new(Semaphore::new(1));
    /// let permit = semaphore.clone().acquire_owned().await.unwrap();
    /// std::thread::spawn(move || drop(permit)).join().unwrap();
    /// assert_eq!(semaphore.available_permits(), 1);
    /// # });
    /// ```
    pub fn acquire_owned(self: Arc<Self>) -> AcquireOwned {
        self.acquire_many_owned(1)
    }

    /// Like [`acquire_many`](Self::acquire_many), with an owned permit.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS).
    pub fn acquire_many_owned(self: Arc<Self>, permits: usize) -> AcquireOwned {
        AcquireOwned {
            request: AcquireState::new(permits),
            semaphore: Some(self),
        }
    }

    /// Takes one permit if that is possible right now without overtaking a
    /// waiting task.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_primitives::{Semaphore, TryAcquireError};
    ///
    /// let semaphore = Semaphore::new(1);
    /// let permit = semaphore.try_acquire().unwrap();
    /// assert_eq!(semaphore.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    /// # drop(permit);
    /// ```
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `permits` permits if that is possible right now without
    /// overtaking a waiting task.
    pub fn try_acquire_many(&self, permits: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_take(permits)?;
        Ok(SemaphorePermit {
            semaphore: self,
            permits,
        })
    }

    /// Like [`try_acquire`](Self::try_acquire), with an owned permit.
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// Like [`try_acquire_many`](Self::try_acquire_many), with an owned permit.
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        permits: usize,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_take(permits)?;
        Ok(OwnedSemaphorePermit {
            semaphore: self,
            permits,
        })
    }

    /// Adds `permits` permits, handing them to waiting tasks first.
    ///
    /// Permits held by a [`SemaphorePermit`] come back on their own when it
    /// is dropped; call this to grow the semaphore or to bring back permits
    /// that were [`forget`](SemaphorePermit::forget)-ten.
    ///
    /// # Panics
    ///
    /// If the count would exceed [`MAX_PERMITS`](Self::MAX_PERMITS).
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = weft_primitives::Semaphore::new(0);
    /// semaphore.add_permits(2);
    /// assert_eq!(semaphore.available_permits(), 2);
    /// ```
    pub fn add_permits(&self, permits: usize) {
        if permits == 0 {
            return;
        }
        let mut state = self.state.load(Ordering::Acquire);
        while state & QUEUED == 0 {
            match self.state.compare_exchange_weak(
                state,
                with_permits_added(state, permits),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
        self.release_to_waiters(permits);
    }

    /// asyncio's name for [`add_permits`](Self::add_permits): releases
    /// `permits` permits.
    pub fn release(&self, permits: usize) {
        self.add_permits(permits);
    }

    /// Closes the semaphore: every waiting acquire fails with
    /// [`AcquireError`], and so does every later one.
    ///
    /// Permits already held stay valid and still come back when dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let semaphore = weft_primitives::Semaphore::new(0);
    /// semaphore.close();
    /// let error = semaphore.acquire().await.unwrap_err();
    /// assert_eq!(error.to_string(), "the semaphore was closed");
    /// # });
    /// ```
    pub fn close(&self) {
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
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            match self.state.compare_exchange_weak(
                state,
                with_permits_added(state, permits),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
    }

    /// Records permits taken out of circulation by `forget`.
    fn record_forgotten(&self, permits: usize) {
        self.forgotten.fetch_add(permits, Ordering::AcqRel);
    }

    /// Brings back up to the number of forgotten permits, atomically with the
    /// check: `false` (and no change) if fewer than `permits` were forgotten.
    pub(crate) fn release_forgotten(&self, permits: usize) -> bool {
        let reclaimed = self
            .forgotten
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |forgotten| {
                forgotten.checked_sub(permits)
            })
            .is_ok();
        if reclaimed {
            self.add_permits(permits);
        }
        reclaimed
    }
}

/// `state` with `permits` more permits and `QUEUED` cleared.
fn with_permits_added(state: usize, permits: usize) -> usize {
    let available = state >> PERMIT_SHIFT;
    assert!(
        permits <= Semaphore::MAX_PERMITS - available,
        "adding {permits} permits to {available} would exceed Semaphore::MAX_PERMITS"
    );
    (state & !QUEUED) + (permits << PERMIT_SHIFT)
}

impl fmt::Debug for Semaphore {
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
            permits <= Semaphore::MAX_PERMITS,
            "cannot acquire {permits} permits: a semaphore never holds more than {}",
            Semaphore::MAX_PERMITS
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
        semaphore: &Semaphore,
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
    pub(crate) fn cancel(&mut self, semaphore: &Semaphore) {
        if let Some(ticket) = self.wait.cancel() {
            semaphore.cancel_waiter(ticket, self.permits);
        }
    }
}

/// Future of [`Semaphore::acquire`] and [`Semaphore::acquire_many`].
///
/// Cancel-safe: dropping it at any point loses no permit (see the [module
/// docs](crate::semaphore#cancel-safety)).
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Acquire<'a> {
    semaphore: &'a Semaphore,
    request: AcquireState,
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<SemaphorePermit<'a>, AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let semaphore = this.semaphore;
        this.request
            .poll_acquire(semaphore, cx)
            .map_ok(|()| SemaphorePermit {
                semaphore,
                permits: this.request.permits(),
            })
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        self.request.cancel(self.semaphore);
    }
}

/// Future of [`Semaphore::acquire_owned`] and
/// [`Semaphore::acquire_many_owned`]; cancel-safe like [`Acquire`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct AcquireOwned {
    request: AcquireState,
    /// Moves into the permit on success.
    semaphore: Option<Arc<Semaphore>>,
}

impl Future for AcquireOwned {
    type Output = Result<OwnedSemaphorePermit, AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let semaphore = this
            .semaphore
            .as_deref()
            .expect("an acquire future was polled after it completed");
        let result = std::task::ready!(this.request.poll_acquire(semaphore, cx));
        let semaphore = this.semaphore.take().expect("checked above");
        Poll::Ready(result.map(|()| OwnedSemaphorePermit {
            semaphore,
            permits: this.request.permits(),
        }))
    }
}

impl Drop for AcquireOwned {
    fn drop(&mut self) {
        if let Some(semaphore) = &self.semaphore {
            self.request.cancel(semaphore);
        }
    }
}

/// Permits borrowed from a [`Semaphore`]; they go back when this is dropped.
#[must_use = "the permits are released at once if the guard is not kept"]
#[derive(Debug)]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
    permits: usize,
}

impl SemaphorePermit<'_> {
    /// Keeps the permits out of the semaphore for good (they are not
    /// released on drop). [`Semaphore::release`] can bring them back later.
    ///
    /// # Examples
    ///
    /// ```
    /// let semaphore = weft_primitives::Semaphore::new(1);
    /// semaphore.try_acquire().unwrap().forget();
    /// assert_eq!(semaphore.available_permits(), 0);
    /// semaphore.release(1);
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.semaphore
            .record_forgotten(mem::take(&mut self.permits));
    }

    /// How many permits this guard holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.semaphore.add_permits(self.permits);
    }
}

/// Permits of a [`Semaphore`] held through an `Arc`, so they can move into
/// another task or thread; they go back when this is dropped.
#[must_use = "the permits are released at once if the guard is not kept"]
#[derive(Debug)]
pub struct OwnedSemaphorePermit {
    semaphore: Arc<Semaphore>,
    permits: usize,
}

impl OwnedSemaphorePermit {
    /// Keeps the permits out of the semaphore for good; see
    /// [`SemaphorePermit::forget`].
    pub fn forget(mut self) {
        self.semaphore
            .record_forgotten(mem::take(&mut self.permits));
    }

    /// How many permits this guard holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.semaphore.add_permits(self.permits);
    }
}

/// An acquire failed because the semaphore was closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcquireError(());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the semaphore was closed")
    }
}

impl Error for AcquireError {}

/// Why a `try_acquire` did not take permits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// Not enough permits are free, or other tasks are already waiting.
    NoPermits,
    /// The semaphore was closed.
    Closed,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoPermits => "no permits available without overtaking waiting tasks",
            Self::Closed => "the semaphore was closed",
        })
    }
}

impl Error for TryAcquireError {}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker_ref;

    fn poll<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
        Pin::new(future).poll(&mut Context::from_waker(noop_waker_ref()))
    }

    fn queued(semaphore: &Semaphore) -> usize {
        semaphore.waiters.lock().queue.len()
    }

    /// Permits gathered so far by the waiter at the head of the queue.
    fn head_granted(semaphore: &Semaphore) -> usize {
        let mut waiters = semaphore.waiters.lock();
        waiters
            .queue
            .front_mut()
            .expect("a waiter is queued")
            .granted
    }

    #[test]
    fn fast_path_does_not_touch_the_queue() {
        let semaphore = Semaphore::new(2);
        let permit = semaphore.try_acquire_many(2).unwrap();
        assert_eq!(semaphore.available_permits(), 0);
        drop(permit);
        assert_eq!(semaphore.available_permits(), 2);
        assert_eq!(semaphore.waiters.lock().queue.capacity(), 0);
    }

    #[test]
    fn head_waiter_accumulates_partial_grants() {
        let semaphore = Semaphore::new(1);
        let mut big = semaphore.acquire_many(3);
        assert!(poll(&mut big).is_pending());
        // It took the one free permit as a partial grant.
        assert_eq!(semaphore.available_permits(), 0);
        assert_eq!(head_granted(&semaphore), 1);

        semaphore.release(1);
        assert_eq!(head_granted(&semaphore), 2);
        assert!(poll(&mut big).is_pending());

        semaphore.release(2); // one completes it, one goes back to the count
        let permit = match poll(&mut big) {
            Poll::Ready(Ok(permit)) => permit,
            other => panic!("expected the permits, got {other:?}"),
        };
        assert_eq!(permit.num_permits(), 3);
        assert_eq!(semaphore.available_permits(), 1);
        assert!(!semaphore.locked());
    }

    #[test]
    fn small_request_behind_a_big_head_does_not_overtake_it() {
        let semaphore = Semaphore::new(0);
        let mut big = semaphore.acquire_many(2);
        let mut small = semaphore.acquire();
        assert!(poll(&mut big).is_pending());
        assert!(poll(&mut small).is_pending());

        semaphore.release(1);
        assert!(poll(&mut small).is_pending(), "the head got the permit");
        assert_eq!(
            semaphore.try_acquire().unwrap_err(),
            TryAcquireError::NoPermits
        );

        semaphore.release(2);
        assert!(matches!(poll(&mut big), Poll::Ready(Ok(_))));
        assert!(matches!(poll(&mut small), Poll::Ready(Ok(_))));
    }

    #[test]
    fn cancelled_partial_head_hands_its_grant_to_the_next_waiter() {
        let semaphore = Semaphore::new(1);
        let mut big = semaphore.acquire_many(2);
        let mut next = semaphore.acquire();
        assert!(poll(&mut big).is_pending());
        assert!(poll(&mut next).is_pending());
        drop(big);
        assert_eq!(queued(&semaphore), 0);
        assert!(matches!(poll(&mut next), Poll::Ready(Ok(_))));
    }

    #[test]
    fn cancelling_the_last_waiter_clears_the_queued_flag() {
        let semaphore = Semaphore::new(0);
        let mut waiter = semaphore.acquire();
        assert!(poll(&mut waiter).is_pending());
        assert!(semaphore.state.load(Ordering::Acquire) & QUEUED != 0);
        drop(waiter);
        assert_eq!(semaphore.state.load(Ordering::Acquire), 0);
        semaphore.release(1);
        assert!(semaphore.try_acquire().is_ok(), "fast path usable again");
    }

    #[test]
    fn close_returns_partial_grants_and_fails_waiters() {
        let semaphore = Semaphore::new(1);
        let mut big = semaphore.acquire_many(2);
        assert!(poll(&mut big).is_pending());
        semaphore.close();
        assert!(matches!(poll(&mut big), Poll::Ready(Err(AcquireError(())))));
        assert_eq!(semaphore.available_permits(), 1);
        assert_eq!(
            semaphore.try_acquire().unwrap_err(),
            TryAcquireError::Closed
        );
        assert!(semaphore.locked());
    }

    #[test]
    fn zero_permits_are_granted_at_once_even_behind_waiters() {
        let semaphore = Semaphore::new(0);
        let mut waiter = semaphore.acquire();
        assert!(poll(&mut waiter).is_pending());
        assert_eq!(semaphore.try_acquire_many(0).unwrap().num_permits(), 0);
        assert_eq!(queued(&semaphore), 1);
    }

    #[test]
    fn waiter_slots_are_reused() {
        let semaphore = Semaphore::new(0);
        let mut capacity = None;
        for _ in 0..50 {
            let mut waiters: Vec<_> = (0..3).map(|_| semaphore.acquire()).collect();
            for waiter in &mut waiters {
                assert!(poll(waiter).is_pending());
            }
            semaphore.release(1);
            drop(waiters); // one granted, two still queued: all cancelled
            let now = semaphore.waiters.lock().queue.capacity();
            assert_eq!(*capacity.get_or_insert(now), now);
            // The grant travelled down the cancelled queue back to the count.
            semaphore.try_acquire().unwrap().forget();
        }
    }

    #[test]
    fn forgotten_permits_are_counted() {
        let semaphore = Semaphore::new(3);
        semaphore.try_acquire_many(2).unwrap().forget();
        assert!(!semaphore.release_forgotten(3));
        assert_eq!(semaphore.available_permits(), 1);
        assert!(semaphore.release_forgotten(2));
        assert_eq!(semaphore.available_permits(), 3);
    }

    #[test]
    #[should_panic(expected = "would exceed Semaphore::MAX_PERMITS")]
    fn overflowing_the_count_panics() {
        let semaphore = Semaphore::new(Semaphore::MAX_PERMITS);
        semaphore.add_permits(1);
    }
}
