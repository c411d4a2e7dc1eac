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
//!
//! # Resilience: circuit breaker, retry, timeout with fallback
//!
//! * [`circuit_breaker`]: closed / open / half-open (plus forced-open and
//!   disabled), tripping on consecutive failures, a failure rate or a
//!   slow-call rate over a count or time window; bounded trial calls and a
//!   maximum wait in half-open; rejected calls say when to come back; one
//!   breaker per host with [`circuit_breaker::KeyedCircuitBreakers`].
//! * [`retry`]: constant, exponential, Fibonacci and decorrelated-jitter
//!   backoff, jitter that never breaks the maximum delay, a deadline never
//!   overshot, per-attempt timeouts, predicates, `Retry-After` hints, and a
//!   retry budget shared by callers.
//! * [`timeout`]: a timeout whose fallback runs only on expiry, never on
//!   cancellation.
//!
//! # Connection pool
//!
//! [`conn_pool`]: a pool generic over a [`conn_pool::Manager`] (create,
//! health check, check-in hook) with a fair semaphore for capacity, finite
//! default timeouts (acquire, create, recycle), idle timeout, maximum
//! lifetime, `min_idle` kept by a lazily spawned maintenance task, resize at
//! run time, consistent metrics and leak reports that name the `get` call
//! site; a cancelled `get` never loses or leaks a connection.
//!
//! # Work: pipelines, pools, tasks, batches, shutdown
//!
//! * [`pipeline`]: stages over bounded queues (back-pressure), any number of
//!   producers and workers per stage, `Queue::shutdown` instead of
//!   sentinels, failures collected per item, `join` and `finish`.
//! * [`worker_pool`]: N workers, a bounded (priority) submission queue,
//!   `submit` (waits) or `try_submit` (hands the job back), a handle per
//!   job, panics as results, an optional rate limit, and a `shutdown` that
//!   drains, then cancels at a deadline, and counts every job.
//! * [`task_manager`]: tasks under ids with statuses and timestamps, cancel
//!   while pending or running, bounded result retention, `wait`/`wait_all`.
//! * [`batch`]: chunks with bounded concurrency, results in input order or
//!   as completed, partial failures collected.
//! * [`shutdown`]: a `CancellationToken` tree and a coordinator that turns
//!   Ctrl-C or SIGTERM into stop accepting, drain, cancel the rest, report.

/// The README's Rust examples, compiled and run as doctests so that the
/// front page cannot drift from the code. They live in this crate because
/// it is the one that sees all three library crates.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;

#[macro_use]
mod display;
#[macro_use]
mod config;

pub mod batch;
pub mod circuit_breaker;
pub mod conn_pool;
mod deadline;
pub mod pipeline;
pub mod rate_limit;
pub mod retry;
pub mod shutdown;
mod supervision;
pub mod task_manager;
mod time_buckets;
pub mod timeout;
pub mod worker_pool;
