//! The errors of acquiring a [`Semaphore`](super::Semaphore)'s permits.

use std::error::Error;
use std::fmt;

/// An acquire failed because the semaphore was closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcquireError(pub(super) ());

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
