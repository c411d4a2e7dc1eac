//! The runtimes under test, behind one small trait.
//!
//! Every workload is written once, generic over [`BenchRuntime`], and runs
//! unchanged on three single-threaded executors:
//!
//! | adapter   | executor                                   | spawn            | timers             |
//! |-----------|--------------------------------------------|------------------|--------------------|
//! | [`Weft`]  | `weft_runtime::Runtime`                    | `weft_runtime::spawn` | weft's wheel  |
//! | [`Tokio`] | tokio's current-thread runtime, `enable_all` | `tokio::spawn` | tokio's wheel      |
//! | [`Smol`]  | `async_executor::LocalExecutor` driven by `smol::block_on` | `LocalExecutor::spawn` | async-io's timer thread |
//!
//! The trait asks only for what the workloads use: `block_on`, `spawn` (a
//! handle that yields the task's output), `yield_now`, `sleep`, `timeout`,
//! and [`spawn_sleeper`](BenchRuntime::spawn_sleeper).
//!
//! Spawned futures must be `Send`, because tokio's ordinary `tokio::spawn`
//! asks for it and the comparison should use tokio's usual path, not a
//! `LocalSet`. weft's `Sleep` is not `Send` (its timer belongs to the
//! runtime thread), so a task that sleeps cannot be built generically around
//! [`sleep`](BenchRuntime::sleep); [`spawn_sleeper`](BenchRuntime::spawn_sleeper)
//! is the one task each adapter builds itself, from its own timer.
//!
//! A task's panic is re-raised when its handle is awaited: a workload that
//! panics fails the whole run, it never reports a time.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::FutureExt as _;
use futures_lite::FutureExt as _;

/// An executor the workloads can run on.
///
/// ```
/// use weft_benches::runtimes::{BenchRuntime, Tokio, Weft};
///
/// async fn double<R: BenchRuntime>(rt: &R) -> u64 {
///     rt.spawn(async { 21 }).await * 2
/// }
///
/// let weft = Weft::new();
/// assert_eq!(weft.block_on(double(&weft)), 42);
/// let tokio = Tokio::new();
/// assert_eq!(tokio.block_on(double(&tokio)), 42);
/// ```
pub trait BenchRuntime {
    /// The name the report prints.
    const NAME: &'static str;

    /// A fresh runtime with its default settings.
    fn new() -> Self
    where
        Self: Sized;

    /// Drives `fut` to completion on this thread, running spawned tasks
    /// meanwhile.
    fn block_on<F: Future>(&self, fut: F) -> F::Output;

    /// Spawns `fut` as a task; the returned future yields its output (and
    /// re-raises its panic).
    fn spawn<F>(&self, fut: F) -> impl Future<Output = F::Output> + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Gives the other ready tasks a turn, then continues.
    fn yield_now() -> impl Future<Output = ()> + Send + 'static;

    /// Spawns a task that sleeps for `duration` on this runtime's timer and
    /// returns the instant it woke.
    fn spawn_sleeper(&self, duration: Duration) -> impl Future<Output = Instant> + 'static;

    /// Sleeps for `duration` on this runtime's timer; the timer is created at
    /// the first poll and removed when the future is dropped.
    fn sleep(duration: Duration) -> impl Future<Output = ()> + 'static;

    /// Runs `fut` with a deadline: `Some(output)`, or `None` if `duration`
    /// passed first.
    ///
    /// Every adapter returns the runtime's own timeout future as a user
    /// would write it inline, its output mapped (`FutureExt::map`); none wraps
    /// it in an `async fn` of its own. (An `async fn` adapter around one
    /// runtime and a bare combinator for another once made the row measure
    /// the wrappers: about 21 of weft's 33 instructions per ready timeout.)
    fn timeout<F: Future>(duration: Duration, fut: F) -> impl Future<Output = Option<F::Output>>;
}

/// A join handle whose output is `Result<T, E>` turned into a future of `T`
/// that re-raises the task's failure as a panic.
struct Unwrapped<H>(H);

impl<H, T, E> Future for Unwrapped<H>
where
    H: Future<Output = Result<T, E>> + Unpin,
    E: fmt::Debug,
{
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|joined| joined.expect("a benchmark task failed"))
    }
}

