//! [`CircuitBreakerBuilder`]: every setting of a circuit breaker, checked
//! once when it is built.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::events::{CircuitEvent, Listener};
use super::CircuitBreaker;
use crate::config::{at_least_one, longer_than_zero, percentage, ConfigError};
use crate::retry::{Backoff, Jitter};

/// How the closed state remembers recent calls.
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::circuit_breaker::SlidingWindow;
///
/// let last_hundred_calls = SlidingWindow::Count(100);
/// let last_minute = SlidingWindow::time(Duration::from_secs(60));
/// assert_eq!(last_minute, SlidingWindow::Time { length: Duration::from_secs(60), buckets: 10 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlidingWindow {
    /// The last `n` calls.
    Count(u32),
    /// The calls that ended in the last `length`, kept in `buckets` buckets
    /// of `length / buckets` each: a call is forgotten between
    /// `length - length / buckets` and `length` after it ended.
    Time {
        /// How far back the window reaches.
        length: Duration,
        /// Into how many buckets it is cut (its precision).
        buckets: u32,
    },
}

impl SlidingWindow {
    /// A time window of `length` in 10 buckets.
    pub fn time(length: Duration) -> Self {
        Self::Time {
            length,
            buckets: 10,
        }
    }
}

type ErrorPredicate<E> = Arc<dyn Fn(&E) -> bool + Send + Sync>;

/// The rules the state machine applies: every setting but the name, the
/// error predicates and the listeners. Checked once, then owned by the
/// breaker's state.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    pub(crate) failure_rate_threshold: f64,
    pub(crate) slow_call_rate_threshold: f64,
    pub(crate) slow_call_duration: Duration,
    pub(crate) consecutive_failures: Option<u32>,
    pub(crate) window: SlidingWindow,
    /// The minimum number of calls, lowered to the window's size for a
    /// count window (a bigger minimum could never be met).
    pub(crate) minimum_calls: u32,
    pub(crate) permitted_in_half_open: u32,
    pub(crate) max_wait_in_half_open: Duration,
    pub(crate) open_wait: Backoff,
    pub(crate) seed: Option<u64>,
}

/// The settings of a built breaker, checked and fixed.
pub(crate) struct Settings<E> {
    pub(crate) name: Arc<str>,
    pub(crate) rules: Rules,
    pub(crate) record_error_if: Option<ErrorPredicate<E>>,
    pub(crate) ignore_error_if: Option<ErrorPredicate<E>>,
    pub(crate) listeners: Vec<Listener>,
}

impl<E> Settings<E> {
    /// Whether `error` counts: `Some(true)` a failure, `Some(false)` a
    /// success, `None` ignored.
    pub(crate) fn classify(&self, error: &E) -> Option<bool> {
        if self
            .ignore_error_if
            .as_ref()
            .is_some_and(|ignore| ignore(error))
        {
            return None;
        }
        Some(
            self.record_error_if
                .as_ref()
                .is_none_or(|record| record(error)),
        )
    }
}

