//! [`RetryError`]: why a retried call gave up, with its last failure.

use std::error::Error;
use std::fmt;
use std::time::Duration;

/// Why a call stopped retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUpReason {
    /// The error predicate said this error is not worth retrying.
    NotRetryable,
    /// Every allowed retry was used.
    RetriesExhausted,
    /// The total deadline passed during an attempt, or the next backoff
    /// sleep would have ended at or after it.
    DeadlineReached,
    /// The shared retry budget refused another retry.
    BudgetExhausted,
}

display!(impl[] GiveUpReason, |self, f| {
    f.write_str(match self {
        Self::NotRetryable => "the error is not retryable",
        Self::RetriesExhausted => "no retries left",
        Self::DeadlineReached => "the deadline would be passed",
        Self::BudgetExhausted => "the retry budget is exhausted",
    })
});

/// How the last attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptFailure<E> {
    /// The operation returned this error.
    Error(E),
    /// The attempt was cut (and dropped) by the per-attempt timeout or the
    /// total deadline.
    TimedOut,
}

/// A retried call that gave up: the reason, the last failure (the
/// operation's own error is handed back), how many attempts were made and
/// how long it all took.
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::retry::{Backoff, GiveUpReason, RetryPolicy};
///
/// let policy = RetryPolicy::new(Backoff::constant(Duration::from_secs(1))).max_retries(2);
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// let err = rt
///     .block_on(async { policy.retry(|| async { Err::<(), _>("refused") }).await })
///     .unwrap_err();
/// assert_eq!(err.reason(), GiveUpReason::RetriesExhausted);
/// assert_eq!(err.attempts(), 3);
/// assert_eq!(err.to_string(), "gave up after 3 attempts (no retries left): refused");
/// assert_eq!(err.into_error(), Some("refused"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryError<E> {
    pub(crate) reason: GiveUpReason,
    pub(crate) last: AttemptFailure<E>,
    pub(crate) attempts: u32,
    pub(crate) elapsed: Duration,
}

impl<E> RetryError<E> {
    /// Why the call stopped.
    pub fn reason(&self) -> GiveUpReason {
        self.reason
    }

    /// How the last attempt failed.
    pub fn last_failure(&self) -> &AttemptFailure<E> {
        &self.last
    }

    /// Attempts made, the first included.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Time from the start of the call to giving up (on the runtime's
    /// clock).
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// The last error of the operation, or `None` if the last attempt
    /// timed out.
    pub fn into_error(self) -> Option<E> {
        match self.last {
            AttemptFailure::Error(error) => Some(error),
            AttemptFailure::TimedOut => None,
        }
    }
}

display!(impl[E: fmt::Display] RetryError<E>, |self, f| {
    let plural = if self.attempts == 1 { "" } else { "s" };
    write!(f, "gave up after {} attempt{plural} ({}): ", self.attempts, self.reason)?;
    match &self.last {
        AttemptFailure::Error(error) => write!(f, "{error}"),
        AttemptFailure::TimedOut => f.write_str("the last attempt timed out"),
    }
});

impl<E: Error + 'static> Error for RetryError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match &self.last {
            AttemptFailure::Error(error) => Some(error),
            AttemptFailure::TimedOut => None,
        }
    }
}
