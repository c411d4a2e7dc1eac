//! The task manager's errors: a refused submission hands back the id and
//! the task; a task's own failure is a [`TaskError`].

use std::error::Error;
use std::fmt;

use super::TaskStatus;

/// Why a task gave no value.
///
/// ```
/// use weft_patterns::task_manager::TaskError;
///
/// let failed: TaskError<&str> = TaskError::Failed("disk full");
/// assert_eq!(failed.to_string(), "the task failed: disk full");
/// assert_eq!(TaskError::<&str>::Cancelled.to_string(), "the task was cancelled");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskError<E> {
    /// The task returned this error.
    Failed(E),
    /// The task panicked, with this message.
    Panicked(String),
    /// Cancelled (by [`cancel`](super::TaskManager::cancel) or the shutdown
    /// deadline) before it finished.
    Cancelled,
}

display!(impl[E: fmt::Display] TaskError<E>, |self, f| match self {
    TaskError::Failed(error) => write!(f, "the task failed: {error}"),
    TaskError::Panicked(message) => write!(f, "the task panicked: {message}"),
    TaskError::Cancelled => f.write_str("the task was cancelled"),
});

impl<E: fmt::Debug + fmt::Display> Error for TaskError<E> {}

/// Why [`submit`](super::TaskManager::submit) refused a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A task with this id is still pending or running.
    DuplicateId,
    /// As many tasks as the manager allows are pending or running.
    Full,
    /// The manager is shutting down.
    Closed,
}

/// A task that [`submit`](super::TaskManager::submit) refused, handed back
/// unrun with its id.
///
/// ```
/// use weft_patterns::task_manager::{Refusal, TaskManager};
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let manager = TaskManager::<u32, u32, ()>::builder().build().unwrap();
///     manager.submit(1, std::future::pending()).unwrap();
///     let refused = manager.submit(1, std::future::pending()).unwrap_err();
///     assert_eq!(refused.reason, Refusal::DuplicateId);
///     assert_eq!(refused.to_string(), "task 1 was refused: a task with this id is still pending or running");
///     let (id, _task) = refused.into_parts();
///     assert_eq!(id, 1);
/// });
/// ```
pub struct SubmitError<K, F> {
    /// Why it was refused.
    pub reason: Refusal,
    /// The id the caller gave.
    pub id: K,
    /// The task, unrun.
    pub task: F,
}

impl<K, F> SubmitError<K, F> {
    /// The id and the task, as the caller gave them.
    pub fn into_parts(self) -> (K, F) {
        (self.id, self.task)
    }
}

impl<K: fmt::Debug, F> fmt::Debug for SubmitError<K, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubmitError")
            .field("reason", &self.reason)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

display!(impl[K: fmt::Debug, F] SubmitError<K, F>, |self, f| {
    let why = match self.reason {
        Refusal::DuplicateId => "a task with this id is still pending or running",
        Refusal::Full => "too many tasks are pending or running",
        Refusal::Closed => "the task manager is shutting down",
    };
    write!(f, "task {:?} was refused: {why}", self.id)
});

impl<K: fmt::Debug, F> Error for SubmitError<K, F> {}

/// Why [`cancel`](super::TaskManager::cancel) had nothing to cancel.
///
/// ```
/// use weft_patterns::task_manager::{CancelError, TaskStatus};
///
/// assert_eq!(CancelError::Unknown.to_string(), "no task with this id");
/// assert_eq!(
///     CancelError::Finished(TaskStatus::Completed).to_string(),
///     "the task already finished (completed)"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelError {
    /// No task has this id (never submitted, removed, or evicted).
    Unknown,
    /// The task already finished, with this status.
    Finished(TaskStatus),
}

display!(impl[] CancelError, |self, f| match self {
    CancelError::Unknown => f.write_str("no task with this id"),
    CancelError::Finished(status) => write!(f, "the task already finished ({status})"),
});

impl Error for CancelError {}

/// A [`TaskManagerBuilder`](super::TaskManagerBuilder) setting that cannot
/// work.
///
/// ```
/// use weft_patterns::task_manager::{InvalidTaskManagerConfig, TaskManager};
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let error = TaskManager::<u32, (), ()>::builder().max_concurrent(0).build().unwrap_err();
///     assert_eq!(error, InvalidTaskManagerConfig::NoConcurrency);
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidTaskManagerConfig {
    /// `max_concurrent(0)`: no task would ever start.
    NoConcurrency,
}

display!(impl[] InvalidTaskManagerConfig, |self, f| match self {
    InvalidTaskManagerConfig::NoConcurrency => {
        f.write_str("a task manager must let at least one task run at a time")
    }
});

impl Error for InvalidTaskManagerConfig {}
