//! Backoff: how long to wait before each retry.
//!
//! A [`Backoff`] is a recipe; [`Backoff::delays`] turns it into an endless
//! iterator of [`Delays`]. The n-th delay (n = 0 for the wait before the
//! first retry) is computed in three steps:
//!
//! ```text
//!   1. raw      constant      base
//!               exponential   base × factorⁿ
//!               fibonacci     base × F(n+1)        (1, 1, 2, 3, 5, 8, ...)
//!               decorrelated  uniform(base ..= 3 × previous delay)
//!   2. capped   min(raw, max_delay)
//!   3. jittered none    capped
//!               full    uniform(0 ..= capped)
//!               equal   capped/2 + uniform(0 ..= capped/2)
//! ```
//!
//! Jitter is applied *after* the cap, so no jittered delay ever exceeds
//! `max_delay` (a common bug multiplies the capped delay by a random factor
//! above 1). It is on by default ([`Jitter::Full`], which spreads a crowd of
//! clients that failed together over the whole interval, the variant AWS's
//! "Exponential Backoff and Jitter" study found best); [`Jitter::Equal`]
//! keeps at least half of each delay. Decorrelated jitter (from the same
//! study) is random by construction and ignores the [`Jitter`] setting.
//!
//! Randomness comes from a small seeded generator (SplitMix64, no
//! dependency); [`Backoff::delays_seeded`] makes a sequence reproducible.
//!
//! ```
//! use std::time::Duration;
//! use weft_patterns::retry::{Backoff, Jitter};
//!
//! let ms = Duration::from_millis;
//! let exact = Backoff::exponential(ms(100)).max_delay(ms(1000)).jitter(Jitter::None);
//! let delays: Vec<_> = exact.delays().take(6).collect();
//! assert_eq!(delays, [ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)]);
//!
//! // With full jitter each delay lies in 0..=its un-jittered value.
//! let jittered = Backoff::exponential(ms(100)).max_delay(ms(1000));
//! for (delay, bound) in jittered.delays().zip(delays) {
//!     assert!(delay <= bound);
//! }
//! ```

use std::fmt;
use std::time::Duration;

use super::rng::JitterRng;

/// The cap that growing backoffs get unless told otherwise.
const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(60);

/// How a delay is randomised after it is capped (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Jitter {
    /// The delay as computed: exact, and identical for every client.
    None,
    /// Uniform in `0..=delay`: the widest spread (the default).
    #[default]
    Full,
    /// Uniform in `delay/2..=delay`: spread, but never shorter than half.
    Equal,
}

/// The shape of the raw delays.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Constant,
    Exponential { factor: f64 },
    Fibonacci,
    DecorrelatedJitter,
}

/// A backoff recipe: a shape, a base delay, a cap and a jitter.
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::retry::{Backoff, Jitter};
///
/// let s = Duration::from_secs;
/// let fib = Backoff::fibonacci(s(1)).jitter(Jitter::None);
/// let delays: Vec<_> = fib.delays().take(6).collect();
/// assert_eq!(delays, [s(1), s(1), s(2), s(3), s(5), s(8)]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    shape: Shape,
    base: Duration,
    max_delay: Duration,
    jitter: Jitter,
}

impl Backoff {
    /// The same delay every time; no cap (it would only matter below
    /// `delay`).
    pub fn constant(delay: Duration) -> Self {
        Self::new(Shape::Constant, delay, Duration::MAX)
    }

    /// `base`, then doubling (see [`factor`](Self::factor)), capped at 60 s
    /// unless [`max_delay`](Self::max_delay) says otherwise.
    pub fn exponential(base: Duration) -> Self {
        Self::new(Shape::Exponential { factor: 2.0 }, base, DEFAULT_MAX_DELAY)
    }

    /// `base` times the Fibonacci numbers (1, 1, 2, 3, 5, ...): gentler
    /// growth than doubling; capped at 60 s unless told otherwise.
    pub fn fibonacci(base: Duration) -> Self {
        Self::new(Shape::Fibonacci, base, DEFAULT_MAX_DELAY)
    }

    /// AWS's "decorrelated jitter": each delay is uniform between `base`
    /// and three times the previous one, capped at 60 s unless told
    /// otherwise. It is random by construction, so [`jitter`](Self::jitter)
    /// does not apply.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_patterns::retry::Backoff;
    ///
    /// let ms = Duration::from_millis;
    /// let mut previous = ms(100);
    /// for delay in Backoff::decorrelated_jitter(ms(100)).max_delay(ms(5000)).delays().take(20) {
    ///     assert!(delay >= ms(100) && delay <= (previous * 3).min(ms(5000)));
    ///     previous = delay;
    /// }
    /// ```
    pub fn decorrelated_jitter(base: Duration) -> Self {
        Self::new(Shape::DecorrelatedJitter, base, DEFAULT_MAX_DELAY)
    }

    fn new(shape: Shape, base: Duration, max_delay: Duration) -> Self {
        Self {
            shape,
            base,
            max_delay,
            jitter: Jitter::default(),
        }
    }

    /// The growth factor of an exponential backoff (default 2; gRPC uses
    /// 1.6). Other shapes ignore it.
    ///
    /// # Panics
    ///
    /// If `factor` is not a finite number of at least 1: a smaller factor
    /// would make delays shrink, which is a mistake in the program rather
    /// than something to handle at run time.
    pub fn factor(mut self, factor: f64) -> Self {
        assert!(
            factor.is_finite() && factor >= 1.0,
            "a backoff factor must be a finite number >= 1, got {factor}"
        );
        if let Shape::Exponential { factor: f } = &mut self.shape {
            *f = factor;
        }
        self
    }

