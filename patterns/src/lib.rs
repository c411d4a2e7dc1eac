//! The classic asyncio concurrency patterns, built only from the public API
//! of `weft-runtime` and `weft-primitives`.
//!
//! This crate will hold producer-consumer pipelines, worker pools, batching,
//! rate limiters, a circuit breaker, retry with backoff, timeouts with
//! fallback, a connection pool, a background task manager and graceful
//! shutdown. It is empty until those land; see the project's issues.
