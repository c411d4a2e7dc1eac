//! Deadlines as `Option<Instant>`, where `None` means "no limit": the pool
//! combines several optional limits (the acquire timeout of the whole `get`,
//! the create or recycle timeout of one step) and runs each step under the
//! earliest.

use std::future::Future;
use std::time::{Duration, Instant};

use weft_runtime::time;

/// The instant `limit` after `start`; `None` if there is no limit, or if it
/// lies beyond what an `Instant` can represent.
pub(super) fn deadline_after(start: Instant, limit: Option<Duration>) -> Option<Instant> {
    limit.and_then(|limit| start.checked_add(limit))
}

/// The earlier of two deadlines.
pub(super) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Whether `deadline` has passed on the runtime's clock.
pub(super) fn has_passed(deadline: Option<Instant>) -> bool {
    deadline.is_some_and(|deadline| time::now() >= deadline)
}

/// Runs `future` until `deadline`: `None` if the deadline came first (the
/// future was dropped then).
pub(super) async fn within<F: Future>(deadline: Option<Instant>, future: F) -> Option<F::Output> {
    match deadline {
        Some(deadline) => time::timeout_at(deadline, future).await.ok(),
        None => Some(future.await),
    }
}
