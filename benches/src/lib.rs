//! Benchmarks of weft against tokio's current-thread runtime and
//! `tokio::sync`, run in one process and reported as ratios.
//!
//! The workloads (spawn/join, yield switching, mutex, semaphore, queues,
//! event fan-out, condition round trips, timers, timeouts, TCP echo) will be
//! written here once, generic over the runtime under test. This crate is
//! empty until then; see the project's issues.
