//! [`JoinError`]: why a task's handle gave no value.
//!
//! A task ends in one of three ways: with its value, cancelled (aborted, or
//! dropped when its runtime shut down) or panicked. The last two reach the
//! task's `JoinHandle` as a `JoinError`, which keeps the task's id and, for
//! a panic, the payload, so that the caller can read the message or resume
//! the panic on its own thread. A third error comes from the handle itself:
//! a task that awaits its own handle would wait for ever, so the handle
//! says so at once (asyncio raises `RuntimeError('Task cannot await on
//! itself')`).

use std::any::Any;
use std::fmt;

use super::panic_message::panic_message;
use super::task_ref::TaskId;

/// Why a task's handle gave no value: the task was cancelled, it panicked,
/// or it awaited its own handle.
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
    /// `None` when the task was cancelled, the common case, which needs no
    /// allocation. The rest is boxed: a task's outcome shares memory with
    /// its future, and keeping the error at two words keeps a task with a
    /// small future and output small.
    failure: Option<Box<Failure>>,
}

/// A `JoinError` other than "cancelled".
enum Failure {
    /// A std Mutex makes the `Send`-only payload shareable, so that
    /// `JoinError` is `Sync` and fits in `Box<dyn Error + Send + Sync>`.
    Panicked(std::sync::Mutex<Box<dyn Any + Send + 'static>>),
    /// The task polled its own handle.
    AwaitedItself,
}

impl JoinError {
    pub(crate) fn cancelled(id: TaskId) -> Self {
        Self { id, failure: None }
    }

    pub(crate) fn panicked(id: TaskId, payload: Box<dyn Any + Send + 'static>) -> Self {
        let payload = std::sync::Mutex::new(payload);
        Self {
            id,
            failure: Some(Box::new(Failure::Panicked(payload))),
        }
    }

    pub(crate) fn awaited_itself(id: TaskId) -> Self {
        Self {
            id,
            failure: Some(Box::new(Failure::AwaitedItself)),
        }
    }

    /// The task was cancelled (aborted, or dropped when its runtime shut down).
    pub fn is_cancelled(&self) -> bool {
        self.failure.is_none()
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.failure.as_deref(), Some(Failure::Panicked(_)))
    }

    /// The task awaited its own handle, which could never finish: the
    /// handle returns this error at once instead (asyncio raises
    /// `RuntimeError('Task cannot await on itself')`). The task goes on
    /// running; its handle is still good for the real outcome, to whoever
    /// else polls it.
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use weft_runtime::JoinHandle;
    ///
    /// weft_runtime::run(async {
    ///     // Where the task will find its own handle.
    ///     let own: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
    ///     let seen = Rc::new(RefCell::new(None));
    ///     let handle = weft_runtime::spawn({
    ///         let (own, seen) = (own.clone(), seen.clone());
    ///         async move {
    ///             let handle = own.borrow_mut().take().unwrap();
    ///             *seen.borrow_mut() = Some(handle.await.unwrap_err());
    ///         }
    ///     });
    ///     *own.borrow_mut() = Some(handle);
    ///     weft_runtime::yield_now().await; // the task runs, and does not hang
    ///     assert!(seen.borrow().as_ref().unwrap().is_self_await());
    /// });
    /// ```
    pub fn is_self_await(&self) -> bool {
        matches!(self.failure.as_deref(), Some(Failure::AwaitedItself))
    }

    /// The id of the task that failed.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The panic's message, when the payload was a string (as `panic!` makes).
    pub fn panic_message(&self) -> Option<String> {
        let Some(Failure::Panicked(payload)) = self.failure.as_deref() else {
            return None;
        };
        let payload = payload.lock().unwrap_or_else(|e| e.into_inner());
        panic_message(&**payload).map(str::to_owned)
    }

    /// The panic payload, to resume the panic with `std::panic::resume_unwind`.
    /// Returns `Err(self)` when the task did not panic.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.failure.map(|failure| *failure) {
            Some(Failure::Panicked(payload)) => {
                Ok(payload.into_inner().unwrap_or_else(|e| e.into_inner()))
            }
            failure => Err(Self {
                id: self.id,
                failure: failure.map(Box::new),
            }),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.id;
        match self.failure.as_deref() {
            None => write!(f, "task {id} was cancelled"),
            Some(Failure::AwaitedItself) => write!(f, "task {id} cannot await on itself"),
            Some(Failure::Panicked(_)) => match self.panic_message() {
                Some(msg) => write!(f, "task {id} panicked: {msg}"),
                None => write!(f, "task {id} panicked"),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.failure.as_deref() {
            None => "Cancelled",
            Some(Failure::Panicked(_)) => "Panicked",
            Some(Failure::AwaitedItself) => "AwaitedItself",
        };
        f.debug_struct("JoinError")
            .field("id", &self.id)
            .field("kind", &kind)
            .field("message", &self.panic_message())
            .finish()
    }
}

impl std::error::Error for JoinError {}
