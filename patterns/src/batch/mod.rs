//! Batch processing: the input cut into chunks, at most `max_concurrent`
//! chunks in flight, results in input order or as they complete, and
//! failures collected rather than fatal.
//!
//! # Algorithm
//!
//! ```text
//!   items ─▶ [0 1 2] [3 4 5] [6 7 8] [9]        chunk_size = 3
//!              │       │       │                max_concurrent = 2
//!              ▼       ▼       ╎ starts when a slot frees
//!           task 0  task 1     ╎
//!              └───────┴──▶ results: Order::Input (0, 1, 2, 3)
//!                                 or Order::Completion (as they finish)
//! ```
//!
//! * The input is read lazily: a chunk is cut from the iterator only when
//!   a slot is free, so a huge (or endless) iterator is fine.
//! * Each chunk runs as a weft task, so chunks make progress even while
//!   the caller is busy with a result.
//! * A slot is held from the start of a chunk until its result is handed
//!   out. In input order a slow chunk holds back new chunks rather than let
//!   finished results pile up behind it: at most `max_concurrent` chunks
//!   exist at any time, running or waiting to be handed out.
//! * A chunk that fails (an `Err`, or a panic) is one failed result among
//!   the others; the batch goes on. [`BatchProcessor::each`] runs the items
//!   of a chunk concurrently, each with its own panic guard, and reports
//!   per item.
//!
//! The tutorial's version built every batch up front, started them all at
//! once behind a semaphore, and let one failure abort the whole `TaskGroup`;
//! this one starts chunks as slots free, bounds its memory, and keeps going.
//!
//! # Cancellation guarantee
//!
//! * The `next` futures of [`Chunks`] and [`Each`] can be dropped at any
//!   point: the chunks in flight stay in the iterator and no result is lost.
//! * Dropping a [`Chunks`] or an [`Each`] (or a `collect` future) aborts
//!   every chunk still in flight: their futures are dropped at their next
//!   turn, and no task outlives the batch.
//!
//! ```
//! use std::time::Duration;
//! use weft_patterns::batch::{BatchError, BatchProcessor, Order};
//!
//! async fn fetch_user(id: u32) -> Result<String, String> {
//!     weft_runtime::sleep(Duration::from_millis(100)).await;
//!     if id == 13 {
//!         return Err(format!("user {id} not found"));
//!     }
//!     Ok(format!("User {id}"))
//! }
//!
//! let rt = weft_runtime::Builder::new().start_paused(true).build();
//! rt.block_on(async {
//!     let start = weft_runtime::time::now();
//!     let batches = BatchProcessor::new(10, 3).unwrap();
//!     let report = batches.each(0..100, Order::Input, fetch_user).collect().await;
//!     assert_eq!(report.succeeded.len(), 99);
//!     assert_eq!(report.succeeded[0], (0, "User 0".to_string()));
//!     assert_eq!(report.failed, [(13, BatchError::Failed("user 13 not found".into()))]);
//!     // 10 chunks of 100 ms, 3 at a time: 4 rounds.
//!     assert_eq!(weft_runtime::time::now() - start, Duration::from_millis(400));
//! });
//! ```

mod chunks;
mod each;
mod error;

use std::fmt;
use std::future::Future;
use std::rc::Rc;

pub use chunks::{ChunkResult, Chunks};
pub use each::{Each, ItemResult};
pub use error::{BatchError, InvalidBatchConfig};

use crate::supervision::catch_panic;

/// The order in which results come out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Order {
    /// In input order: a chunk's result waits for the chunks before it.
    Input,
    /// As chunks complete.
    Completion,
}

/// Cuts work into chunks and runs at most `max_concurrent` chunks at once;
/// see the [module docs](self).
///
/// ```
/// use weft_patterns::batch::{BatchProcessor, Order};
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     // A bulk insert per chunk: the function sees the whole chunk.
///     let batches = BatchProcessor::new(4, 2).unwrap();
///     let mut chunks = batches.chunks(1..=10, Order::Completion, |rows: Vec<u32>| async move {
///         Ok::<_, String>(rows.iter().sum::<u32>())
///     });
///     let mut total = 0;
///     while let Some(chunk) = chunks.next().await {
///         total += chunk.result.unwrap();
///     }
///     assert_eq!(total, 55);
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchProcessor {
    chunk_size: usize,
    max_concurrent: usize,
}

