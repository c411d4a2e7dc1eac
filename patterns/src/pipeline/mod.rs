//! Producer-consumer pipelines: stages connected by bounded weft queues,
//! any number of producers and of workers per stage, shutdown without
//! sentinels, failures reported without killing a worker, and a `join`
//! that says when everything was processed.
//!
//! # Algorithm
//!
//! ```text
//!   Producer ─┐                 stage "fetch" (4 workers)         stage "parse" (2 workers)
//!   Producer ─┼─▶ [input queue] ──▶ f(item) ──▶ [queue] ──▶ g(item) ──▶ [output queue] ──▶ Outputs
//!   Producer ─┘    bounded           │ Err / panic           │             bounded
//!                                    └────────────┬──────────┘
//!                                                 ▼
//!                                  errors: [ItemError { stage, failure }]
//! ```
//!
//! * **Back-pressure.** Every queue is bounded. A stage whose output queue
//!   is full stops taking input; its input queue fills up; in the end the
//!   producers' `put` waits. Memory stays bounded whatever the speeds.
//! * **Shutdown without sentinels.** [`close`](Pipeline::close) shuts the
//!   input queue down (weft's `Queue::shutdown`, asyncio 3.13's). Each
//!   stage's workers drain what is left and exit, and the last worker of a
//!   stage shuts the stage's output queue down, so the shutdown travels down
//!   the pipeline behind the last item. No `None` goes through the queues,
//!   and no count of consumers has to be known to send enough of them.
//! * **Failures are reported, not fatal.** A stage's function returns
//!   `Result`; an `Err`, or a panic (caught), is recorded as an
//!   [`ItemError`] with the stage's name, and the worker takes the next item.
//! * **Join.** Each worker calls `task_done` on its input queue only after
//!   it has put the result into the next queue (or recorded the failure).
//!   [`join`](Pipeline::join) joins the stages' input queues front to back,
//!   so it returns once everything put so far has gone all the way through,
//!   and the pipeline stays open. [`finish`](Pipeline::finish) closes it,
//!   waits for every worker to exit, and returns a [`PipelineReport`].
//!
//! A stage is one set of workers over one function; a pipeline that ends
//! with [`sink`](PipelineBuilder::sink) drops its last results, otherwise
//! the caller reads them through [`outputs`](Pipeline::outputs). Keep a
//! consumer reading them: a full output queue holds the whole pipeline back,
//! `finish` included.
//!
//! # Cancellation guarantee
//!
//! * A [`Producer::put`] dropped while it waits for room drops its item,
//!   unqueued; no queue slot is kept and the next waiting producer is served.
//! * [`Outputs::next`] and [`join`](Pipeline::join) can be dropped at any
//!   point: no result is lost, nothing changes.
//! * Dropping the [`Pipeline`] (or its [`finish`](Pipeline::finish) future)
//!   aborts every worker: items in flight and in the queues are dropped.
//!   The workers belong to the pipeline; call `finish` to let them complete.
//!
//! ```
//! use weft_patterns::pipeline::Pipeline;
//!
//! let rt = weft_runtime::Builder::new().start_paused(true).build();
//! rt.block_on(async {
//!     let pipeline = Pipeline::builder(4)
//!         .stage("parse", 2, 4, |line: &str| async move {
//!             line.trim().parse::<u32>().map_err(|e| format!("{line:?}: {e}"))
//!         })
//!         .stage("square", 3, 4, |n| async move { Ok(n * n) })
//!         .build()
//!         .unwrap();
//!     let producer = pipeline.producer();
//!     let outputs = pipeline.outputs();
//!     let consumer = weft_runtime::spawn(async move {
//!         let mut total = 0;
//!         while let Some(square) = outputs.next().await {
//!             total += square;
//!         }
//!         total
//!     });
//!     for line in ["1", "2", "three", "4"] {
//!         producer.put(line).await.unwrap();
//!     }
//!     let report = pipeline.finish().await;
//!     assert_eq!(consumer.await.unwrap(), 1 + 4 + 16);
//!     assert_eq!(report.errors.len(), 1);
//!     assert_eq!(report.errors[0].to_string(), "stage \"parse\": \"three\": invalid digit found in string");
//!     assert_eq!((report.stages[0].succeeded, report.stages[0].failed), (3, 1));
//! });
//! ```

