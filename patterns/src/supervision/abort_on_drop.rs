//! [`AbortOnDrop`]: the owner of a spawned task.
//!
//! A weft `JoinHandle` detaches its task when dropped. Patterns that spawn
//! helpers (a pipeline's workers, a batch's chunks) want the opposite: the
//! helpers belong to the value that spawned them and must stop with it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use weft_runtime::{JoinError, JoinHandle};

/// A `JoinHandle` that aborts its task when dropped; awaiting it gives the
/// task's outcome as the handle would.
#[derive(Debug)]
pub(crate) struct AbortOnDrop<T>(pub(crate) JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        // A finished task keeps its outcome; aborting it would only cost a
        // needless wake-up.
        if !self.0.is_finished() {
            self.0.abort();
        }
    }
}

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}
