//! [`Retry`]: one retried call being described, then awaited.
//!
//! The loop itself is a plain `async fn` (`Retry::run`), the clearest way
//! to write "attempt, decide, sleep, repeat". Awaiting a `Retry` boxes that
//! future once ([`RetryFuture`]) so that its type can be named; the
//! predicates and hooks are boxed too, which keeps `Retry` to three type
//! parameters however many of them are set.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::{Duration, Instant};

use weft_runtime::time;

use super::stats::StatCounters;
use super::{AttemptFailure, Delays, GiveUpReason, RetryError, RetryPolicy};
use crate::deadline::{deadline_after, passed_at, step_deadline, within};

type Predicate<'a, X> = Box<dyn FnMut(&X) -> bool + 'a>;
type Hint<'a, E> = Box<dyn FnMut(&E) -> Option<Duration> + 'a>;
type Hook<'a, T, E> = Box<dyn FnMut(&RetryEvent<'_, T, E>) + 'a>;

/// A call of an operation under a [`RetryPolicy`], made by
/// [`RetryPolicy::retry`]. Refine it with the methods below, then `.await`
/// it for `Result<T, RetryError<E>>`.
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::retry::{Backoff, Jitter, RetryCause, RetryPolicy};
///
/// #[derive(Debug)]
/// struct HttpError { status: u16, retry_after: Option<Duration> }
///
/// let policy = RetryPolicy::new(Backoff::constant(Duration::from_secs(1)).jitter(Jitter::None));
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let mut responses = vec![
///         Ok(200),
///         Err(HttpError { status: 503, retry_after: Some(Duration::from_secs(7)) }),
///     ];
///     let mut waits = Vec::new();
///     let status = policy
///         .retry(|| {
///             let response = responses.pop().unwrap();
///             async move { response }
///         })
///         .when(|e| e.status >= 500)
///         .retry_after(|e| e.retry_after)
///         .on_retry(|event| waits.push(event.delay))
///         .await;
///     assert_eq!(status.unwrap(), 200);
///     // The server's hint replaced the 1 s backoff.
///     assert_eq!(waits, [Duration::from_secs(7)]);
/// });
/// ```
pub struct Retry<'a, Op, T, E> {
    policy: &'a RetryPolicy,
    operation: Op,
    retry_error_if: Option<Predicate<'a, E>>,
    retry_value_if: Option<Predicate<'a, T>>,
    retry_after: Option<Hint<'a, E>>,
    on_retry: Option<Hook<'a, T, E>>,
}

/// What made the last attempt fail, as shown to the
/// [`on_retry`](Retry::on_retry) hook.
#[derive(Debug)]
pub enum RetryCause<'e, T, E> {
    /// The operation returned this error.
    Error(&'e E),
    /// The attempt ran past the per-attempt timeout and was dropped.
    TimedOut,
    /// The operation returned a value that [`when_value`](Retry::when_value)
    /// asked to retry.
    Value(&'e T),
}

/// A retry about to happen, as shown to the [`on_retry`](Retry::on_retry)
/// hook (before the backoff sleep).
#[derive(Debug)]
pub struct RetryEvent<'e, T, E> {
    /// The attempt that failed, from 1.
    pub attempt: u32,
    /// Why it failed.
    pub cause: RetryCause<'e, T, E>,
    /// How long the call will sleep before the next attempt.
    pub delay: Duration,
    /// Time since the call started.
    pub elapsed: Duration,
}

/// How one attempt ended, before the policy judges it.
enum Failed<T, E> {
    Error(E),
    TimedOut,
    Value(T),
}

