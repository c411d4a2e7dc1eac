//! A semaphore that refuses to be released above its initial value:
//! asyncio's `BoundedSemaphore`.
//!
//! In asyncio, a `BoundedSemaphore` raises `ValueError` when `release()`
//! would push its counter above the initial value: an extra release is
//! almost always a bug (a permit released twice), and the bound catches it.
//!
//! # What "above the initial value" means with guards
//!
//! In weft a permit comes back by itself when its guard is dropped, so the
//! free count alone says nothing: with a bound of 3 and two guards alive the
//! count is 1, yet a `release(1)` would be wrong (once the guards drop, the
//! count would reach 4). The only permits a caller may bring back by hand are
//! the ones taken out of circulation with [`SemaphorePermit::forget`]. So the
//! invariant is
//!
//! ```text
//!   free + held by guards + granted to waiters + forgotten == initial value
//! ```
//!
//! and [`BoundedSemaphore::release`]`(n)` succeeds only if at least `n`
//! permits were forgotten. The check and the release are one atomic step on
//! the forgotten count (a compare-and-swap that subtracts `n` only if it is
//! there), done *before* the permits are added, so there is no moment at
//! which the permits in circulation exceed the bound, even when several
//! threads release at once.
//!
//! Everything else — fairness, cancel safety, closing — is the wrapped
//! [`Semaphore`]'s; the acquire futures and permit guards are its types.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use crate::semaphore::{
    Acquire, AcquireOwned, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};

/// A [`Semaphore`] whose [`release`](Self::release) fails instead of going
/// above the initial number of permits (asyncio's `BoundedSemaphore`).
///
/// # Examples
///
/// ```
/// use weft_primitives::BoundedSemaphore;
///
/// let semaphore = BoundedSemaphore::new(1);
/// let permit = semaphore.try_acquire().unwrap();
/// // The permit is still in use: releasing by hand is one too many.
/// assert!(semaphore.release(1).is_err());
///
/// // A forgotten permit may be released by hand, once.
/// permit.forget();
/// assert!(semaphore.release(1).is_ok());
/// assert!(semaphore.release(1).is_err());
/// assert_eq!(semaphore.available_permits(), 1);
/// ```
#[derive(Debug)]
pub struct BoundedSemaphore {
    /// Behind an `Arc` so that owned permits can be handed out from `&self`.
    semaphore: Arc<Semaphore>,
    bound: usize,
}

impl BoundedSemaphore {
    /// Creates a semaphore with `permits` permits, which is also its bound.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    pub fn new(permits: usize) -> Self {
        Self {
            semaphore: Arc::new(Semaphore::new(permits)),
            bound: permits,
        }
    }

    /// The initial number of permits, which `release` never goes above.
    pub fn bound(&self) -> usize {
        self.bound
    }

    /// Releases `permits` permits that were taken out of circulation with
    /// [`forget`](SemaphorePermit::forget), handing them to waiting tasks
    /// first.
    ///
    /// # Errors
    ///
    /// [`BoundedReleaseError`] if fewer than `permits` permits were
    /// forgotten, i.e. the release would push the semaphore above its
    /// initial value. Nothing changes in that case.
    pub fn release(&self, permits: usize) -> Result<(), BoundedReleaseError> {
        if self.semaphore.release_forgotten(permits) {
            Ok(())
        } else {
            Err(BoundedReleaseError {
                permits,
                bound: self.bound,
            })
        }
    }

    /// Waits for one permit; see [`Semaphore::acquire`].
    ///
    /// # Examples
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let semaphore = weft_primitives::BoundedSemaphore::new(2);
    /// let permit = semaphore.acquire().await.unwrap();
    /// assert_eq!(semaphore.available_permits(), 1);
    /// # drop(permit);
    /// # });
    /// ```
    pub fn acquire(&self) -> Acquire<'_> {
        self.semaphore.acquire()
    }

    /// Waits for `permits` permits at once; see [`Semaphore::acquire_many`].
    pub fn acquire_many(&self, permits: usize) -> Acquire<'_> {
        self.semaphore.acquire_many(permits)
    }

    /// Waits for one permit that owns a handle on the semaphore; see
    /// [`Semaphore::acquire_owned`]. It needs only `&self`: the bounded
    /// semaphore keeps its inner semaphore in an `Arc` already.
    pub fn acquire_owned(&self) -> AcquireOwned {
        Arc::clone(&self.semaphore).acquire_owned()
    }

    /// Like [`acquire_many`](Self::acquire_many), with an owned permit.
    pub fn acquire_many_owned(&self, permits: usize) -> AcquireOwned {
        Arc::clone(&self.semaphore).acquire_many_owned(permits)
    }

    /// Takes one permit if possible right now; see [`Semaphore::try_acquire`].
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.semaphore.try_acquire()
    }

    /// Takes `permits` permits if possible right now; see
    /// [`Semaphore::try_acquire_many`].
    pub fn try_acquire_many(&self, permits: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.semaphore.try_acquire_many(permits)
    }

    /// Like [`try_acquire`](Self::try_acquire), with an owned permit.
    pub fn try_acquire_owned(&self) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        Arc::clone(&self.semaphore).try_acquire_owned()
    }

    /// Like [`try_acquire_many`](Self::try_acquire_many), with an owned permit.
    pub fn try_acquire_many_owned(
        &self,
        permits: usize,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        Arc::clone(&self.semaphore).try_acquire_many_owned(permits)
    }

    /// Number of permits free right now; see [`Semaphore::available_permits`].
    pub fn available_permits(&self) -> usize {
        self.semaphore.available_permits()
    }

    /// Whether an acquire would not succeed at once; see [`Semaphore::locked`].
    pub fn locked(&self) -> bool {
        self.semaphore.locked()
    }

    /// Fails every current and future acquire; see [`Semaphore::close`].
    pub fn close(&self) {
        self.semaphore.close();
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.semaphore.is_closed()
    }
}

