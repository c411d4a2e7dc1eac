//! The hand-over of a task's outcome to its `JoinHandle` on another thread,
//! through `weft_runtime::model_support`: a real task block and handle with
//! the model's main thread playing the runtime, and a real blocking pool on
//! loom's threads. Checked: the handle receives the outcome exactly once,
//! with no data race on the memory the outcome shares with the finished
//! future; the future and the output are each dropped exactly once,
//! whoever finishes first; an abort reaches a task that waits; and a handle
//! that waits is always woken (a lost wake-up leaves it blocked, which loom
//! reports as a deadlock, or the runtime spinning, which loom reports as a
//! model that never ends).
#![cfg(loom)]

use std::future::{poll_fn, Future};
use std::task::Poll;

use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use weft_runtime::model_support::{stepped_task, ModelPool, SteppedTask};

/// Counts how often the values it is given to are dropped.
#[derive(Clone, Default)]
struct DropCount(Arc<AtomicUsize>);

impl DropCount {
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Something owned by a future or returned by a task: counts its drop.
struct Tracked(DropCount);

impl Drop for Tracked {
    fn drop(&mut self) {
        (self.0).0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A task's output: a value, and a drop to count.
struct Output(u32, #[allow(dead_code)] Tracked);

/// A task that owns a `Tracked` while it runs, yields `yields` times, then
/// returns 7 in an `Output`.
fn task(
    yields: usize,
    future_drops: &DropCount,
    output_drops: &DropCount,
) -> impl Future<Output = Output> + 'static {
    let owned = Tracked(future_drops.clone());
    let output_drops = output_drops.clone();
    async move {
        let _owned = owned;
        let mut left = yields;
        poll_fn(|cx| {
            if left == 0 {
                return Poll::Ready(());
            }
            left -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        })
        .await;
        Output(7, Tracked(output_drops))
    }
}

/// Plays the runtime until the task has finished. Where the runtime would
/// park until a remote wake arrives, this yields to the other threads; a
/// wake that never arrives makes the loop spin, which loom reports.
fn run_to_end(task: SteppedTask) {
    while !task.turn() {
        thread::yield_now();
    }
    // The runtime frees the task's slot.
    drop(task);
}

#[test]
fn an_output_is_taken_by_a_handle_on_another_thread() {
    loom::model(|| {
        let (future_drops, output_drops) = (DropCount::default(), DropCount::default());
        let (runtime_side, handle) = stepped_task(task(0, &future_drops, &output_drops));
        let awaiting = thread::spawn(move || block_on(handle).map(|output| output.0));
        run_to_end(runtime_side);
        assert_eq!(awaiting.join().unwrap().unwrap(), 7);
        assert_eq!(future_drops.get(), 1, "the future is dropped once");
        assert_eq!(
            output_drops.get(),
            1,
            "the output is dropped once, by its taker"
        );
    });
}

#[test]
fn completion_races_abort() {
    loom::model(|| {
        let (future_drops, output_drops) = (DropCount::default(), DropCount::default());
        let (runtime_side, handle) = stepped_task(task(1, &future_drops, &output_drops));
        let aborting = thread::spawn(move || {
            handle.abort();
            block_on(handle).map(|output| output.0)
        });
        run_to_end(runtime_side);
        match aborting.join().unwrap() {
            // The abort came after the task's last turn: the outcome stands.
            Ok(value) => {
                assert_eq!(value, 7);
                assert_eq!(output_drops.get(), 1);
            }
            // The abort came first: the future was dropped at its next turn.
            Err(error) => {
                assert!(error.is_cancelled());
                assert_eq!(output_drops.get(), 0, "a cancelled task makes no output");
            }
        }
        assert_eq!(future_drops.get(), 1, "the future is dropped once");
    });
}

#[test]
fn completion_races_the_handles_drop() {
    loom::model(|| {
        let (future_drops, output_drops) = (DropCount::default(), DropCount::default());
        let (runtime_side, handle) = stepped_task(task(0, &future_drops, &output_drops));
        let dropping = thread::spawn(move || drop(handle));
        run_to_end(runtime_side);
        dropping.join().unwrap();
        assert_eq!(future_drops.get(), 1, "the future is dropped once");
        // By the task if the handle was gone, otherwise by the handle.
        assert_eq!(output_drops.get(), 1, "the output is dropped once");
    });
}

#[test]
fn an_abort_reaches_a_task_that_waits() {
    loom::model(|| {
        let future_drops = DropCount::default();
        let owned = Tracked(future_drops.clone());
        let (runtime_side, handle) = stepped_task(async move {
            let _owned = owned;
            // Waits for a wake that never comes: only the abort's wake
            // brings the task back to the runtime.
            std::future::pending::<()>().await;
        });
        let aborting = thread::spawn(move || {
            handle.abort();
            block_on(handle)
        });
        run_to_end(runtime_side);
        assert!(aborting.join().unwrap().unwrap_err().is_cancelled());
        assert_eq!(future_drops.get(), 1, "the future is dropped once");
    });
}

#[test]
fn a_blocking_jobs_abort_races_its_start() {
    loom::model(|| {
        let output_drops = DropCount::default();
        let pool = ModelPool::new(1);
        let job = {
            let output_drops = output_drops.clone();
            move || Output(7, Tracked(output_drops))
        };
        let handle = pool.spawn(job);
        handle.abort();
        match block_on(handle).map(|output| output.0) {
            // The pool thread started the job before the abort.
            Ok(value) => {
                assert_eq!(value, 7);
                assert_eq!(output_drops.get(), 1, "the output is dropped once");
            }
            // The job was skipped: it never ran.
            Err(error) => {
                assert!(error.is_cancelled());
                assert_eq!(output_drops.get(), 0, "a skipped job makes no output");
            }
        }
        // Shutting down lets the idle thread leave (loom's waits never time out).
        drop(pool);
    });
}
