//! Batch processing's errors: a failed chunk or item is a value in the
//! results, never the end of the batch.

use std::error::Error;
use std::fmt;

/// Why a chunk (or an item) gave no value.
///
/// ```
/// use weft_patterns::batch::BatchError;
///
/// assert_eq!(BatchError::Failed("timeout").to_string(), "failed: timeout");
/// assert_eq!(BatchError::<&str>::Panicked("oops".into()).to_string(), "panicked: oops");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchError<E> {
    /// The processing function returned this error.
    Failed(E),
    /// The processing function panicked, with this message.
    Panicked(String),
}

display!(impl[E: fmt::Display] BatchError<E>, |self, f| match self {
    BatchError::Failed(error) => write!(f, "failed: {error}"),
    BatchError::Panicked(message) => write!(f, "panicked: {message}"),
});

impl<E: fmt::Debug + fmt::Display> Error for BatchError<E> {}

/// A [`BatchProcessor`](super::BatchProcessor) setting that cannot work.
///
/// ```
/// use weft_patterns::batch::{BatchProcessor, InvalidBatchConfig};
///
/// assert_eq!(BatchProcessor::new(0, 4).unwrap_err(), InvalidBatchConfig::EmptyChunks);
/// assert_eq!(
///     BatchProcessor::new(10, 0).unwrap_err().to_string(),
///     "at least one chunk must be allowed in flight"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidBatchConfig {
    /// A chunk size of 0.
    EmptyChunks,
    /// A concurrency of 0.
    NoConcurrency,
}

display!(impl[] InvalidBatchConfig, |self, f| {
    f.write_str(match self {
        InvalidBatchConfig::EmptyChunks => "a chunk must hold at least one item",
        InvalidBatchConfig::NoConcurrency => "at least one chunk must be allowed in flight",
    })
});

impl Error for InvalidBatchConfig {}
