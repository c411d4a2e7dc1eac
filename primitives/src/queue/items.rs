//! [`Items`]: read a queue until it is shut down and drained.

use std::fmt;

use super::storage::QueueStorage;
use super::GenericQueue;

/// An async iterator over a queue's items, returned by
/// [`GenericQueue::items`]: [`next`](Items::next) yields items until the
/// queue is shut down and has none left, then `None`.
///
/// Consumers written with it stop by themselves when the producer calls
/// [`shutdown`](GenericQueue::shutdown), with no sentinel value:
///
/// ```
/// use std::sync::Arc;
/// use weft_primitives::Queue;
///
/// let queue = Arc::new(Queue::new(2));
/// let consumer = {
///     let queue = queue.clone();
///     std::thread::spawn(move || {
///         futures::executor::block_on(async {
///             let mut sum = 0;
///             let mut items = queue.items();
///             while let Some(n) = items.next().await {
///                 sum += n;
///                 queue.task_done().unwrap();
///             }
///             sum
///         })
///     })
/// };
/// futures::executor::block_on(async {
///     for n in 1..=10 {
///         queue.put(n).await.unwrap();
///     }
///     queue.join().await;
/// });
/// queue.shutdown(false);
/// assert_eq!(consumer.join().unwrap(), 55);
/// ```
pub struct Items<'a, T, S: QueueStorage<T>> {
    queue: &'a GenericQueue<T, S>,
}

impl<'a, T, S: QueueStorage<T>> Items<'a, T, S> {
    pub(super) fn new(queue: &'a GenericQueue<T, S>) -> Self {
        Self { queue }
    }

    /// The next item, or `None` once the queue is shut down and drained.
    ///
    /// Cancel-safe like [`GenericQueue::get`]: dropping the future loses no
    /// item.
    pub async fn next(&mut self) -> Option<T> {
        self.queue.get().await.ok()
    }
}

impl<T, S: QueueStorage<T>> fmt::Debug for Items<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Items").field("queue", self.queue).finish()
    }
}
