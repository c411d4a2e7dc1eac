//! What a [`TaskGroup`](super::TaskGroup) reports: a task it refused
//! ([`GroupClosed`]), one task's failure ([`TaskFailure`]), and the failure
//! of the whole group ([`TaskGroupError`]).

use std::any::Any;
use std::fmt;

use crate::executor::panic_message::panic_message;

/// A task the group did not take, because the group is shutting down after
/// a failure or has finished. The future comes back, never polled.
pub struct GroupClosed<F> {
    pub(super) future: F,
    pub(super) shutting_down: bool,
}

impl<F> GroupClosed<F> {
    /// The future that was not spawned.
    pub fn into_future(self) -> F {
        self.future
    }

    /// `true` if the group refused because a task failed and it is
    /// cancelling the rest; `false` if the group has finished (joined or
    /// dropped).
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down
    }
}

impl<F> fmt::Display for GroupClosed<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.shutting_down {
            f.write_str("task not spawned: the task group is shutting down after a failure")
        } else {
            f.write_str("task not spawned: the task group has finished")
        }
    }
}

impl<F> fmt::Debug for GroupClosed<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupClosed")
            .field("shutting_down", &self.shutting_down)
            .finish_non_exhaustive()
    }
}

impl<F> std::error::Error for GroupClosed<F> {}

/// Why one task of a group failed.
pub enum TaskFailure<E> {
    /// The task returned `Err(error)`.
    Failed {
        /// The task's spawn index.
        task: usize,
        /// What it returned.
        error: E,
    },
    /// The task panicked.
    Panicked {
        /// The task's spawn index.
        task: usize,
        /// The panic payload, for `std::panic::resume_unwind`.
        payload: Box<dyn Any + Send + 'static>,
    },
}

impl<E> TaskFailure<E> {
    /// The spawn index of the task that failed.
    pub fn task(&self) -> usize {
        match self {
            TaskFailure::Failed { task, .. } | TaskFailure::Panicked { task, .. } => *task,
        }
    }
}

impl<E: fmt::Display> fmt::Display for TaskFailure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskFailure::Failed { task, error } => {
                write!(f, "task {task} returned an error: {error}")
            }
            TaskFailure::Panicked { task, payload } => match panic_message(payload.as_ref()) {
                Some(message) => write!(f, "task {task} panicked: {message}"),
                None => write!(f, "task {task} panicked"),
            },
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for TaskFailure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskFailure::Failed { task, error } => f
                .debug_struct("Failed")
                .field("task", task)
                .field("error", error)
                .finish(),
            TaskFailure::Panicked { task, payload } => f
                .debug_struct("Panicked")
                .field("task", task)
                .field("message", &panic_message(payload.as_ref()))
                .finish(),
        }
    }
}

/// Why [`TaskGroup::join`](super::TaskGroup::join) failed: every task failure it saw, first one
/// first, and how many tasks were cancelled instead of finishing.
///
/// A group fails when a task fails (and then its other tasks are cancelled),
/// or, rarely, when a task was cancelled from outside the group (its
/// runtime shutting down): then `failures` is empty.
///
/// ```
/// use weft_runtime::combinators::{TaskFailure, TaskGroup};
///
/// let error = weft_runtime::run(async {
///     let group = TaskGroup::new();
///     group.spawn(async { Ok(1) });
///     group.spawn(async { Err("bad input") });
///     group.join().await.unwrap_err()
/// });
/// assert!(matches!(
///     error.failures(),
///     [TaskFailure::Failed { task: 1, error: "bad input" }]
/// ));
/// ```
pub struct TaskGroupError<E> {
    pub(super) failures: Vec<TaskFailure<E>>,
    pub(super) cancelled: usize,
}

impl<E> TaskGroupError<E> {
    /// Every failure, in the order `join` saw them.
    pub fn failures(&self) -> &[TaskFailure<E>] {
        &self.failures
    }

    /// Every failure, in the order `join` saw them, by value.
    pub fn into_failures(self) -> Vec<TaskFailure<E>> {
        self.failures
    }

    /// How many tasks were cancelled instead of finishing.
    pub fn cancelled(&self) -> usize {
        self.cancelled
    }
}

impl<E: fmt::Display> fmt::Display for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task group failed:")?;
        for (n, failure) in self.failures.iter().enumerate() {
            let separator = if n == 0 { " " } else { "; " };
            write!(f, "{separator}{failure}")?;
        }
        let plural = if self.cancelled == 1 { "" } else { "s" };
        match (self.failures.is_empty(), self.cancelled) {
            (false, 0) => Ok(()),
            (false, cancelled) => write!(f, " ({cancelled} task{plural} cancelled)"),
            (true, cancelled) => write!(f, " {cancelled} task{plural} cancelled"),
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupError")
            .field("failures", &self.failures)
            .field("cancelled", &self.cancelled)
            .finish()
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for TaskGroupError<E> {}
