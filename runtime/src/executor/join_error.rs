//! [`JoinError`]: why a task gave no value.
//!
//! A task ends in one of three ways: with its value, cancelled (aborted, or
//! dropped when its runtime shut down) or panicked. The last two reach the
//! task's `JoinHandle` as a `JoinError`, which keeps the task's id and, for
//! a panic, the payload, so that the caller can read the message or resume
//! the panic on its own thread.

use std::any::Any;
use std::fmt;

use super::panic_message::panic_message;
use super::task_ref::TaskId;

/// Why a task gave no value: it was cancelled, or it panicked.
///
/// ```
/// weft_runtime::run(async {
///     let err = weft_runtime::spawn(async { panic!("boom") }).await.unwrap_err();
///     assert!(err.is_panic());
///     assert_eq!(err.panic_message().as_deref(), Some("boom"));
/// });
/// ```
pub struct JoinError {
    id: TaskId,
    // A std Mutex makes the `Send`-only payload shareable, so that `JoinError`
    // is `Sync` and fits in `Box<dyn Error + Send + Sync>`. It is boxed: a
    // task's outcome shares memory with its future, and keeping the error at
    // two words keeps a task with a small future and output small.
    panic: Option<Box<std::sync::Mutex<Box<dyn Any + Send + 'static>>>>,
}

impl JoinError {
    pub(crate) fn cancelled(id: TaskId) -> Self {
        Self { id, panic: None }
    }

    pub(crate) fn panicked(id: TaskId, payload: Box<dyn Any + Send + 'static>) -> Self {
        Self {
            id,
            panic: Some(Box::new(std::sync::Mutex::new(payload))),
        }
    }

    /// The task was cancelled (aborted, or dropped when its runtime shut down).
    pub fn is_cancelled(&self) -> bool {
        self.panic.is_none()
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        self.panic.is_some()
    }

    /// The id of the task that failed.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The panic's message, when the payload was a string (as `panic!` makes).
    pub fn panic_message(&self) -> Option<String> {
        let payload = self
            .panic
            .as_ref()?
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        panic_message(&**payload).map(str::to_owned)
    }

    /// The panic payload, to resume the panic with `std::panic::resume_unwind`.
    /// Returns `Err(self)` when the task was cancelled instead.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.panic {
            Some(payload) => Ok(payload.into_inner().unwrap_or_else(|e| e.into_inner())),
            None => Err(self),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.panic_message() {
            _ if self.is_cancelled() => write!(f, "task {} was cancelled", self.id),
            Some(msg) => write!(f, "task {} panicked: {msg}", self.id),
            None => write!(f, "task {} panicked", self.id),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.is_cancelled() {
            "Cancelled"
        } else {
            "Panicked"
        };
        f.debug_struct("JoinError")
            .field("id", &self.id)
            .field("kind", &kind)
            .field("message", &self.panic_message())
            .finish()
    }
}

impl std::error::Error for JoinError {}
