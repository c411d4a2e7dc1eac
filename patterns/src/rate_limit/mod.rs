//! Rate limiters: GCRA, token bucket, sliding-window log and sliding-window
//! counter, behind one fair waiting front-end, alone or one per key.
//!
//! # Pieces
//!
//! | type                       | algorithm                                    | state                | exact?   |
//! |----------------------------|----------------------------------------------|----------------------|----------|
//! | [`Gcra`] + [`Quota`]       | continuous refill, one token every `T`       | one `AtomicU64`      | yes      |
//! | [`TokenBucket`]            | `refill` tokens every `interval`, on a grid  | one `AtomicU64`      | yes      |
//! | [`SlidingWindowLog`]       | at most `limit` in any window                | log of grants, lock  | yes      |
//! | [`SlidingWindowCounter`]   | two fixed windows, weighted                  | two counters, lock   | estimate |
//!
//! Each is a [`RatePolicy`]: pure arithmetic on its state, given `now`.
//! GCRA and the token bucket check with one compare-and-swap (lock-free;
//! usable straight from any thread); the windows hold a `std` mutex for a
//! few instructions. Waiting lives once, in the gate every limiter shares:
//!
//! * [`RateLimiter<P>`](RateLimiter): one policy, `try_acquire(n)` (refusal
//!   carries the exact `retry_after`), `acquire(n).await`, statistics;
//! * [`KeyedRateLimiter<K, P>`](KeyedRateLimiter): one policy per key built
//!   by a quota function, idle keys evicted O(1) per call, a hard cap on
//!   keys.
//!
//! # What every limiter guarantees
//!
//! * **Exact rates.** A limiter of 10 per second, pressed for 60 seconds,
//!   admits exactly 600 plus its burst (GCRA, bucket, log); `retry_after` is
//!   to the nanosecond the first instant that would succeed.
//! * **First come, first served, without a herd.** Waiters form a line (a
//!   fair weft [`Lock`](weft_primitives::Lock)); only the head sleeps, until
//!   exactly its turn; a newcomer never overtakes the line. One wake-up per
//!   admission.
//! * **Bounded waiting.** At most `max_waiters` wait (per key, for a keyed
//!   limiter); the next request is refused at once. A request larger than
//!   the capacity is refused at once too: it could never succeed.
//! * **Cancellation is drop.** An `acquire` future holds no tokens before
//!   the instant it is admitted, so dropping it anywhere gives nothing back
//!   because it took nothing, and the next waiter takes over the head at
//!   once.
//! * **Bounded memory for keys**, and eviction never resets a limited key
//!   to a fresh burst: only keys whose state equals a fresh one go.
//!
//! ```
//! use std::time::Duration;
//! use weft_patterns::rate_limit::{Gcra, Quota, RateLimiter, TryAcquireError};
//! use weft_runtime::time;
//!
//! weft_runtime::Builder::new().start_paused(true).build().block_on(async {
//!     let limiter = RateLimiter::new(Gcra::new(Quota::per_second(10)));
//!     limiter.try_acquire(10).unwrap(); // the whole burst
//!     match limiter.try_acquire(1) {
//!         Err(TryAcquireError::RateLimited { retry_after, .. }) => {
//!             assert_eq!(retry_after, Duration::from_millis(100)) // e.g. HTTP 429 Retry-After
//!         }
//!         other => panic!("unexpected {other:?}"),
//!     }
//!     let start = time::now();
//!     limiter.acquire(1).await.unwrap(); // waits its turn
//!     assert_eq!(time::now() - start, Duration::from_millis(100));
//! });
//! ```
//!
//! # Compared with `governor`
//!
//! `governor` (GCRA, keyed state stores, `until_ready` with jitter) is the
//! reference in Rust. What differs here: four algorithms behind one trait;
//! waiters served in order with one timer at a time, where `until_ready`
//! has every waiter sleep and retry (hence its jitter); a bounded line;
//! a keyed limiter with a cap on keys and O(1) eviction of idle keys per
//! call, where `governor` leaves eviction to an explicit `retain_recent`
//! and does not bound the number of keys.

pub mod error;
mod gate;
pub mod gcra;
mod key_table;
pub mod keyed;
pub mod limiter;
pub mod policy;
pub mod quota;
pub mod sliding_counter;
pub mod sliding_log;
pub mod stats;
mod timeline;
pub mod token_bucket;

pub use error::{AcquireError, KeyedError, TryAcquireError};
pub use gcra::Gcra;
pub use keyed::KeyedRateLimiter;
pub use limiter::RateLimiter;
pub use policy::RatePolicy;
pub use quota::Quota;
pub use sliding_counter::SlidingWindowCounter;
pub use sliding_log::SlidingWindowLog;
pub use stats::{KeyedRateLimiterStats, RateLimiterStats};
pub use token_bucket::TokenBucket;
