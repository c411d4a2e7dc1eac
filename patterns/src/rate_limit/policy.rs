//! [`RatePolicy`]: what a rate-limiting algorithm must answer, so that one
//! waiting front-end ([`RateLimiter`](super::RateLimiter),
//! [`KeyedRateLimiter`](super::KeyedRateLimiter)) serves them all.
//!
//! A policy only does arithmetic on its own state: may `n` tokens be taken
//! at this instant, and if not, how long until they could be. It never
//! sleeps, never queues and never reads a clock; the caller passes `now`.
//! Waiting, fairness, bounds and statistics live once, in the front-end.
//! That split also makes every policy testable with made-up instants.

use std::fmt;
use std::time::{Duration, Instant};

/// A rate-limiting algorithm: the arithmetic of admitting tokens.
///
/// Implemented by [`Gcra`](super::Gcra), [`TokenBucket`](super::TokenBucket),
/// [`SlidingWindowLog`](super::SlidingWindowLog) and
/// [`SlidingWindowCounter`](super::SlidingWindowCounter); implement it to
/// put your own algorithm behind the same waiting front-end.
///
/// # Contract
///
/// * Methods take `&self` and may be called from several threads at once:
///   state lives in atomics or behind a short lock, never held across an
///   await (a policy never awaits).
/// * `n` is between 1 and [`capacity`](Self::capacity) when the front-end
///   asks (it answers other requests itself). Asked directly, a policy
///   admits `n = 0` at once and refuses `n > capacity` with a wait of
///   `Duration::MAX` (never), without touching its state.
/// * [`try_take`](Self::try_take) returning `Err(wait)` changed nothing, and
///   `wait` is exact: if nothing is taken meanwhile, `try_take(n, now + wait)`
///   succeeds and any instant before `now + wait` would still refuse. Later
///   instants never refuse what an earlier one admitted (time only helps).
/// * [`is_at_rest`](Self::is_at_rest) is true only when the state is that
///   of a newly built policy (bucket full, window empty) and a new policy
///   used from `now` on could never admit more than this one: a keyed
///   limiter may then drop it and build a fresh one later without giving
///   anybody tokens they could not have had.
///
/// # Examples
///
/// Using a policy directly, with instants of your own:
///
/// ```
/// use std::time::{Duration, Instant};
/// use weft_patterns::rate_limit::{Gcra, Quota, RatePolicy};
///
/// let gcra = Gcra::new(Quota::per_second(4)); // one token every 250 ms
/// let start = Instant::now();
/// assert!(gcra.try_take(4, start).is_ok());
/// assert_eq!(gcra.try_take(1, start), Err(Duration::from_millis(250)));
/// assert_eq!(gcra.time_until(2, start), Duration::from_millis(500));
/// assert!(gcra.try_take(1, start + Duration::from_millis(250)).is_ok());
/// assert!(gcra.is_at_rest(start + Duration::from_secs(2)));
/// ```
pub trait RatePolicy: fmt::Debug {
    /// The most tokens a single request can ever get: the burst size or the
    /// window limit. Larger requests are refused as impossible.
    fn capacity(&self) -> u32;

    /// Takes `n` tokens if they are available at `now`; otherwise changes
    /// nothing and returns how long from `now` until they would be.
    fn try_take(&self, n: u32, now: Instant) -> Result<(), Duration>;

    /// How long from `now` until `n` tokens could be taken (zero if they can
    /// be taken now). Takes nothing.
    fn time_until(&self, n: u32, now: Instant) -> Duration;

    /// Whether the state is that of a fresh policy at `now` (see the
    /// contract above): forgetting it gives nobody more allowance.
    fn is_at_rest(&self, now: Instant) -> bool;
}

/// The answer to a request outside `1..=capacity`, given without looking
/// at the state: zero tokens are always there, more than the capacity
/// never are.
pub(crate) fn out_of_range(n: u32, capacity: u32) -> Option<Result<(), Duration>> {
    match n {
        0 => Some(Ok(())),
        n if n > capacity => Some(Err(Duration::MAX)),
        _ => None,
    }
}
