//! Catching a panic inside a future, without spawning a task for it.
//!
//! The runtime already catches the panic of a whole task. Workers that run
//! many jobs in one task need the same at the granularity of a job: the
//! worker survives, and the job's panic becomes its result. Both the call
//! that builds the future and every poll of it run under
//! `std::panic::catch_unwind`; after a panic the future is dropped, never
//! polled again.
//!
//! `AssertUnwindSafe` is sound here in the sense the standard library means:
//! the only state we touch after a panic is the panic payload. State the job
//! shares with others may be left half-updated, exactly as with a task that
//! panics.

use std::any::Any;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::task::Poll;

/// Builds a future with `make` and runs it, turning a panic in either step
/// into `Err(message)`.
pub(crate) async fn catch_panic<F: Future>(make: impl FnOnce() -> F) -> Result<F::Output, String> {
    let future = catch_unwind(AssertUnwindSafe(make)).map_err(|payload| panic_text(&*payload))?;
    let mut future = pin!(future);
    poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(panic_text(&*payload))),
        },
    )
    .await
}

/// The text of a panic; a payload that is not a string is described, not shown.
fn panic_text(payload: &(dyn Any + Send)) -> String {
    weft_runtime::panic_message(payload)
        .unwrap_or("a panic with a non-string payload")
        .to_owned()
}
