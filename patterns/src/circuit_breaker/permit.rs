//! [`CallPermit`]: the right to make one call, and the errors of a call
//! through a breaker.

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_runtime::time;

use super::core::Ending;
use super::{CircuitBreaker, CircuitState};

/// Permission to make one call through a [`CircuitBreaker`], from
/// [`try_acquire`](CircuitBreaker::try_acquire). Report how the call ended
/// with [`record`](Self::record) (or [`success`](Self::success),
/// [`failure`](Self::failure), [`ignore`](Self::ignore)); the call's
/// duration is measured from the acquisition.
///
/// Dropping the permit without reporting counts the call as cancelled:
/// neither success nor failure, and a half-open trial slot it held is
/// given back.
///
/// The permit API is what [`call`](CircuitBreaker::call) is built on; use
/// it directly to judge successful results too (a `200` with an error
/// page, say):
///
/// ```
/// use weft_patterns::circuit_breaker::{CircuitBreaker, CircuitState};
///
/// let breaker = CircuitBreaker::<()>::builder().consecutive_failures(2).build().unwrap();
/// for body in ["error page", "error page"] {
///     let permit = breaker.try_acquire().unwrap();
///     if body.starts_with("error") {
///         permit.failure();
///     } else {
///         permit.success();
///     }
/// }
/// assert_eq!(breaker.state(), CircuitState::Open);
/// ```
pub struct CallPermit<'a, E> {
    breaker: &'a CircuitBreaker<E>,
    generation: u64,
    started: Instant,
    settled: bool,
}

impl<'a, E> CallPermit<'a, E> {
    pub(crate) fn new(breaker: &'a CircuitBreaker<E>, generation: u64, started: Instant) -> Self {
        Self {
            breaker,
            generation,
            started,
            settled: false,
        }
    }

    /// Reports `result`: `Ok` is a success; an error is classified by the
    /// breaker's predicates (a failure by default).
    pub fn record<T>(self, result: &Result<T, E>) {
        let ending = match result {
            Ok(_) => Ending::Success,
            Err(error) => match self.breaker.settings.classify(error) {
                Some(true) => Ending::Failure,
                Some(false) => Ending::Success,
                None => Ending::Ignored,
            },
        };
        self.settle(ending);
    }

    /// Reports a success.
    pub fn success(self) {
        self.settle(Ending::Success);
    }

    /// Reports a failure, whatever the predicates say.
    pub fn failure(self) {
        self.settle(Ending::Failure);
    }

    /// Reports a call that should count as neither success nor failure.
    pub fn ignore(self) {
        self.settle(Ending::Ignored);
    }

    fn settle(mut self, ending: Ending) {
        self.settled = true;
        self.breaker.finish(self.generation, ending, self.started);
    }
}

impl<E> Drop for CallPermit<'_, E> {
    fn drop(&mut self) {
        if !self.settled {
            self.breaker
                .finish(self.generation, Ending::Cancelled, self.started);
        }
    }
}

impl<E> fmt::Debug for CallPermit<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallPermit")
            .field("breaker", &self.breaker.name())
            .field(
                "running_for",
                &time::now().saturating_duration_since(self.started),
            )
            .finish()
    }
}

/// A call refused by a circuit breaker, saying when to try again.
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::circuit_breaker::{CircuitBreaker, CircuitState};
/// use weft_patterns::retry::{Backoff, Jitter};
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let breaker = CircuitBreaker::<&str>::builder()
///         .name("payments")
///         .consecutive_failures(1)
///         .open_wait(Backoff::constant(Duration::from_secs(30)).jitter(Jitter::None))
///         .build()
///         .unwrap();
///     let _ = breaker.call(async { Err::<(), _>("timeout") }).await;
///     let rejected = breaker.try_acquire().unwrap_err();
///     assert_eq!(rejected.state(), CircuitState::Open);
///     assert_eq!(rejected.retry_after(), Some(Duration::from_secs(30)));
///     assert_eq!(rejected.to_string(), "circuit breaker `payments` is open: retry in 30s");
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub(crate) name: Arc<str>,
    pub(crate) state: CircuitState,
    pub(crate) retry_after: Option<Duration>,
}

impl Rejected {
    /// The name of the breaker that refused the call.
    pub fn breaker_name(&self) -> &str {
        &self.name
    }

    /// The state that refused it: open, half-open (every trial slot taken)
    /// or forced open.
    pub fn state(&self) -> CircuitState {
        self.state
    }

    /// When to try again. Open: exactly when the open wait ends (trial
    /// calls are let through from then on). Half-open: at the latest, when
    /// its maximum wait ends (the trials may give a verdict sooner).
    /// Forced open: `None`, as only a manual reset lets calls through.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

display!(impl[] Rejected, |self, f| {
    write!(f, "circuit breaker `{}` is {}", self.name, self.state)?;
    match (self.state, self.retry_after) {
        (CircuitState::HalfOpen, Some(after)) => {
            write!(f, " and its trial calls are taken: retry within {after:?}")
        }
        (_, Some(after)) => write!(f, ": retry in {after:?}"),
        (_, None) => f.write_str(": calls are refused until it is reset"),
    }
});

impl Error for Rejected {}

/// The error of [`CircuitBreaker::call`]: refused, or the call's own error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError<E> {
    /// The breaker refused the call; the work was dropped unpolled (a
    /// future does nothing until polled, so nothing of it ran).
    Rejected(Rejected),
    /// The call ran and returned this error.
    Failed(E),
}

impl<E> CallError<E> {
    /// The refusal, if the breaker refused the call.
    pub fn rejected(&self) -> Option<&Rejected> {
        match self {
            Self::Rejected(rejected) => Some(rejected),
            Self::Failed(_) => None,
        }
    }

    /// The call's own error, if it ran.
    pub fn into_failure(self) -> Option<E> {
        match self {
            Self::Rejected(_) => None,
            Self::Failed(error) => Some(error),
        }
    }
}

display!(impl[E: fmt::Display] CallError<E>, |self, f| match self {
    Self::Rejected(rejected) => rejected.fmt(f),
    Self::Failed(error) => error.fmt(f),
});

impl<E: Error + 'static> Error for CallError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Rejected(_) => None,
            Self::Failed(error) => Some(error),
        }
    }
}

impl<E> From<Rejected> for CallError<E> {
    fn from(rejected: Rejected) -> Self {
        Self::Rejected(rejected)
    }
}