impl<'a, Op, Fut, T, E> Retry<'a, Op, T, E>
where
    Op: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    pub(crate) fn new(policy: &'a RetryPolicy, operation: Op) -> Self {
        Self {
            policy,
            operation,
            retry_error_if: None,
            retry_value_if: None,
            retry_after: None,
            on_retry: None,
        }
    }

    setters! {
        /// Retries only the errors for which `predicate` is true (by default
        /// every error is retried). Other errors end the call at once with
        /// [`GiveUpReason::NotRetryable`].
        when(predicate: impl FnMut(&E) -> bool + 'a) =>
            retry_error_if = Some(Box::new(predicate));
        /// Also retries successful values for which `predicate` is true (an
        /// empty page, a "try later" status). If the retries run out, the last
        /// such value is returned as `Ok`, and the call counts as given up.
        when_value(predicate: impl FnMut(&T) -> bool + 'a) =>
            retry_value_if = Some(Box::new(predicate));
        /// Lets an error name the next delay (HTTP's `Retry-After`, a circuit
        /// breaker's "retry in"): when `hint` returns `Some(delay)`, the call
        /// sleeps exactly that long (no jitter, and even past `max_delay`: the
        /// server knows best), still within the deadline and the retry limits.
        retry_after(hint: impl FnMut(&E) -> Option<Duration> + 'a) =>
            retry_after = Some(Box::new(hint));
        /// Calls `hook` before every retry's sleep, with the failed attempt,
        /// its cause and the coming delay (for logs and metrics).
        on_retry(hook: impl FnMut(&RetryEvent<'_, T, E>) + 'a) => on_retry = Some(Box::new(hook));
    }

    /// Runs the call, counting it as cancelled if its future is dropped
    /// before it ends.
    async fn run(self) -> Result<T, RetryError<E>> {
        let stats = &self.policy.stats;
        let call_number = StatCounters::bump(&stats.calls);
        let mut watch = CancelWatch {
            stats,
            finished: false,
        };
        let outcome = self.attempts(call_number).await;
        watch.finished = true;
        outcome
    }

    /// The retry loop (see the module docs of `retry`).
    async fn attempts(mut self, call_number: u64) -> Result<T, RetryError<E>> {
        let policy = self.policy;
        let started = time::now();
        let deadline = deadline_after(started, policy.deadline);
        if let Some(budget) = &policy.budget {
            budget.deposit();
        }
        let mut delays = policy.delays_for_call(call_number);
        let mut attempt = 1;
        loop {
            let failed = match self.attempt(deadline).await {
                Ok(Ok(value)) if !self.value_is_retryable(&value) => {
                    let succeeded = match attempt {
                        1 => &policy.stats.succeeded_first_try,
                        _ => &policy.stats.succeeded_after_retries,
                    };
                    StatCounters::bump(succeeded);
                    return Ok(value);
                }
                Ok(Ok(value)) => Failed::Value(value),
                Ok(Err(error)) => Failed::Error(error),
                Err(cut_at) => {
                    StatCounters::bump(&policy.stats.attempt_timeouts);
                    if cut_at == deadline {
                        let reason = GiveUpReason::DeadlineReached;
                        return self.give_up(reason, Failed::TimedOut, attempt, started);
                    }
                    Failed::TimedOut
                }
            };
            let delay = match self.next_delay(&failed, attempt, &mut delays, deadline) {
                Ok(delay) => delay,
                Err(reason) => return self.give_up(reason, failed, attempt, started),
            };
            if let Some(hook) = &mut self.on_retry {
                hook(&RetryEvent {
                    attempt,
                    cause: match &failed {
                        Failed::Error(error) => RetryCause::Error(error),
                        Failed::TimedOut => RetryCause::TimedOut,
                        Failed::Value(value) => RetryCause::Value(value),
                    },
                    delay,
                    elapsed: time::now() - started,
                });
            }
            // The failure is dropped before the sleep: nothing of the old
            // attempt outlives it.
            drop(failed);
            time::sleep(delay).await;
            StatCounters::bump(&policy.stats.retries);
            attempt += 1;
        }
    }

    /// Runs one attempt, cut at the earlier of the per-attempt timeout and
    /// the total deadline. `Err(cut_at)`: it was cut (and dropped) then.
    async fn attempt(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<Result<T, E>, Option<Instant>> {
        let cut_at = step_deadline(self.policy.attempt_timeout, deadline);
        within(cut_at, (self.operation)()).await.ok_or(cut_at)
    }

    fn value_is_retryable(&mut self, value: &T) -> bool {
        self.retry_value_if
            .as_mut()
            .is_some_and(|predicate| predicate(value))
    }

    /// Decides whether the call may retry after `failed` (attempt number
    /// `attempt`), and if so after how long. The checks run from the
    /// cheapest and most final to the one with a side effect (the budget
    /// withdrawal), so a refused retry never spends budget.
    fn next_delay(
        &mut self,
        failed: &Failed<T, E>,
        attempt: u32,
        delays: &mut Delays,
        deadline: Option<Instant>,
    ) -> Result<Duration, GiveUpReason> {
        let policy = self.policy;
        if let (Failed::Error(error), Some(predicate)) = (failed, &mut self.retry_error_if) {
            if !predicate(error) {
                return Err(GiveUpReason::NotRetryable);
            }
        }
        if attempt > policy.max_retries {
            return Err(GiveUpReason::RetriesExhausted);
        }
        // The n-th retry consumes the n-th backoff delay even when a hint
        // overrides it, so the sequence stays aligned with the attempts.
        let backoff_delay = delays.next().unwrap_or_default();
        let hinted = match (failed, &mut self.retry_after) {
            (Failed::Error(error), Some(hint)) => hint(error),
            _ => None,
        };
        let delay = hinted.unwrap_or(backoff_delay);
        if passed_at(deadline, deadline_after(time::now(), Some(delay))) {
            return Err(GiveUpReason::DeadlineReached);
        }
        if let Some(budget) = &policy.budget {
            if !budget.try_withdraw() {
                StatCounters::bump(&policy.stats.budget_denials);
                return Err(GiveUpReason::BudgetExhausted);
            }
        }
        Ok(delay)
    }

    /// Ends the call without an accepted result.
    fn give_up(
        &self,
        reason: GiveUpReason,
        failed: Failed<T, E>,
        attempts: u32,
        started: Instant,
    ) -> Result<T, RetryError<E>> {
        StatCounters::bump(&self.policy.stats.gave_up);
        let last = match failed {
            Failed::Value(value) => return Ok(value),
            Failed::Error(error) => AttemptFailure::Error(error),
            Failed::TimedOut => AttemptFailure::TimedOut,
        };
        Err(RetryError {
            reason,
            last,
            attempts,
            elapsed: time::now() - started,
        })
    }
}

/// Counts the call as cancelled if its future is dropped before it ends.
struct CancelWatch<'a> {
    stats: &'a StatCounters,
    finished: bool,
}

impl Drop for CancelWatch<'_> {
    fn drop(&mut self) {
        if !self.finished {
            StatCounters::bump(&self.stats.cancelled);
        }
    }
}

impl<'a, Op, Fut, T, E> IntoFuture for Retry<'a, Op, T, E>
where
    Op: FnMut() -> Fut + 'a,
    Fut: Future<Output = Result<T, E>> + 'a,
    T: 'a,
    E: 'a,
{
    type Output = Result<T, RetryError<E>>;
    type IntoFuture = RetryFuture<'a, T, E>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

impl<Op, T, E> fmt::Debug for Retry<'_, Op, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("policy", self.policy)
            .field("when", &self.retry_error_if.is_some())
            .field("when_value", &self.retry_value_if.is_some())
            .field("retry_after", &self.retry_after.is_some())
            .field("on_retry", &self.on_retry.is_some())
            .finish_non_exhaustive()
    }
}

/// The future of an awaited [`Retry`]: the retry loop, boxed once so that
/// its type can be named. Dropping it stops the call at once (see the
/// module docs of `retry`).
pub type RetryFuture<'a, T, E> = Pin<Box<dyn Future<Output = Result<T, RetryError<E>>> + 'a>>;
