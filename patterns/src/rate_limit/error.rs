//! The errors of the rate limiters: values that say why a request was
//! refused and hand back how many tokens it asked for.
//!
//! * [`TryAcquireError`] comes from `try_acquire`: the tokens are not there
//!   now (with the exact time to wait), or the request is larger than the
//!   limiter could ever grant.
//! * [`AcquireError`] comes from `acquire`: the request can never succeed,
//!   or the line of waiters is full and it was refused at once.
//! * [`KeyedError`] wraps either for a keyed limiter, which can also refuse
//!   a new key when it already tracks as many keys as it may.

use std::error::Error;
use std::fmt;
use std::time::Duration;

/// Why [`RateLimiter::try_acquire`](super::RateLimiter::try_acquire) refused
/// a request.
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::rate_limit::{Gcra, Quota, RateLimiter, TryAcquireError};
///
/// weft_runtime::Builder::new().start_paused(true).build().block_on(async {
///     let limiter = RateLimiter::new(Gcra::new(Quota::per_second(2)));
///     limiter.try_acquire(2).unwrap();
///     let refused = limiter.try_acquire(1).unwrap_err();
///     assert_eq!(refused.retry_after(), Some(Duration::from_millis(500)));
///     assert_eq!(refused.requested(), 1);
///     assert!(matches!(
///         limiter.try_acquire(3),
///         Err(TryAcquireError::ExceedsCapacity { requested: 3, capacity: 2 })
///     ));
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryAcquireError {
    /// The tokens are not available now. Waiting `retry_after` is enough if
    /// nobody else takes tokens meanwhile; when other requests are already
    /// waiting in line, they are served first and `retry_after` counts the
    /// time to serve them too (see [`RateLimiter::try_acquire`]).
    ///
    /// [`RateLimiter::try_acquire`]: super::RateLimiter::try_acquire
    RateLimited {
        /// The tokens the request asked for.
        requested: u32,
        /// How long to wait before asking again.
        retry_after: Duration,
    },
    /// The request asks for more tokens than the limiter can ever hold at
    /// once: it can never succeed, however long the caller waits.
    ExceedsCapacity {
        /// The tokens the request asked for.
        requested: u32,
        /// The most tokens one request can get (the burst size or window limit).
        capacity: u32,
    },
}

impl TryAcquireError {
    /// How long to wait before asking again, or `None` if the request can
    /// never succeed.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => Some(*retry_after),
            Self::ExceedsCapacity { .. } => None,
        }
    }

    /// The tokens the refused request asked for.
    pub fn requested(&self) -> u32 {
        match self {
            Self::RateLimited { requested, .. } | Self::ExceedsCapacity { requested, .. } => {
                *requested
            }
        }
    }
}

display!(impl[] TryAcquireError, |self, f| match self {
    Self::RateLimited { requested, retry_after } => write!(
        f,
        "rate limited: {requested} token(s) not available now, retry after {retry_after:?}"
    ),
    Self::ExceedsCapacity { requested, capacity } => exceeds_capacity(f, *requested, *capacity),
});

impl Error for TryAcquireError {}

/// Why [`RateLimiter::acquire`](super::RateLimiter::acquire) refused a
/// request without waiting.
///
/// ```
/// use weft_patterns::rate_limit::{AcquireError, Gcra, Quota, RateLimiter};
///
/// weft_runtime::Builder::new().start_paused(true).build().block_on(async {
///     // Nobody may wait: a request that cannot be served at once is refused.
///     let limiter = RateLimiter::new(Gcra::new(Quota::per_second(1))).with_max_waiters(0);
///     limiter.acquire(1).await.unwrap();
///     assert_eq!(
///         limiter.acquire(1).await,
///         Err(AcquireError::QueueFull { requested: 1, max_waiters: 0 })
///     );
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AcquireError {
    /// The request asks for more tokens than the limiter can ever hold at
    /// once: waiting would never end, so it is refused at once.
    ExceedsCapacity {
        /// The tokens the request asked for.
        requested: u32,
        /// The most tokens one request can get (the burst size or window limit).
        capacity: u32,
    },
    /// The line of waiting requests already holds `max_waiters` requests.
    QueueFull {
        /// The tokens the request asked for.
        requested: u32,
        /// The bound on waiting requests that was reached.
        max_waiters: usize,
    },
}

impl AcquireError {
    /// The tokens the refused request asked for.
    pub fn requested(&self) -> u32 {
        match self {
            Self::ExceedsCapacity { requested, .. } | Self::QueueFull { requested, .. } => {
                *requested
            }
        }
    }
}

display!(impl[] AcquireError, |self, f| match self {
    Self::ExceedsCapacity { requested, capacity } => exceeds_capacity(f, *requested, *capacity),
    Self::QueueFull { requested, max_waiters } => write!(
        f,
        "rate limiter's wait queue is full ({max_waiters} waiting): \
         request for {requested} token(s) refused"
    ),
});

impl Error for AcquireError {}

/// Why a [`KeyedRateLimiter`](super::KeyedRateLimiter) refused a request:
/// the key's own limiter refused it (`E` is [`TryAcquireError`] or
/// [`AcquireError`]), or the key is new and the table of keys is full.
///
/// ```
/// use weft_patterns::rate_limit::{Gcra, KeyedError, KeyedRateLimiter, Quota};
///
/// weft_runtime::Builder::new().start_paused(true).build().block_on(async {
///     let limiter = KeyedRateLimiter::new(1, |_: &&str| Gcra::new(Quota::per_second(1)));
///     limiter.try_acquire(&"alice", 1).unwrap();
///     // "alice" is still limited, so she keeps the only place.
///     let refused = limiter.try_acquire(&"bob", 1).unwrap_err();
///     assert_eq!(refused, KeyedError::TooManyKeys { max_keys: 1 });
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyedError<E> {
    /// The key's limiter refused the request.
    Limited(E),
    /// The key is not tracked yet, the limiter already tracks `max_keys`
    /// keys, and none of those it inspected was idle (see the
    /// [keyed module](super::keyed) for the policy).
    TooManyKeys {
        /// The bound on tracked keys that was reached.
        max_keys: usize,
    },
}

impl<E> KeyedError<E> {
    /// The key limiter's own error, if that is why the request was refused.
    pub fn limited(&self) -> Option<&E> {
        match self {
            Self::Limited(error) => Some(error),
            Self::TooManyKeys { .. } => None,
        }
    }
}

impl<E> From<E> for KeyedError<E> {
    fn from(error: E) -> Self {
        Self::Limited(error)
    }
}

display!(impl[E: fmt::Display] KeyedError<E>, |self, f| match self {
    Self::Limited(error) => error.fmt(f),
    Self::TooManyKeys { max_keys } => write!(
        f,
        "keyed rate limiter already tracks its maximum of {max_keys} keys and none \
         it inspected is idle: new key refused"
    ),
});

impl<E: Error + 'static> Error for KeyedError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Limited(error) => Some(error),
            Self::TooManyKeys { .. } => None,
        }
    }
}

fn exceeds_capacity(f: &mut fmt::Formatter<'_>, requested: u32, capacity: u32) -> fmt::Result {
    write!(
        f,
        "{requested} tokens requested but at most {capacity} can ever be granted at once: \
         the request can never succeed"
    )
}
