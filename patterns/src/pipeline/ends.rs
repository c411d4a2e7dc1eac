//! The two ends of a pipeline that the caller holds: [`Producer`] puts
//! items in, [`Outputs`] takes results out.

use std::fmt;
use std::sync::Arc;

use weft_primitives::{PutError, Queue, QueueShutDown};

/// Puts items into a pipeline's input queue. Clone it for every producer;
/// it is `Send` when the items are, so a producer may live on another
/// thread.
///
/// [`put`](Producer::put) waits while the input queue is full: that is the
/// pipeline's back-pressure. Both puts fail, handing the item back, once
/// the pipeline was [closed](super::Pipeline::close).
pub struct Producer<T> {
    pub(super) queue: Arc<Queue<T>>,
}

impl<T> Producer<T> {
    /// Puts `item`, waiting for room. Cancel-safe: dropping the future
    /// while it waits drops the item, unqueued, and keeps no slot.
    pub async fn put(&self, item: T) -> Result<(), QueueShutDown<T>> {
        self.queue.put(item).await
    }

    /// Puts `item` if there is room now.
    pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        self.queue.put_nowait(item)
    }
}

impl<T> Clone for Producer<T> {
    fn clone(&self) -> Self {
        Producer {
            queue: self.queue.clone(),
        }
    }
}

impl<T> fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("queue", &self.queue)
            .finish()
    }
}

/// Takes results from a pipeline's last queue, until every item went
/// through after the pipeline was closed. Clone it for every consumer.
pub struct Outputs<T> {
    pub(super) queue: Arc<Queue<T>>,
}

impl<T> Outputs<T> {
    /// The next result, or `None` once the pipeline was closed and drained
    /// (at once for a pipeline that ends with a sink). Cancel-safe: no
    /// result is lost when the future is dropped.
    pub async fn next(&self) -> Option<T> {
        let output = self.queue.get().await.ok()?;
        self.queue
            .task_done()
            .expect("one task_done per result taken");
        Some(output)
    }
}

impl<T> Clone for Outputs<T> {
    fn clone(&self) -> Self {
        Outputs {
            queue: self.queue.clone(),
        }
    }
}

impl<T> fmt::Debug for Outputs<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outputs")
            .field("queue", &self.queue)
            .finish()
    }
}
