//! The errors of the queue family: each names what went wrong in asyncio's
//! words, and each error of a put hands the item back, so nothing is lost.
//!
//! Errors that carry an item implement `Debug` without asking the item to, so
//! `unwrap()` works for any item type (the item is not printed).

use std::error::Error;
use std::fmt;

/// The queue was shut down (asyncio's `QueueShutDown`).
///
/// Returned by [`put`](super::GenericQueue::put) with the item that could not
/// be put, and by [`get`](super::GenericQueue::get) (as `QueueShutDown<()>`)
/// once the queue is shut down and has no item left for this getter.
///
/// ```
/// use weft_primitives::queue::{Queue, QueueShutDown};
///
/// let queue = Queue::new(0);
/// queue.shutdown(false);
/// let QueueShutDown(item) = futures::executor::block_on(queue.put("job")).unwrap_err();
/// assert_eq!(item, "job");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueShutDown<T = ()>(pub T);

impl<T> QueueShutDown<T> {
    /// The item that could not be put (`()` for a get).
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueShutDown(..)")
    }
}

impl<T> fmt::Display for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is shut down")
    }
}

impl<T> Error for QueueShutDown<T> {}

/// Why [`put_nowait`](super::GenericQueue::put_nowait) could not put its
/// item; either way the item comes back.
///
/// ```
/// use weft_primitives::queue::{PutError, Queue};
///
/// let queue = Queue::new(1);
/// queue.put_nowait(1).unwrap();
/// match queue.put_nowait(2) {
///     Err(PutError::Full(item)) => assert_eq!(item, 2),
///     other => panic!("expected Full, got {other:?}"),
/// }
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PutError<T> {
    /// The queue holds `maxsize` items, or putters are already waiting for
    /// room (asyncio's `QueueFull`).
    Full(T),
    /// The queue was shut down.
    ShutDown(T),
}

impl<T> PutError<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(item) | PutError::ShutDown(item) => item,
        }
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("Full(..)"),
            PutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("queue is full"),
            PutError::ShutDown(_) => f.write_str("queue is shut down"),
        }
    }
}

impl<T> Error for PutError<T> {}

/// Why [`get_nowait`](super::GenericQueue::get_nowait) returned no item.
///
/// ```
/// use weft_primitives::queue::{GetError, Queue};
///
/// let queue = Queue::<u8>::new(0);
/// assert_eq!(queue.get_nowait(), Err(GetError::Empty));
/// queue.shutdown(false);
/// assert_eq!(queue.get_nowait(), Err(GetError::ShutDown));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetError {
    /// No item is available to a new getter (asyncio's `QueueEmpty`).
    Empty,
    /// The queue was shut down and has no item left.
    ShutDown,
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::Empty => f.write_str("queue is empty"),
            GetError::ShutDown => f.write_str("queue is shut down"),
        }
    }
}

impl Error for GetError {}

/// [`task_done`](super::GenericQueue::task_done) was called more times than
/// items were put (asyncio raises `ValueError` with the same message).
///
/// ```
/// use weft_primitives::queue::Queue;
///
/// let queue = Queue::<u8>::new(0);
/// let error = queue.task_done().unwrap_err();
/// assert_eq!(error.to_string(), "task_done() called too many times");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called too many times")
    }
}

impl Error for TaskDoneError {}
