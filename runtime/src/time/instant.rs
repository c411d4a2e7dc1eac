//! [`now`]: the current instant on the runtime's clock, and deadlines after
//! it whose arithmetic cannot overflow.

use std::time::{Duration, Instant};

use crate::scheduler::context;

/// The current instant on the runtime's clock: paused-aware, monotonic.
///
/// Inside a runtime this is its clock, which a paused runtime moves only
/// from timer to timer; outside any runtime it is `Instant::now()`.
///
/// ```
/// use std::time::Duration;
/// use weft_runtime::time;
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let start = time::now();
///     // A paused clock stands still while tasks run...
///     assert_eq!(time::now(), start);
///     // ...and jumps when every task waits for a timer.
///     time::sleep(Duration::from_secs(3600)).await;
///     assert_eq!(time::now(), start + Duration::from_secs(3600));
/// });
/// ```
pub fn now() -> Instant {
    match context::try_current() {
        Some(core) => core.time.now(),
        None => Instant::now(),
    }
}

/// How far away a deadline too distant for `Instant` is put: about 30
/// years, beyond any program's run yet reachable by a paused clock.
const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

/// `base + duration`, or [`FAR_FUTURE`] after `base` if `Instant` cannot
/// express the sum.
pub(super) fn deadline_after(base: Instant, duration: Duration) -> Instant {
    base.checked_add(duration)
        .unwrap_or_else(|| base + FAR_FUTURE)
}
