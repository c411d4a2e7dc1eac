//! The small random-number generator behind jitter: SplitMix64.
//!
//! Jitter needs numbers that are spread out, cheap and reproducible in
//! tests, not numbers an attacker cannot predict, so a full random-number
//! crate would be a dependency for nothing. SplitMix64 (Steele, Lea and
//! Flood, 2014, the generator Java's `SplittableRandom` uses and the one
//! that seeds the xorshift family) is enough: its state is one `u64` that
//! advances by a fixed odd constant (the golden ratio in fixed point), and
//! each output is that state scrambled by two multiply-xorshift rounds.
//! Every seed, zero included, gives a full-period stream of 2^64 values.
//!
//! ```text
//!   state += 0x9E37_79B9_7F4A_7C15
//!   z = state
//!   z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9
//!   z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB
//!   output z ^ (z >> 31)
//! ```
//!
//! Each user (a retry call, a circuit breaker) owns its own generator, so
//! two of them never draw the same sequence unless a test asks for it with
//! the same seed. An unseeded generator takes its seed from
//! [`fresh_seed`], which asks the standard library's randomly keyed hasher.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::deadline::duration_nanos;

/// The step of SplitMix64's state: 2^64 divided by the golden ratio, odd.
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// A SplitMix64 generator (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct JitterRng {
    state: u64,
}

impl JitterRng {
    /// A generator whose stream is fixed by `seed`.
    pub(crate) fn seeded(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The generator for the `index`-th user of a family seeded with
    /// `seed` (the `index`-th call of a retry policy, say). Its seed is the
    /// `index`-th output of the family's own stream: scrambled, so the
    /// members' streams are unrelated rather than shifted copies of one
    /// another.
    pub(crate) fn member(seed: u64, index: u64) -> Self {
        let mut family = Self::seeded(seed.wrapping_add(index.wrapping_mul(GAMMA)));
        Self::seeded(family.next_u64())
    }

    /// A generator with an unpredictable seed.
    pub(crate) fn from_entropy() -> Self {
        Self::seeded(fresh_seed())
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A duration drawn uniformly from `low..=high` (nanosecond grain);
    /// `low` if the range is empty.
    pub(crate) fn duration_between(&mut self, low: Duration, high: Duration) -> Duration {
        let (low_ns, high_ns) = (duration_nanos(low), duration_nanos(high));
        if high_ns <= low_ns {
            return low;
        }
        // Multiply-shift maps 64 random bits onto `0..=span` without the
        // bias of `%`; the span fits in 64 bits because both ends do.
        let span = u128::from(high_ns - low_ns) + 1;
        let offset = (u128::from(self.next_u64()) * span) >> 64;
        Duration::from_nanos(low_ns + offset as u64)
    }
}

/// A seed no other call in this process returns: a per-process random key
/// (the one `HashMap` uses against collision attacks) hashed with a
/// counter, so even generators made in the same nanosecond differ.
pub(crate) fn fresh_seed() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    RandomState::new().hash_one(COUNTER.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_different_seeds_differ() {
        let (mut a, mut b, mut c) = (
            JitterRng::seeded(7),
            JitterRng::seeded(7),
            JitterRng::seeded(8),
        );
        let xs: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..4).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn members_follow_the_family_stream() {
        let mut family = JitterRng::seeded(9);
        let _ = family.next_u64();
        let second_output = family.next_u64();
        assert_eq!(
            JitterRng::member(9, 1).next_u64(),
            JitterRng::seeded(second_output).next_u64()
        );
    }

    #[test]
    fn known_first_output_of_seed_zero() {
        // The reference value of SplitMix64 seeded with 0.
        assert_eq!(JitterRng::seeded(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn durations_stay_within_bounds_and_cover_them() {
        let mut rng = JitterRng::seeded(1);
        let (low, high) = (Duration::from_millis(10), Duration::from_millis(20));
        let draws: Vec<Duration> = (0..1000).map(|_| rng.duration_between(low, high)).collect();
        assert!(draws.iter().all(|d| (low..=high).contains(d)));
        assert!(draws.iter().any(|d| *d < Duration::from_millis(12)));
        assert!(draws.iter().any(|d| *d > Duration::from_millis(18)));
        assert_eq!(rng.duration_between(high, low), high);
    }

    #[test]
    fn fresh_seeds_differ() {
        assert_ne!(fresh_seed(), fresh_seed());
    }
}
