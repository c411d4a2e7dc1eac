//! A fair counting semaphore: asyncio's `Semaphore`.
//!
//! A semaphore holds a number of permits. [`Semaphore::acquire`] takes one
//! (waiting while none is free) and the returned [`SemaphorePermit`] gives it
//! back when dropped; [`Semaphore::release`] adds permits by hand.
//!
//! This file is the API: the semaphore, its futures and its permit
//! guards. The algorithm behind them, shared with [`Mutex`](crate::Mutex),
//! lives in `semaphore/raw.rs`: one atomic word that serves every acquire
//! and release nobody waits on with one compare-and-swap, and a FIFO of
//! waiters, behind a lock, for the rest.
//!
//! # Fairness
//!
//! Permits go to waiters first-in, first-out, and a new acquire never
//! overtakes a waiting one, even at the instant permits are free: released
//! permits go straight to the waiter at the head of the queue. A waiter for
//! several permits gathers them at the head while the waiters behind it
//! wait, even those that asked for fewer.
//!
//! A waiter that was served but has not run yet (its future not polled
//! since it was woken) still counts as waiting, as in asyncio 3.13
//! (gh-90155): a fresh acquire queues behind it, so tasks complete in the
//! order they asked, and permits released meanwhile wait for it to run,
//! which hands them on.
//!
//! # Cancel safety
//!
//! Dropping an [`Acquire`] future is always safe:
//!
//! * before its first poll or after it completed: nothing to undo;
//! * while queued: it leaves the queue, and any permits it had gathered as
//!   the head go to the next waiter;
//! * after it was granted its permits but before it was polled again: the
//!   permits go to the next waiter, which is woken.
//!
//! Waiting allocates nothing in steady state: a waiter's slot is reused by
//! the next one.

mod error;
pub(crate) mod raw;

use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
// Owned permits keep the semaphore alive through std's `Arc`: it is the type
// users hold, and only std's smart pointers may be `self` receivers.
use std::sync::Arc;
use std::task::{Context, Poll};

pub use self::error::{AcquireError, TryAcquireError};
use self::raw::{AcquireState, RawSemaphore};
use crate::facade::atomic::{AtomicUsize, Ordering};

/// A fair, cancel-safe counting semaphore (asyncio's `Semaphore`).
///
/// Permits are granted first-in, first-out: when tasks are waiting, a fresh
/// [`acquire`](Self::acquire) or [`try_acquire`](Self::try_acquire) does not
/// overtake them even if permits are free. See the [module
/// docs](crate::semaphore) for its guarantees.
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
    /// The permits and the waiters.
    raw: RawSemaphore,
    /// Permits taken out of circulation by [`SemaphorePermit::forget`]; a
    /// [`BoundedSemaphore`](crate::BoundedSemaphore) only lets `release`
    /// bring these back, never more.
    forgotten: AtomicUsize,
}

impl Semaphore {
    /// The largest number of permits a semaphore can hold.
    pub const MAX_PERMITS: usize = RawSemaphore::MAX_PERMITS;

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
        Self {
            raw: RawSemaphore::new(permits),
            forgotten: AtomicUsize::new(0),
        }
    }

    /// Number of permits free right now: zero while tasks are queued. It
    /// may be more while a waiter that was served has not run yet, but a
    /// fresh acquire queues behind that waiter all the same (asyncio's
    /// `_value` behaves alike).
    pub fn available_permits(&self) -> usize {
        self.raw.available_permits()
    }

    /// Whether an [`acquire`](Self::acquire) would not succeed at once: no
    /// permit is free, tasks are waiting or were served and have not run
    /// yet, or the semaphore is closed.
    ///
    /// This is asyncio's `Semaphore.locked()` (Python 3.13).
    pub fn locked(&self) -> bool {
        self.raw.locked()
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.raw.is_closed()
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
        self.raw.try_take(permits)?;
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
        self.raw.try_take(permits)?;
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
        self.raw.add_permits(permits);
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
        self.raw.close();
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

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.raw, f)
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
            .poll_acquire(&semaphore.raw, cx)
            .map_ok(|()| SemaphorePermit {
                semaphore,
                permits: this.request.permits(),
            })
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        self.request.cancel(&self.semaphore.raw);
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
        let result = std::task::ready!(this.request.poll_acquire(&semaphore.raw, cx));
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
            self.request.cancel(&semaphore.raw);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::poll;

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
    fn a_dropped_owned_acquire_passes_its_permits_on() {
        let semaphore = Arc::new(Semaphore::new(0));
        let mut queued = semaphore.clone().acquire_many_owned(2);
        let mut handed = semaphore.clone().acquire_many_owned(2);
        let mut last = semaphore.clone().acquire_many_owned(2);
        for waiter in [&mut queued, &mut handed, &mut last] {
            assert!(poll(waiter).is_pending());
        }
        drop(queued); // still waiting: it gives up its place
        semaphore.release(2); // served to `handed`
        drop(handed); // served but never ran: passes the permits on
        let Poll::Ready(Ok(permit)) = poll(&mut last) else {
            panic!("the permits were passed on to the last waiter");
        };
        assert_eq!(permit.num_permits(), 2);
        drop(permit);
        assert_eq!(semaphore.available_permits(), 2);
    }

    #[test]
    fn debug_and_display_of_the_semaphore_and_its_errors() {
        let semaphore = Semaphore::new(2);
        assert_eq!(
            format!("{semaphore:?}"),
            "Semaphore { available_permits: 2, waiters_queued: false, closed: false }"
        );
        assert_eq!(
            TryAcquireError::NoPermits.to_string(),
            "no permits available without overtaking waiting tasks"
        );
        semaphore.close();
        let Poll::Ready(Err(closed)) = poll(&mut semaphore.acquire()) else {
            panic!("a closed semaphore fails every acquire");
        };
        assert_eq!(closed.to_string(), "the semaphore was closed");
        assert_eq!(
            semaphore.try_acquire().unwrap_err().to_string(),
            "the semaphore was closed"
        );
    }
}