impl BatchProcessor {
    /// Chunks of `chunk_size` items, at most `max_concurrent` at once.
    ///
    /// # Errors
    ///
    /// [`InvalidBatchConfig`] when either is 0.
    pub fn new(chunk_size: usize, max_concurrent: usize) -> Result<Self, InvalidBatchConfig> {
        if chunk_size == 0 {
            return Err(InvalidBatchConfig::EmptyChunks);
        }
        if max_concurrent == 0 {
            return Err(InvalidBatchConfig::NoConcurrency);
        }
        Ok(BatchProcessor {
            chunk_size,
            max_concurrent,
        })
    }

    /// The number of items per chunk (the last chunk may hold fewer).
    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// The most chunks in flight at once.
    pub fn max_concurrent(&self) -> usize {
        self.max_concurrent
    }

    /// Processes `items` a chunk at a time: `process` gets each chunk whole
    /// (a bulk insert, a batched request) and gives one result for it.
    ///
    /// Nothing starts until [`Chunks::next`] (or `collect`) is awaited.
    pub fn chunks<It, I, R, E, F, Fut>(
        &self,
        items: It,
        order: Order,
        process: F,
    ) -> Chunks<I, R, E>
    where
        It: IntoIterator<Item = I>,
        It::IntoIter: 'static,
        I: 'static,
        R: 'static,
        E: 'static,
        F: Fn(Vec<I>) -> Fut + 'static,
        Fut: Future<Output = Result<R, E>> + 'static,
    {
        Chunks::new(
            Box::new(items.into_iter()),
            Rc::new(move |chunk| Box::pin(process(chunk))),
            self.chunk_size,
            self.max_concurrent,
            order,
        )
    }

    /// Processes `items` one by one, a chunk at a time: the items of a
    /// chunk run concurrently (so up to `chunk_size × max_concurrent` items
    /// at once), and each item has its own result, a panic included.
    pub fn each<It, I, R, E, F, Fut>(&self, items: It, order: Order, process: F) -> Each<I, R, E>
    where
        It: IntoIterator<Item = I>,
        It::IntoIter: 'static,
        I: 'static,
        R: 'static,
        E: 'static,
        F: Fn(I) -> Fut + 'static,
        Fut: Future<Output = Result<R, E>> + 'static,
    {
        let process = Rc::new(process);
        Each::new(self.chunks(items, order, move |chunk: Vec<I>| {
            let process = process.clone();
            async move {
                let results = weft_runtime::join_all(chunk.into_iter().map(|item| {
                    let process = process.clone();
                    async move {
                        match catch_panic(|| process(item)).await {
                            Ok(Ok(value)) => Ok(value),
                            Ok(Err(error)) => Err(BatchError::Failed(error)),
                            Err(message) => Err(BatchError::Panicked(message)),
                        }
                    }
                }))
                .await;
                Ok(results)
            }
        }))
    }
}

/// Every result of a batch, sorted into successes and failures, each with
/// its position: the chunk number for [`Chunks::collect`], the item's
/// position for [`Each::collect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchReport<R, E> {
    /// The successful results, in the order they came out.
    pub succeeded: Vec<(usize, R)>,
    /// The failures, in the order they came out.
    pub failed: Vec<(usize, BatchError<E>)>,
}

impl<R, E> BatchReport<R, E> {
    fn push(&mut self, position: usize, result: Result<R, BatchError<E>>) {
        match result {
            Ok(value) => self.succeeded.push((position, value)),
            Err(error) => self.failed.push((position, error)),
        }
    }
}

display!(impl[R, E: fmt::Display] BatchReport<R, E>, |self, f| {
    write!(f, "{} succeeded, {} failed", self.succeeded.len(), self.failed.len())?;
    for (position, error) in &self.failed {
        write!(f, "; #{position} {error}")?;
    }
    Ok(())
});