mod ends;
mod error;
mod stage;

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;

use weft_primitives::Queue;

pub use ends::{Outputs, Producer};
pub use error::{InvalidPipeline, ItemError, ItemFailure, PipelineReport, StageReport};

use crate::supervision::AbortOnDrop;
use stage::{Stage, StageInput, StageShared};

/// A running pipeline that takes `In` items and yields `Out` results, with
/// failures of type `E`; built by [`Pipeline::builder`]. See the
/// [module docs](self).
pub struct Pipeline<In, Out, E> {
    input: Arc<Queue<In>>,
    output: Arc<Queue<Out>>,
    stages: Vec<Stage>,
    errors: Rc<RefCell<Vec<ItemError<E>>>>,
}

impl<T: 'static, E: 'static> Pipeline<T, T, E> {
    /// Starts describing a pipeline whose input queue holds up to
    /// `capacity` items.
    pub fn builder(capacity: usize) -> PipelineBuilder<T, T, E> {
        let input = Arc::new(Queue::new(capacity));
        PipelineBuilder {
            input: input.clone(),
            output: input,
            stages: Vec::new(),
            errors: Rc::default(),
            invalid: (capacity == 0).then_some(InvalidPipeline::ZeroCapacity { stage: None }),
        }
    }
}

impl<In, Out, E> Pipeline<In, Out, E> {
    /// A handle to put items in; clone it for each producer.
    pub fn producer(&self) -> Producer<In> {
        Producer {
            queue: self.input.clone(),
        }
    }

    /// A handle to take results out; clone it for each consumer.
    pub fn outputs(&self) -> Outputs<Out> {
        Outputs {
            queue: self.output.clone(),
        }
    }

    /// Stops taking input: puts fail from now on (producers blocked on a
    /// full queue get their item back), and the stages drain what is queued
    /// and then stop, front to back.
    pub fn close(&self) {
        self.input.shutdown(false);
    }

    /// Waits until every item put so far has gone through every stage
    /// (its result is in the output queue, or its failure recorded). The
    /// pipeline stays open. Cancel-safe.
    pub async fn join(&self) {
        for stage in &self.stages {
            stage.input.join().await;
        }
    }

    /// Takes the failures recorded so far.
    pub fn take_errors(&self) -> Vec<ItemError<E>> {
        std::mem::take(&mut *self.errors.borrow_mut())
    }

    /// Each stage's counts so far, front to back.
    pub fn stage_reports(&self) -> Vec<StageReport> {
        self.stages.iter().map(Stage::report).collect()
    }

    /// Closes the pipeline, waits until every item has gone through and
    /// every worker has exited, and reports. Results still in the output
    /// queue stay readable through [`Outputs`].
    pub async fn finish(mut self) -> PipelineReport<E> {
        self.close();
        for stage in &mut self.stages {
            for worker in &mut stage.workers {
                // A worker is only aborted by dropping the pipeline.
                let _ = worker.await;
            }
        }
        PipelineReport {
            stages: self.stage_reports(),
            errors: self.take_errors(),
        }
    }
}

impl<In, Out, E> fmt::Debug for Pipeline<In, Out, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("stages", &self.stage_reports())
            .field("input", &self.input)
            .field("output", &self.output)
            .finish()
    }
}

/// Describes a pipeline stage by stage; [`build`](Self::build) checks the
/// settings and starts the workers.
///
/// ```
/// use weft_patterns::pipeline::Pipeline;
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let seen = std::rc::Rc::new(std::cell::Cell::new(0));
///     let pipeline = Pipeline::builder(8)
///         .stage("double", 2, 8, |n: u64| async move { Ok::<_, ()>(n * 2) })
///         .sink("count", 1, {
///             let seen = seen.clone();
///             move |n| {
///                 let seen = seen.clone();
///                 async move {
///                     seen.set(seen.get() + n);
///                     Ok(())
///                 }
///             }
///         })
///         .build()
///         .unwrap();
///     for n in 1..=10 {
///         pipeline.producer().put(n).await.unwrap();
///     }
///     pipeline.join().await; // everything put so far went through
///     assert_eq!(seen.get(), 110);
///     pipeline.finish().await;
/// });
/// ```
pub struct PipelineBuilder<In, Out, E> {
    input: Arc<Queue<In>>,
    /// The queue the next stage will read.
    output: Arc<Queue<Out>>,
    /// Each closure starts one stage's workers.
    stages: Vec<Box<dyn FnOnce() -> Stage>>,
    errors: Rc<RefCell<Vec<ItemError<E>>>>,
    /// The first setting found invalid.
    invalid: Option<InvalidPipeline>,
}