/// Builds a [`CircuitBreaker`]; start from
/// [`CircuitBreaker::builder`]. The defaults follow resilience4j, except
/// that the half-open state has a maximum wait (resilience4j waits
/// forever by default, so one hung trial call keeps the breaker half-open).
///
/// | setting | default |
/// |---|---|
/// | [`name`](Self::name) | `"circuit breaker"` |
/// | [`failure_rate_threshold`](Self::failure_rate_threshold) | 50 % |
/// | [`consecutive_failures`](Self::consecutive_failures) | off |
/// | [`sliding_window`](Self::sliding_window) | the last 100 calls |
/// | [`minimum_calls`](Self::minimum_calls) | 100 |
/// | [`slow_call_duration`](Self::slow_call_duration) | 60 s |
/// | [`slow_call_rate_threshold`](Self::slow_call_rate_threshold) | 100 % |
/// | [`permitted_calls_in_half_open`](Self::permitted_calls_in_half_open) | 10 |
/// | [`max_wait_in_half_open`](Self::max_wait_in_half_open) | 60 s |
/// | [`open_wait`](Self::open_wait) | 60 s, constant, no jitter |
/// | errors | every error is a failure |
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::circuit_breaker::{CircuitBreaker, SlidingWindow};
/// use weft_patterns::retry::{Backoff, Jitter};
///
/// let breaker = CircuitBreaker::<std::io::Error>::builder()
///     .name("inventory")
///     .sliding_window(SlidingWindow::time(Duration::from_secs(30)))
///     .minimum_calls(20)
///     .failure_rate_threshold(25.0)
///     .consecutive_failures(5)
///     .slow_call_duration(Duration::from_secs(2))
///     .slow_call_rate_threshold(50.0)
///     .permitted_calls_in_half_open(3)
///     .max_wait_in_half_open(Duration::from_secs(10))
///     .open_wait(
///         Backoff::exponential(Duration::from_secs(5))
///             .max_delay(Duration::from_secs(300))
///             .jitter(Jitter::Equal),
///     )
///     .ignore_error_if(|e| e.kind() == std::io::ErrorKind::NotFound)
///     .build()
///     .unwrap();
/// assert_eq!(breaker.name(), "inventory");
///
/// let err = CircuitBreaker::<()>::builder().failure_rate_threshold(150.0).build().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "invalid CircuitBreakerBuilder::failure_rate_threshold = 150.0: must be a percentage above 0 and at most 100"
/// );
/// ```
pub struct CircuitBreakerBuilder<E> {
    settings: Settings<E>,
}

impl<E> CircuitBreakerBuilder<E> {
    pub(crate) fn new() -> Self {
        Self {
            settings: Settings {
                name: Arc::from("circuit breaker"),
                rules: Rules {
                    failure_rate_threshold: 50.0,
                    slow_call_rate_threshold: 100.0,
                    slow_call_duration: Duration::from_secs(60),
                    consecutive_failures: None,
                    window: SlidingWindow::Count(100),
                    minimum_calls: 100,
                    permitted_in_half_open: 10,
                    max_wait_in_half_open: Duration::from_secs(60),
                    open_wait: Backoff::constant(Duration::from_secs(60)).jitter(Jitter::None),
                    seed: None,
                },
                record_error_if: None,
                ignore_error_if: None,
                listeners: Vec::new(),
            },
        }
    }

