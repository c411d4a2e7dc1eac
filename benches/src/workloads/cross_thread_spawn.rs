//! cross_thread_spawn: T plain threads each spawn N small `Send` tasks onto
//! one runtime, then await their handles.
//!
//! The runtime runs on the measuring thread, inside `block_on` of a future
//! that waits for the T threads to report back; the threads use each
//! runtime's cross-thread spawn (weft's `Spawner`, tokio's `Handle::spawn`,
//! smol's `Executor::spawn`, since smol's local executor takes spawns from
//! its own thread only) and await the handles with a plain `block_on`.
//!
//! ```text
//!   thread 1..T ──spawn N tasks──▶ runtime thread (runs them)
//!        ▲                               │
//!        └────── outputs, awaited ◀──────┘
//! ```
//!
//! Task i returns i: each thread checks that its outputs add up to
//! `0 + 1 + … + (N - 1)`.

use std::future::Future;
use std::sync::Arc;
use std::thread;

use futures_lite::future;

use super::{expect_eq, Verified};

/// Runs on each of `threads` threads: `spawn_one(i)` for every `i` in
/// `0..per_thread` (it spawns task i and returns its handle as a future of
/// the output), then awaits the handles and reports their sum; meanwhile
/// `drive` runs the runtime until it has heard from every thread (see
/// [`reports`]). Checks the sums.
fn on_threads<S, H>(
    threads: u64,
    per_thread: u64,
    spawn_one: S,
    drive: impl FnOnce(async_channel::Receiver<u64>) -> Vec<u64>,
) -> Verified
where
    S: Fn(u64) -> H + Send + Sync + 'static,
    H: Future<Output = u64>,
{
    let (report, done) = async_channel::bounded(threads as usize);
    let spawn_one = Arc::new(spawn_one);
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (spawn_one, report) = (spawn_one.clone(), report.clone());
            thread::spawn(move || {
                let handles: Vec<H> = (0..per_thread).map(|i| spawn_one(i)).collect();
                let sum = handles.into_iter().map(future::block_on).sum();
                report.send_blocking(sum).expect("runtime gone")
            })
        })
        .collect();
    let sums = drive(done);
    for worker in workers {
        worker.join().expect("a spawning thread panicked");
    }
    expect_eq("threads that reported", threads, sums.len() as u64)?;
    let want = per_thread * per_thread.saturating_sub(1) / 2;
    for sum in sums {
        expect_eq("sum of one thread's task outputs", want, sum)?;
    }
    Ok(())
}

/// Receives one report per thread.
async fn reports(done: async_channel::Receiver<u64>, threads: u64) -> Vec<u64> {
    let mut sums = Vec::new();
    for _ in 0..threads {
        sums.push(done.recv().await.expect("a spawning thread hung up"));
    }
    sums
}

/// weft: `Spawner::spawn` from each thread onto one runtime.
pub fn weft(threads: u64, per_thread: u64) -> Verified {
    let rt = weft_runtime::Runtime::new();
    let spawner = rt.spawner();
    let spawn_one = move |i| {
        let handle = spawner.spawn(async move { i }).expect("runtime shut down");
        async move { handle.await.expect("task failed") }
    };
    on_threads(threads, per_thread, spawn_one, |done| {
        rt.block_on(reports(done, threads))
    })
}

/// tokio: `Handle::spawn` from each thread onto one current-thread runtime.
pub fn tokio(threads: u64, per_thread: u64) -> Verified {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio's current-thread runtime could not start");
    let handle = rt.handle().clone();
    let spawn_one = move |i| {
        let task = handle.spawn(async move { i });
        async move { task.await.expect("task failed") }
    };
    on_threads(threads, per_thread, spawn_one, |done| {
        rt.block_on(reports(done, threads))
    })
}

/// smol: `Executor::spawn` from each thread, the executor run on this one.
pub fn smol(threads: u64, per_thread: u64) -> Verified {
    let executor = Arc::new(async_executor::Executor::new());
    let spawner = executor.clone();
    let spawn_one = move |i| spawner.spawn(async move { i });
    on_threads(threads, per_thread, spawn_one, |done| {
        future::block_on(executor.run(reports(done, threads)))
    })
}