    setters! {
        /// The largest delay before jitter; jitter only ever shortens it.
        max_delay(max_delay: Duration) => max_delay = max_delay;
        /// How delays are randomised (default [`Jitter::Full`]).
        jitter(jitter: Jitter) => jitter = jitter;
    }

    /// The delays, with a generator seeded unpredictably.
    pub fn delays(&self) -> Delays {
        Delays::new(self.clone(), JitterRng::from_entropy())
    }

    /// The delays, with a generator seeded by `seed`: the same seed gives
    /// the same sequence, for tests and reproducible runs.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_patterns::retry::Backoff;
    ///
    /// let backoff = Backoff::exponential(Duration::from_millis(10));
    /// let a: Vec<_> = backoff.delays_seeded(42).take(5).collect();
    /// let b: Vec<_> = backoff.delays_seeded(42).take(5).collect();
    /// assert_eq!(a, b);
    /// ```
    pub fn delays_seeded(&self, seed: u64) -> Delays {
        Delays::new(self.clone(), JitterRng::seeded(seed))
    }
}

impl Default for Backoff {
    /// Exponential from 100 ms, doubling, capped at 60 s, full jitter.
    fn default() -> Self {
        Self::exponential(Duration::from_millis(100))
    }
}

/// The endless sequence of delays of a [`Backoff`]; see the module docs.
#[derive(Clone)]
pub struct Delays {
    backoff: Backoff,
    /// How many delays have been produced: the `n` of the next one.
    produced: u32,
    /// The last raw delay, which decorrelated jitter grows from.
    previous: Duration,
    rng: JitterRng,
}

impl Delays {
    pub(crate) fn new(backoff: Backoff, rng: JitterRng) -> Self {
        let previous = backoff.base;
        Self {
            backoff,
            produced: 0,
            previous,
            rng,
        }
    }

    /// Starts the sequence over (the generator keeps its position, so the
    /// jitter of the new run differs from the last one).
    pub(crate) fn restart(&mut self) {
        self.produced = 0;
        self.previous = self.backoff.base;
    }

    /// Step 1 and 2 of the module docs: the raw delay, capped.
    fn capped(&mut self) -> Duration {
        let Backoff {
            shape,
            base,
            max_delay,
            ..
        } = self.backoff;
        let n = self.produced;
        let raw = match shape {
            Shape::Constant => base,
            Shape::Exponential { factor } => {
                let exponent = i32::try_from(n).unwrap_or(i32::MAX);
                scale(base, factor.powi(exponent), max_delay)
            }
            Shape::Fibonacci => scale(base, fibonacci(n + 1) as f64, max_delay),
            Shape::DecorrelatedJitter => {
                let high = self.previous.saturating_mul(3).min(max_delay);
                let raw = self.rng.duration_between(base.min(high), high);
                self.previous = raw;
                raw
            }
        };
        raw.min(max_delay)
    }
}

impl Iterator for Delays {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let capped = self.capped();
        self.produced = self.produced.saturating_add(1);
        let jitter = match self.backoff.shape {
            Shape::DecorrelatedJitter => Jitter::None,
            _ => self.backoff.jitter,
        };
        Some(match jitter {
            Jitter::None => capped,
            Jitter::Full => self.rng.duration_between(Duration::ZERO, capped),
            Jitter::Equal => {
                let half = capped / 2;
                self.rng.duration_between(half, capped)
            }
        })
    }
}

impl fmt::Debug for Delays {
    /// The recipe and the position; the generator's state is noise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delays")
            .field("backoff", &self.backoff)
            .field("produced", &self.produced)
            .finish_non_exhaustive()
    }
}

/// `base × multiplier`, or `ceiling` if the product reaches it (also when
/// it overflows). Computed in floating point, exact for the usual whole
/// factors and millisecond bases.
fn scale(base: Duration, multiplier: f64, ceiling: Duration) -> Duration {
    let nanos = base.as_nanos() as f64 * multiplier;
    if nanos >= ceiling.as_nanos() as f64 || nanos >= u64::MAX as f64 {
        ceiling
    } else {
        Duration::from_nanos(nanos as u64)
    }
}

/// The n-th Fibonacci number (F(1) = F(2) = 1), saturating at `u64::MAX`.
fn fibonacci(n: u32) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n.min(94) {
        (a, b) = (b, a.saturating_add(b));
    }
    if n >= 94 {
        u64::MAX
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fibonacci_numbers() {
        let first: Vec<u64> = (1..=10).map(fibonacci).collect();
        assert_eq!(first, [1, 1, 2, 3, 5, 8, 13, 21, 34, 55]);
        assert_eq!(fibonacci(93), 12_200_160_415_121_876_738);
        assert_eq!(fibonacci(94), u64::MAX);
        assert_eq!(fibonacci(u32::MAX), u64::MAX);
    }

    #[test]
    fn huge_exponents_saturate_at_the_cap() {
        let backoff = Backoff::exponential(Duration::from_secs(1)).jitter(Jitter::None);
        let late = backoff.delays().nth(5000).unwrap();
        assert_eq!(late, DEFAULT_MAX_DELAY);
        let uncapped = backoff.max_delay(Duration::MAX).delays().nth(5000).unwrap();
        assert_eq!(uncapped, Duration::MAX);
    }

    #[test]
    fn restart_begins_again_from_base() {
        let ms = Duration::from_millis;
        let mut delays = Backoff::exponential(ms(10)).jitter(Jitter::None).delays();
        assert_eq!(delays.by_ref().take(3).last(), Some(ms(40)));
        delays.restart();
        assert_eq!(delays.next(), Some(ms(10)));
    }

    #[test]
    #[should_panic(expected = "a backoff factor must be a finite number >= 1, got 0.5")]
    fn shrinking_factor_is_refused() {
        let _ = Backoff::exponential(Duration::from_secs(1)).factor(0.5);
    }
}
