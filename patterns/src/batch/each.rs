//! [`Each`]: item-level batch processing on top of [`Chunks`]. Each chunk
//! runs its items concurrently (the tutorial's `gather` per batch), every
//! item under its own panic guard, so one bad item fails alone.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt;

use super::chunks::{ChunkResult, Chunks};
use super::{BatchError, BatchReport};

/// One item's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemResult<R, E> {
    /// The item's position in the input.
    pub index: usize,
    /// What processing it gave.
    pub result: Result<R, BatchError<E>>,
}

/// The per-item results of one chunk, in input order.
pub(super) type ChunkItems<R, E> = Vec<Result<R, BatchError<E>>>;

/// Item results, one by one: made by
/// [`BatchProcessor::each`](super::BatchProcessor::each). Chunks come out in
/// the order chosen; within a chunk, items come out in input order.
pub struct Each<I, R, E> {
    chunks: Chunks<I, ChunkItems<R, E>, Infallible>,
    /// The rest of the chunk being handed out.
    current: VecDeque<ItemResult<R, E>>,
}

impl<I: 'static, R: 'static, E: 'static> Each<I, R, E> {
    pub(super) fn new(chunks: Chunks<I, ChunkItems<R, E>, Infallible>) -> Self {
        Each {
            chunks,
            current: VecDeque::new(),
        }
    }

    /// The next item's result, or `None` once every result was returned.
    ///
    /// Cancel-safe, like [`Chunks::next`].
    pub async fn next(&mut self) -> Option<ItemResult<R, E>> {
        loop {
            if let Some(item) = self.current.pop_front() {
                return Some(item);
            }
            let ChunkResult { items, result, .. } = self.chunks.next().await?;
            match result {
                Ok(results) => self.current.extend(
                    items
                        .zip(results)
                        .map(|(index, result)| ItemResult { index, result }),
                ),
                // Items are guarded one by one, so only the chunk's own
                // code could panic; then every item of it shares the failure.
                Err(BatchError::Panicked(message)) => {
                    self.current.extend(items.map(|index| ItemResult {
                        index,
                        result: Err(BatchError::Panicked(message.clone())),
                    }))
                }
                Err(BatchError::Failed(never)) => match never {},
            }
        }
    }

    /// Every remaining result, sorted into successes and failures (keyed by
    /// item position, in the order they came out).
    pub async fn collect(mut self) -> BatchReport<R, E> {
        let mut report = BatchReport {
            succeeded: Vec::new(),
            failed: Vec::new(),
        };
        while let Some(ItemResult { index, result }) = self.next().await {
            report.push(index, result);
        }
        report
    }
}

impl<I, R, E> fmt::Debug for Each<I, R, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Each")
            .field("chunks", &self.chunks)
            .field("buffered", &self.current.len())
            .finish()
    }
}
