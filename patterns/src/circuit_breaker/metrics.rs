//! [`CircuitMetrics`]: a snapshot of what a circuit breaker knows.

use super::CircuitState;

/// A snapshot of a [`CircuitBreaker`](super::CircuitBreaker)'s state, its
/// window and its totals, from [`metrics`](super::CircuitBreaker::metrics).
///
/// The window fields describe the closed state's sliding window, or the
/// trial calls recorded so far in the half-open state; they are zero in
/// the other states (each state starts with a fresh window).
///
/// ```
/// use weft_patterns::circuit_breaker::{CircuitBreaker, CircuitState};
///
/// let breaker = CircuitBreaker::<&str>::builder().minimum_calls(4).build().unwrap();
/// for outcome in [Ok(()), Err("boom"), Ok(())] {
///     breaker.try_acquire().unwrap().record(&outcome);
/// }
/// let m = breaker.metrics();
/// assert_eq!(m.state, CircuitState::Closed);
/// assert_eq!((m.buffered_calls, m.failed_calls), (3, 1));
/// assert_eq!(m.failure_rate, None); // fewer than `minimum_calls` so far
/// assert_eq!((m.successes, m.failures), (2, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CircuitMetrics {
    /// The current state.
    pub state: CircuitState,
    /// Failed calls in percent of the window; `None` until the window
    /// holds the minimum number of calls (half-open: until a trial ended).
    pub failure_rate: Option<f64>,
    /// Slow calls in percent of the window; `None` as above.
    pub slow_call_rate: Option<f64>,
    /// Calls in the window.
    pub buffered_calls: u32,
    /// Failed calls in the window.
    pub failed_calls: u32,
    /// Slow calls in the window (successful or not).
    pub slow_calls: u32,
    /// Calls in the window that were both slow and failed.
    pub slow_failed_calls: u32,
    /// The current run of failures (closed state).
    pub consecutive_failures: u32,
    /// Successful calls since the breaker was built.
    pub successes: u64,
    /// Failed calls since the breaker was built.
    pub failures: u64,
    /// Calls that ended with an ignored error.
    pub ignored: u64,
    /// Calls whose future was dropped before they ended.
    pub cancelled: u64,
    /// Calls refused (not permitted).
    pub rejected: u64,
}