/// weft's single-threaded runtime with its default settings.
///
/// ```
/// use weft_benches::runtimes::{BenchRuntime, Weft};
///
/// let rt = Weft::new();
/// assert_eq!(rt.block_on(async { 7 }), 7);
/// ```
#[derive(Debug)]
pub struct Weft {
    runtime: weft_runtime::Runtime,
}

impl BenchRuntime for Weft {
    const NAME: &'static str = "weft";

    fn new() -> Self {
        Self {
            runtime: weft_runtime::Runtime::new(),
        }
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.runtime.block_on(fut)
    }

    fn spawn<F>(&self, fut: F) -> impl Future<Output = F::Output> + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Unwrapped(weft_runtime::spawn(fut))
    }

    fn yield_now() -> impl Future<Output = ()> + Send + 'static {
        weft_runtime::yield_now()
    }

    fn spawn_sleeper(&self, duration: Duration) -> impl Future<Output = Instant> + 'static {
        Unwrapped(weft_runtime::spawn(async move {
            weft_runtime::sleep(duration).await;
            Instant::now()
        }))
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + 'static {
        weft_runtime::sleep(duration)
    }

    fn timeout<F: Future>(duration: Duration, fut: F) -> impl Future<Output = Option<F::Output>> {
        weft_runtime::timeout(duration, fut).map(Result::ok)
    }
}

/// tokio's current-thread runtime with I/O and time enabled, the usual
/// `#[tokio::main(flavor = "current_thread")]` set-up.
///
/// ```
/// use weft_benches::runtimes::{BenchRuntime, Tokio};
///
/// let rt = Tokio::new();
/// assert_eq!(rt.block_on(async { 7 }), 7);
/// ```
#[derive(Debug)]
pub struct Tokio {
    runtime: tokio::runtime::Runtime,
}

impl BenchRuntime for Tokio {
    const NAME: &'static str = "tokio";

    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio's current-thread runtime could not start");
        Self { runtime }
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.runtime.block_on(fut)
    }

    fn spawn<F>(&self, fut: F) -> impl Future<Output = F::Output> + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Unwrapped(self.runtime.spawn(fut))
    }

    fn yield_now() -> impl Future<Output = ()> + Send + 'static {
        tokio::task::yield_now()
    }

    fn spawn_sleeper(&self, duration: Duration) -> impl Future<Output = Instant> + 'static {
        Unwrapped(self.runtime.spawn(async move {
            tokio::time::sleep(duration).await;
            Instant::now()
        }))
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + 'static {
        tokio::time::sleep(duration)
    }

    fn timeout<F: Future>(duration: Duration, fut: F) -> impl Future<Output = Option<F::Output>> {
        tokio::time::timeout(duration, fut).map(Result::ok)
    }
}

/// smol's single-threaded executor (`LocalExecutor`), driven by
/// `smol::block_on`, with async-io's timers.
///
/// ```
/// use weft_benches::runtimes::{BenchRuntime, Smol};
///
/// let rt = Smol::new();
/// assert_eq!(rt.block_on(async { 7 }), 7);
/// ```
#[derive(Debug)]
pub struct Smol {
    executor: async_executor::LocalExecutor<'static>,
}

impl BenchRuntime for Smol {
    const NAME: &'static str = "smol";

    fn new() -> Self {
        Self {
            executor: async_executor::LocalExecutor::new(),
        }
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        smol::block_on(self.executor.run(fut))
    }

    fn spawn<F>(&self, fut: F) -> impl Future<Output = F::Output> + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.executor.spawn(fut)
    }

    fn yield_now() -> impl Future<Output = ()> + Send + 'static {
        futures_lite::future::yield_now()
    }

    fn spawn_sleeper(&self, duration: Duration) -> impl Future<Output = Instant> + 'static {
        self.executor.spawn(async move {
            smol::Timer::after(duration).await;
            Instant::now()
        })
    }

    async fn sleep(duration: Duration) {
        smol::Timer::after(duration).await;
    }

    fn timeout<F: Future>(duration: Duration, fut: F) -> impl Future<Output = Option<F::Output>> {
        async move { Some(fut.await) }.or(async move {
            smol::Timer::after(duration).await;
            None
        })
    }
}