impl<In: 'static, Out: 'static, E: 'static> PipelineBuilder<In, Out, E> {
    /// Adds a stage named `name`: `workers` workers apply `function` to the
    /// items, and put the results into a new queue of `capacity` results.
    pub fn stage<O, F, Fut>(
        self,
        name: &str,
        workers: usize,
        capacity: usize,
        function: F,
    ) -> PipelineBuilder<In, O, E>
    where
        O: 'static,
        F: Fn(Out) -> Fut + 'static,
        Fut: Future<Output = Result<O, E>> + 'static,
    {
        let zero_capacity = InvalidPipeline::ZeroCapacity {
            stage: Some(name.to_owned()),
        };
        let output = Arc::new(Queue::new(capacity));
        let mut next = self.then(name, workers, Some(output.clone()), function, output);
        if capacity == 0 {
            next.invalid.get_or_insert(zero_capacity);
        }
        next
    }

    /// Ends the pipeline with a stage whose results are dropped: `workers`
    /// workers apply `function` to the items. Nothing comes out of the
    /// pipeline's [`outputs`](Pipeline::outputs) after it.
    pub fn sink<F, Fut>(self, name: &str, workers: usize, function: F) -> PipelineBuilder<In, (), E>
    where
        F: Fn(Out) -> Fut + 'static,
        Fut: Future<Output = Result<(), E>> + 'static,
    {
        let nothing = Arc::new(Queue::new(1));
        nothing.shutdown(false);
        self.then(name, workers, None, function, nothing)
    }

    /// Adds a stage that reads this builder's last queue and writes to
    /// `forward_to` (or drops its results); `last` becomes the last queue.
    fn then<O, F, Fut>(
        mut self,
        name: &str,
        workers: usize,
        forward_to: Option<Arc<Queue<O>>>,
        function: F,
        last: Arc<Queue<O>>,
    ) -> PipelineBuilder<In, O, E>
    where
        O: 'static,
        F: Fn(Out) -> Fut + 'static,
        Fut: Future<Output = Result<O, E>> + 'static,
    {
        if workers == 0 {
            self.invalid.get_or_insert(InvalidPipeline::NoWorkers {
                stage: name.to_owned(),
            });
        }
        let shared = Rc::new(StageShared {
            name: Arc::from(name),
            function,
            input: self.output,
            output: forward_to,
            errors: self.errors.clone(),
            counts: Rc::default(),
            live_workers: Cell::new(workers),
        });
        self.stages.push(Box::new(move || Stage {
            name: shared.name.clone(),
            input: shared.input.clone() as Arc<dyn StageInput>,
            counts: shared.counts.clone(),
            workers: (0..workers)
                .map(|index| {
                    let name = format!("{}-{index}", shared.name);
                    AbortOnDrop(weft_runtime::spawn_named(name, stage::work(shared.clone())))
                })
                .collect(),
        }));
        PipelineBuilder {
            input: self.input,
            output: last,
            stages: self.stages,
            errors: self.errors,
            invalid: self.invalid,
        }
    }

    /// Checks the settings and starts every stage's workers on the current
    /// weft runtime.
    ///
    /// # Errors
    ///
    /// [`InvalidPipeline`] for a queue of capacity 0 or a stage without
    /// workers (the first one found).
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub fn build(self) -> Result<Pipeline<In, Out, E>, InvalidPipeline> {
        if let Some(invalid) = self.invalid {
            return Err(invalid);
        }
        Ok(Pipeline {
            input: self.input,
            output: self.output,
            stages: self.stages.into_iter().map(|start| start()).collect(),
            errors: self.errors,
        })
    }
}

impl<In, Out, E> fmt::Debug for PipelineBuilder<In, Out, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("stages", &self.stages.len())
            .field("invalid", &self.invalid)
            .finish()
    }
}
