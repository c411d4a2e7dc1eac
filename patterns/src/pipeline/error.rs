//! What a pipeline reports: the items that failed (with the stage that
//! failed them), per-stage counts, and settings that cannot work.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// How an item failed in a stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemFailure<E> {
    /// The stage's function returned this error.
    Error(E),
    /// The stage's function panicked, with this message.
    Panicked(String),
}

/// An item that failed in a stage; its worker went on with the next item.
///
/// ```
/// use weft_patterns::pipeline::{ItemError, ItemFailure};
///
/// let error = ItemError { stage: "parse".into(), failure: ItemFailure::Error("not a number") };
/// assert_eq!(error.to_string(), "stage \"parse\": not a number");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemError<E> {
    /// The name of the stage that failed the item.
    pub stage: Arc<str>,
    /// What went wrong.
    pub failure: ItemFailure<E>,
}

display!(impl[E: fmt::Display] ItemError<E>, |self, f| match &self.failure {
    ItemFailure::Error(error) => write!(f, "stage {:?}: {error}", self.stage),
    ItemFailure::Panicked(message) => write!(f, "stage {:?} panicked: {message}", self.stage),
});

impl<E: fmt::Debug + fmt::Display> Error for ItemError<E> {}

/// One stage's counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageReport {
    /// The stage's name.
    pub name: String,
    /// Items it processed successfully.
    pub succeeded: u64,
    /// Items that failed in it.
    pub failed: u64,
}

/// What [`Pipeline::finish`](super::Pipeline::finish) returns once every
/// item has gone through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineReport<E> {
    /// Each stage's counts, front to back.
    pub stages: Vec<StageReport>,
    /// The items that failed and were not taken with
    /// [`take_errors`](super::Pipeline::take_errors), in the order they failed.
    pub errors: Vec<ItemError<E>>,
}

/// A pipeline setting that cannot work, reported by
/// [`PipelineBuilder::build`](super::PipelineBuilder::build).
///
/// ```
/// use weft_patterns::pipeline::{InvalidPipeline, Pipeline};
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let error = Pipeline::<u32, u32, ()>::builder(4)
///         .stage("double", 0, 4, |n| async move { Ok(n * 2) })
///         .build()
///         .unwrap_err();
///     assert_eq!(error, InvalidPipeline::NoWorkers { stage: "double".into() });
///     assert_eq!(error.to_string(), "stage \"double\" needs at least one worker");
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidPipeline {
    /// The input queue or a stage's output queue has capacity 0: the
    /// queues are bounded on purpose, for back-pressure.
    ZeroCapacity {
        /// The stage whose output queue it is, or `None` for the input.
        stage: Option<String>,
    },
    /// A stage has no worker: nothing would ever go through it.
    NoWorkers {
        /// The stage.
        stage: String,
    },
}

display!(impl[] InvalidPipeline, |self, f| match self {
    InvalidPipeline::ZeroCapacity { stage: None } => {
        f.write_str("the input queue needs room for at least one item")
    }
    InvalidPipeline::ZeroCapacity { stage: Some(stage) } => {
        write!(f, "the output queue of stage {stage:?} needs room for at least one item")
    }
    InvalidPipeline::NoWorkers { stage } => write!(f, "stage {stage:?} needs at least one worker"),
});

impl Error for InvalidPipeline {}
