//! Deadlines as `Option<Instant>`, where `None` means "no limit", and the
//! grace period that shutdowns share.
//!
//! It also holds [`duration_nanos`], the one conversion of a duration into
//! the whole nanoseconds that the rate limiters and the jitter generator
//! compute in.
//!
//! A pattern often runs one step under several optional limits at once (the
//! connection pool's acquire timeout for a whole `get` and its create
//! timeout for one step; retry's total deadline and its per-attempt
//! timeout): [`deadline_after`] turns the overall limit into an instant,
//! [`step_deadline`] cuts a step at the earlier of its own limit and that
//! instant, and [`within`] runs the step until then. Every instant is on the runtime's clock, so a paused clock
//! in tests moves them too.
//!
//! [`drain_then_abort`] is the shutdown of the worker pool, the task manager
//! and the shutdown coordinator:
//!
//! ```text
//!   wait for `stopped` ── came before started + grace ──▶ done (nothing cancelled)
//!        │ the grace period ran out
//!        ▼
//!   abort()  (cancel the work that is left) ──▶ wait for `stopped` again ──▶ done
//! ```
//!
//! The second wait has no limit: the work is cancelled by then, and
//! cancelled work stops at its next turn, so `stopped` comes as soon as
//! each piece has run its destructors. Dropping the future half-way
//! cancels nothing that `abort` was not already called for.

use std::future::Future;
use std::time::{Duration, Instant};

use weft_runtime::time;

/// The instant `limit` after `start`; `None` if there is no limit, or if it
/// lies beyond what an `Instant` can represent.
pub(crate) fn deadline_after(start: Instant, limit: Option<Duration>) -> Option<Instant> {
    limit.and_then(|limit| start.checked_add(limit))
}

/// The deadline of one step that may take `limit` from now and must also
/// end by the `overall` deadline: the earlier of the two.
pub(crate) fn step_deadline(limit: Option<Duration>, overall: Option<Instant>) -> Option<Instant> {
    match (deadline_after(time::now(), limit), overall) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Whether `deadline` has passed by `instant` (`None`: an instant too late
/// to represent, after every deadline).
pub(crate) fn passed_at(deadline: Option<Instant>, instant: Option<Instant>) -> bool {
    deadline.is_some_and(|deadline| instant.is_none_or(|instant| instant >= deadline))
}

/// Whether `deadline` has passed on the runtime's clock.
pub(crate) fn has_passed(deadline: Option<Instant>) -> bool {
    passed_at(deadline, Some(time::now()))
}

/// Runs `future` until `deadline`: `None` if the deadline came first (the
/// future was dropped then).
pub(crate) async fn within<F: Future>(deadline: Option<Instant>, future: F) -> Option<F::Output> {
    match deadline {
        Some(deadline) => time::timeout_at(deadline, future).await.ok(),
        None => Some(future.await),
    }
}

/// Waits for `stopped()` until `grace` after `started`; if it has not come
/// by then, calls `abort` and waits for `stopped()` again (see the module
/// docs). Returns whether the grace period ran out.
pub(crate) async fn drain_then_abort<F: Future<Output = ()>>(
    started: Instant,
    grace: Duration,
    mut stopped: impl FnMut() -> F,
    abort: impl FnOnce(),
) -> bool {
    if within(deadline_after(started, Some(grace)), stopped())
        .await
        .is_some()
    {
        return false;
    }
    abort();
    stopped().await;
    true
}

/// `duration` in whole nanoseconds, saturating at `u64::MAX` (about 584
/// years).
pub(crate) fn duration_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
