//! [`Chunks`]: the engine of batch processing. It cuts the input into
//! chunks lazily, keeps at most `max_concurrent` of them in flight as weft
//! tasks, and hands their results out in the order asked for.
//!
//! ```text
//!   source ──take(chunk_size)──▶ spawn ──▶ in_flight: [chunk 3, chunk 5]
//!                                                │ a task finishes
//!                                                ▼
//!                      ready (by chunk number): {4: …, 6: …}  ──▶ next()
//!   in input order, chunk 3 must come out before 4 and 6;
//!   as completed, whatever is ready comes out at once.
//!
//!   invariant: in_flight + ready ≤ max_concurrent
//! ```
//!
//! A new chunk starts only when a slot is free, and a result waiting to be
//! handed out holds its slot. In input order, a slow chunk therefore holds
//! back the start of new chunks instead of letting finished results pile up
//! behind it: memory stays bounded by `max_concurrent` chunks, as with
//! `futures`' `buffered`.

use std::collections::BTreeMap;
use std::fmt;
use std::future::{poll_fn, Future};
use std::ops::Range;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;

use super::{BatchError, BatchReport, Order};
use crate::supervision::AbortOnDrop;

/// A chunk's processing, type-erased so that [`Chunks`] has a nameable
/// type.
pub(super) type ChunkFn<I, R, E> =
    Rc<dyn Fn(Vec<I>) -> Pin<Box<dyn Future<Output = Result<R, E>>>>>;

/// The result of one chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkResult<R, E> {
    /// The chunk's number, from 0, in input order.
    pub chunk: usize,
    /// The positions of its items in the input.
    pub items: Range<usize>,
    /// What processing the chunk gave.
    pub result: Result<R, BatchError<E>>,
}

struct InFlight<R, E> {
    chunk: usize,
    items: Range<usize>,
    task: AbortOnDrop<Result<R, E>>,
}

/// Chunk results, one by one: made by
/// [`BatchProcessor::chunks`](super::BatchProcessor::chunks). See the
/// [module docs](super) for the guarantees.
pub struct Chunks<I, R, E> {
    source: Box<dyn Iterator<Item = I>>,
    run: ChunkFn<I, R, E>,
    chunk_size: usize,
    max_concurrent: usize,
    order: Order,
    /// The next chunk's number and its first item's position.
    next_chunk: usize,
    next_item: usize,
    /// `false` once the source gave its last item.
    more: bool,
    in_flight: Vec<InFlight<R, E>>,
    ready: BTreeMap<usize, ChunkResult<R, E>>,
    /// The chunk to hand out next, in input order.
    next_out: usize,
}

impl<I: 'static, R: 'static, E: 'static> Chunks<I, R, E> {
    pub(super) fn new(
        source: Box<dyn Iterator<Item = I>>,
        run: ChunkFn<I, R, E>,
        chunk_size: usize,
        max_concurrent: usize,
        order: Order,
    ) -> Self {
        Chunks {
            source,
            run,
            chunk_size,
            max_concurrent,
            order,
            next_chunk: 0,
            next_item: 0,
            more: true,
            in_flight: Vec::new(),
            ready: BTreeMap::new(),
            next_out: 0,
        }
    }

    /// The next chunk's result, or `None` once every chunk's result was
    /// returned.
    ///
    /// Cancel-safe: the chunks in flight stay in `self` when the future is
    /// dropped, and no result is lost.
    ///
    /// # Panics
    ///
    /// Outside a weft runtime (chunks run as weft tasks).
    pub async fn next(&mut self) -> Option<ChunkResult<R, E>> {
        loop {
            self.start_chunks();
            if let Some(result) = self.take_ready() {
                return Some(result);
            }
            if self.in_flight.is_empty() {
                return None;
            }
            let (position, outcome) = poll_fn(|cx| {
                for (position, chunk) in self.in_flight.iter_mut().enumerate() {
                    if let Poll::Ready(outcome) = Pin::new(&mut chunk.task).poll(cx) {
                        return Poll::Ready((position, outcome));
                    }
                }
                Poll::Pending
            })
            .await;
            let InFlight { chunk, items, .. } = self.in_flight.remove(position);
            let result = match outcome {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(error)) => Err(BatchError::Failed(error)),
                Err(join_error) => Err(BatchError::Panicked(
                    join_error
                        .panic_message()
                        .unwrap_or_else(|| join_error.to_string()),
                )),
            };
            self.ready.insert(
                chunk,
                ChunkResult {
                    chunk,
                    items,
                    result,
                },
            );
        }
    }

    /// Every remaining result, sorted into successes and failures (keyed by
    /// chunk number, in the order they came out).
    pub async fn collect(mut self) -> BatchReport<R, E> {
        let mut report = BatchReport {
            succeeded: Vec::new(),
            failed: Vec::new(),
        };
        while let Some(ChunkResult { chunk, result, .. }) = self.next().await {
            report.push(chunk, result);
        }
        report
    }

    /// Starts chunks while a slot is free and the source has items.
    fn start_chunks(&mut self) {
        while self.more && self.in_flight.len() + self.ready.len() < self.max_concurrent {
            let items: Vec<I> = self.source.by_ref().take(self.chunk_size).collect();
            if items.len() < self.chunk_size {
                self.more = false;
            }
            if items.is_empty() {
                break;
            }
            let positions = self.next_item..self.next_item + items.len();
            self.next_item = positions.end;
            let run = self.run.clone();
            // The chunk's future is made inside its task, so that a panic
            // while making it is that chunk's failure, not the caller's.
            let task = weft_runtime::spawn(async move { run(items).await });
            self.in_flight.push(InFlight {
                chunk: self.next_chunk,
                items: positions,
                task: AbortOnDrop(task),
            });
            self.next_chunk += 1;
        }
    }

    fn take_ready(&mut self) -> Option<ChunkResult<R, E>> {
        match self.order {
            Order::Input => {
                let result = self.ready.remove(&self.next_out)?;
                self.next_out += 1;
                Some(result)
            }
            Order::Completion => self.ready.pop_first().map(|(_, result)| result),
        }
    }
}

impl<I, R, E> fmt::Debug for Chunks<I, R, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chunks")
            .field("chunk_size", &self.chunk_size)
            .field("max_concurrent", &self.max_concurrent)
            .field("order", &self.order)
            .field("started", &self.next_chunk)
            .field("in_flight", &self.in_flight.len())
            .field("ready", &self.ready.len())
            .finish()
    }
}