    setters! {
        /// A name for messages and `Debug` (a host, a service).
        name(name: impl Into<Arc<str>>) => settings.name = name.into();
        /// Open when at least this percentage of the calls in the window failed
        /// (once the window holds [`minimum_calls`](Self::minimum_calls)).
        failure_rate_threshold(percent: f64) => settings.rules.failure_rate_threshold = percent;
        /// Also open after `count` failures in a row, whatever the window
        /// holds (a quick trip for a dependency that is plainly down). Applies
        /// in the closed state; half-open judges its trial calls by rate.
        consecutive_failures(count: u32) => settings.rules.consecutive_failures = Some(count);
        /// The window the rates are computed over.
        sliding_window(window: SlidingWindow) => settings.rules.window = window;
        /// Rates are judged only once the window holds this many calls (for a
        /// count window, at most its size).
        minimum_calls(calls: u32) => settings.rules.minimum_calls = calls;
        /// A call that runs at least this long is slow (whether it succeeds or
        /// fails).
        slow_call_duration(duration: Duration) => settings.rules.slow_call_duration = duration;
        /// Open when at least this percentage of the calls in the window were
        /// slow: a dependency that answers, but too late, is shed too.
        slow_call_rate_threshold(percent: f64) =>
            settings.rules.slow_call_rate_threshold = percent;
        /// How many trial calls the half-open state lets through; further calls
        /// are rejected until the trials give a verdict.
        permitted_calls_in_half_open(calls: u32) => settings.rules.permitted_in_half_open = calls;
        /// The longest the half-open state may last: if the trial calls have
        /// not given a verdict by then (one hung, or too few came), the breaker
        /// opens again, and the late outcomes are ignored.
        max_wait_in_half_open(wait: Duration) => settings.rules.max_wait_in_half_open = wait;
        /// How long the open state lasts: the n-th consecutive opening (since
        /// the breaker last closed) waits the n-th delay of `backoff`, so a
        /// dependency that keeps failing its trials is probed less and less
        /// often; jitter spreads the probes of many clients.
        open_wait(backoff: Backoff) => settings.rules.open_wait = backoff;
        /// Makes the open-wait jitter reproducible.
        seed(seed: u64) => settings.rules.seed = Some(seed);
        /// Only errors for which `predicate` is true are failures; the others
        /// count as successes (the dependency answered: a "not found" is not an
        /// outage). By default every error is a failure.
        record_error_if(predicate: impl Fn(&E) -> bool + Send + Sync + 'static) =>
            settings.record_error_if = Some(Arc::new(predicate));
        /// Errors for which `predicate` is true count as neither success nor
        /// failure (checked before [`record_error_if`](Self::record_error_if)).
        ignore_error_if(predicate: impl Fn(&E) -> bool + Send + Sync + 'static) =>
            settings.ignore_error_if = Some(Arc::new(predicate));
    }

    /// Calls `listener` with every [`CircuitEvent`]. Listeners run on the
    /// thread that caused the event, after the breaker's lock is released
    /// (a listener may call the breaker), in the order the events happened
    /// on that thread.
    pub fn on_event(mut self, listener: impl Fn(&CircuitEvent) + Send + Sync + 'static) -> Self {
        self.settings.listeners.push(Arc::new(listener));
        self
    }

    /// Checks the settings and builds the breaker, which starts closed.
    pub fn build(mut self) -> Result<CircuitBreaker<E>, ConfigError> {
        let s = &mut self.settings.rules;
        percentage(
            "CircuitBreakerBuilder::failure_rate_threshold",
            s.failure_rate_threshold,
        )?;
        percentage(
            "CircuitBreakerBuilder::slow_call_rate_threshold",
            s.slow_call_rate_threshold,
        )?;
        let consecutive = s.consecutive_failures.unwrap_or(1);
        at_least_one("CircuitBreakerBuilder::consecutive_failures", consecutive)?;
        let (ok, requirement) = match s.window {
            SlidingWindow::Count(size) => {
                s.minimum_calls = s.minimum_calls.min(size);
                (size > 0, "a count window must hold at least 1 call")
            }
            SlidingWindow::Time { length, buckets } => (
                buckets > 0 && length.as_nanos() >= u128::from(buckets),
                "a time window needs at least 1 bucket and at least 1 ns per bucket",
            ),
        };
        let window = "CircuitBreakerBuilder::sliding_window";
        ConfigError::check(ok, window, s.window, requirement)?;
        at_least_one("CircuitBreakerBuilder::minimum_calls", s.minimum_calls)?;
        let slow = "CircuitBreakerBuilder::slow_call_duration";
        longer_than_zero(slow, s.slow_call_duration)?;
        let trials = "CircuitBreakerBuilder::permitted_calls_in_half_open";
        at_least_one(trials, s.permitted_in_half_open)?;
        let max_wait = "CircuitBreakerBuilder::max_wait_in_half_open";
        longer_than_zero(max_wait, s.max_wait_in_half_open)?;
        Ok(CircuitBreaker::from_settings(self.settings))
    }
}

impl<E> fmt::Debug for CircuitBreakerBuilder<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.settings.fmt(f)
    }
}

impl<E> fmt::Debug for Settings<E> {
    /// Every setting but the closures, which show as present or not.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("name", &self.name)
            .field("rules", &self.rules)
            .field("record_error_if", &self.record_error_if.is_some())
            .field("ignore_error_if", &self.ignore_error_if.is_some())
            .field("listeners", &self.listeners.len())
            .finish()
    }
}
