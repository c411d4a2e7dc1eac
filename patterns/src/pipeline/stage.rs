//! One stage of a pipeline: N workers that read its input queue, apply the
//! stage's function, and put the results into its output queue.
//!
//! ```text
//!   input ──▶ worker 0 ─┐
//!         ──▶ worker 1 ─┼─▶ f(item): Ok(out) ──▶ output.put(out)   (waits while output is full)
//!         ──▶ worker 2 ─┘            Err(e) / panic ──▶ errors, and the worker goes on
//!                       each item: input.task_done() once its result is handed on
//!   input shut down and drained ──▶ workers exit ──▶ the last one shuts the output down
//! ```
//!
//! `task_done` comes only after the output was put, so when a stage's
//! input queue is joined, every item it took is either in the next queue
//! (counted there as unfinished) or reported as an error. Joining the
//! queues front to back therefore waits until everything put so far has
//! gone all the way through.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use weft_primitives::Queue;

use super::error::{ItemError, ItemFailure, StageReport};
use crate::supervision::{catch_panic, AbortOnDrop};

/// A stage's input queue as the pipeline sees it, whatever its item type.
pub(super) trait StageInput {
    /// Waits until every item put into the queue so far was processed.
    fn join(&self) -> Pin<Box<dyn Future<Output = ()> + '_>>;
}

impl<T> StageInput for Queue<T> {
    fn join(&self) -> Pin<Box<dyn Future<Output = ()> + '_>> {
        Box::pin(Queue::join(self))
    }
}

/// What a stage's workers share.
pub(super) struct StageShared<I, O, F, E> {
    pub(super) name: Arc<str>,
    pub(super) function: F,
    pub(super) input: Arc<Queue<I>>,
    /// `None` for a sink: its results are dropped.
    pub(super) output: Option<Arc<Queue<O>>>,
    pub(super) errors: Rc<RefCell<Vec<ItemError<E>>>>,
    pub(super) counts: Rc<StageCounts>,
    pub(super) live_workers: Cell<usize>,
}

/// A stage's counters.
#[derive(Debug, Default)]
pub(super) struct StageCounts {
    pub(super) succeeded: Cell<u64>,
    pub(super) failed: Cell<u64>,
}

/// A running stage, as the pipeline keeps it.
pub(super) struct Stage {
    pub(super) name: Arc<str>,
    pub(super) input: Arc<dyn StageInput>,
    pub(super) counts: Rc<StageCounts>,
    pub(super) workers: Vec<AbortOnDrop<()>>,
}

impl Stage {
    pub(super) fn report(&self) -> StageReport {
        StageReport {
            name: self.name.to_string(),
            succeeded: self.counts.succeeded.get(),
            failed: self.counts.failed.get(),
        }
    }
}

/// A worker of a stage: runs until the input is shut down and drained.
pub(super) async fn work<I, O, E, F, Fut>(stage: Rc<StageShared<I, O, F, E>>)
where
    F: Fn(I) -> Fut,
    Fut: Future<Output = Result<O, E>>,
{
    while let Ok(item) = stage.input.get().await {
        let failure = match catch_panic(|| (stage.function)(item)).await {
            Ok(Ok(output)) => {
                if let Some(queue) = &stage.output {
                    // Fails only if the pipeline is being torn down.
                    let _ = queue.put(output).await;
                }
                None
            }
            Ok(Err(error)) => Some(ItemFailure::Error(error)),
            Err(message) => Some(ItemFailure::Panicked(message)),
        };
        let counts = &stage.counts;
        match failure {
            None => counts.succeeded.set(counts.succeeded.get() + 1),
            Some(failure) => {
                counts.failed.set(counts.failed.get() + 1);
                stage.errors.borrow_mut().push(ItemError {
                    stage: stage.name.clone(),
                    failure,
                });
            }
        }
        stage
            .input
            .task_done()
            .expect("one task_done per item taken from the queue");
    }
    let left = stage.live_workers.get() - 1;
    stage.live_workers.set(left);
    if left == 0 {
        if let Some(queue) = &stage.output {
            queue.shutdown(false);
        }
    }
}
