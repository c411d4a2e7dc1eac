//! The classic asyncio concurrency patterns, built only from the public API
//! of `weft-runtime` and `weft-primitives`.
//!
//! Each pattern comes from the asyncio tutorials weft started from, without
//! the well-known bugs of their naive versions (a limiter that sleeps under
//! its lock, a pool that polls for results, sentinel-based shutdown), and
//! each states its cancellation guarantee: what happens to capacity,
//! permits, jobs and results when a caller's future is dropped half-way.
//!
//! # Rate limiters
//!
//! [`rate_limit`]: GCRA and token bucket (one compare-and-swap per check),
//! sliding-window log and counter, behind one fair waiting front-end
//! ([`rate_limit::RateLimiter`]: exact `retry_after`, waiters served in
//! order with one timer at a time, a bounded line, cancel-safe) and per key
//! ([`rate_limit::KeyedRateLimiter`]: a quota per key, idle keys evicted a
//! few per call, a hard cap on keys).


pub mod rate_limit;