/// [`BoundedSemaphore::release`] would have raised the semaphore above its
/// initial value; nothing was released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundedReleaseError {
    permits: usize,
    bound: usize,
}

impl BoundedReleaseError {
    /// The number of permits the caller tried to release.
    pub fn permits(&self) -> usize {
        self.permits
    }
}

impl fmt::Display for BoundedReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BoundedSemaphore released too many times: releasing {} permit(s) would exceed \
             its initial value of {}",
            self.permits, self.bound
        )
    }
}

impl Error for BoundedReleaseError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_release_fails_and_leaves_the_count_unchanged() {
        let semaphore = BoundedSemaphore::new(3);
        let held = semaphore.try_acquire_many(2).unwrap();
        let error = semaphore.release(1).unwrap_err();
        assert_eq!(error.permits(), 1);
        assert_eq!(
            error.to_string(),
            "BoundedSemaphore released too many times: releasing 1 permit(s) would exceed its \
             initial value of 3"
        );
        assert_eq!(semaphore.available_permits(), 1);
        drop(held);
        assert_eq!(semaphore.available_permits(), 3);
    }

    #[test]
    fn forgotten_permits_come_back_up_to_the_bound_and_no_further() {
        let semaphore = BoundedSemaphore::new(3);
        semaphore.try_acquire_many(2).unwrap().forget();
        assert!(semaphore.release(3).is_err(), "only 2 were forgotten");
        assert_eq!(semaphore.available_permits(), 1);
        semaphore.release(1).unwrap();
        semaphore.release(1).unwrap();
        assert_eq!(semaphore.available_permits(), 3);
        assert!(semaphore.release(1).is_err());
        assert_eq!(semaphore.available_permits(), 3);
    }

    #[test]
    fn owned_permits_come_back_to_the_bounded_semaphore() {
        let semaphore = BoundedSemaphore::new(1);
        let permit = semaphore.try_acquire_owned().unwrap();
        assert!(semaphore.locked());
        drop(permit);
        assert_eq!(semaphore.available_permits(), 1);
        semaphore.try_acquire_owned().unwrap().forget();
        semaphore.release(1).unwrap();
        assert_eq!(semaphore.available_permits(), 1);
    }

    #[test]
    fn bound_locked_and_close_report_the_inner_semaphore() {
        let semaphore = BoundedSemaphore::new(3);
        assert_eq!(semaphore.bound(), 3);
        assert!(!semaphore.locked());
        assert!(!semaphore.is_closed());
        let error = semaphore.release(2).unwrap_err();
        assert_eq!(error.permits(), 2);
        semaphore.close();
        assert!(semaphore.is_closed());
        assert_eq!(
            semaphore.try_acquire().unwrap_err(),
            TryAcquireError::Closed
        );
        assert_eq!(semaphore.bound(), 3, "closing does not change the bound");
    }
}
