//! Timeout with fallback: give work a deadline, and if it is missed, drop
//! the work and answer with a fallback instead (a cached value, a default,
//! a degraded response).
//!
//! ```text
//!   timeout_or_else(d, work, fallback)
//!     work finishes before d ──▶ its output            (fallback never called)
//!     d passes first          ──▶ drop work, then run fallback(Elapsed) ──▶ its output
//!     the caller drops us     ──▶ drop work and the unused fallback      (fallback never called)
//! ```
//!
//! The tutorial version (`try: await wait_for(coro, t) except TimeoutError:
//! return fallback`) has two traps that this one avoids:
//!
//! * it catches *any* `TimeoutError`, including one raised inside the work
//!   itself (a socket timeout, say), and answers with the fallback for an
//!   error that was not the deadline's; here the work's own output, errors
//!   included, is returned as it is, and the fallback runs only when *our*
//!   deadline expires;
//! * written with `asyncio.timeout()` or a hand-made cancel, a cancellation
//!   from outside can be mistaken for the timeout and turned into a
//!   fallback answer; here cancellation is dropping the future, which never
//!   calls the fallback.
//!
//! # Cancellation guarantee
//!
//! On expiry the work is really cancelled: its future is dropped (with
//! everything it holds: permits, connections, buffers) *before* the
//! fallback starts. Dropping the future returned here at any point drops
//! the work, or the running fallback, and never starts the fallback.
//!
//! ```
//! use std::time::Duration;
//! use weft_patterns::timeout::timeout_or_else;
//! use weft_runtime::time;
//!
//! let rt = weft_runtime::Builder::new().start_paused(true).build();
//! rt.block_on(async {
//!     let slow = async {
//!         time::sleep(Duration::from_secs(10)).await;
//!         "fresh"
//!     };
//!     let answer = timeout_or_else(Duration::from_secs(2), slow, |_elapsed| async { "cached" }).await;
//!     assert_eq!(answer, "cached");
//!
//!     let quick = async { "fresh" };
//!     let answer = timeout_or_else(Duration::from_secs(2), quick, |_| async { "cached" }).await;
//!     assert_eq!(answer, "fresh");
//! });
//! ```

use std::future::{Future, IntoFuture};
use std::time::{Duration, Instant};

use weft_runtime::time::{self, Elapsed};

/// Runs `work` for at most `duration`; if it has not finished by then, drops
/// it and resolves to `fallback(elapsed).await` instead (see the module
/// docs). As with `time::timeout` (and asyncio's `wait_for`), the clock
/// starts at the first poll that finds the work pending.
///
/// A fallback that is a plain value can be written `|_| async { value }`
/// or `|_| std::future::ready(value)`. The work's own output, an error
/// included, is returned as it is: only the deadline calls the fallback.
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::timeout::timeout_or_else;
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let refused = async { Err::<u32, _>("connection refused") };
///     let answer = timeout_or_else(Duration::from_secs(1), refused, |_| async { Ok(0) }).await;
///     assert_eq!(answer, Err("connection refused"));
/// });
/// ```
pub fn timeout_or_else<W, G, Fb>(
    duration: Duration,
    work: W,
    fallback: G,
) -> impl Future<Output = W::Output>
where
    W: IntoFuture,
    G: FnOnce(Elapsed) -> Fb,
    Fb: IntoFuture<Output = W::Output>,
{
    with_fallback(time::timeout(duration, work), fallback)
}

/// Like [`timeout_or_else`], with a deadline on the runtime's clock
/// (take it from [`time::now`]) instead of a duration.
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::timeout::timeout_at_or_else;
/// use weft_runtime::time;
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let deadline = time::now() + Duration::from_millis(500);
///     let answer = timeout_at_or_else(deadline, std::future::pending::<u32>(), |elapsed| {
///         assert_eq!(elapsed.deadline(), deadline);
///         std::future::ready(0)
///     })
///     .await;
///     assert_eq!(answer, 0);
///     assert_eq!(time::now(), deadline);
/// });
/// ```
pub fn timeout_at_or_else<W, G, Fb>(
    deadline: Instant,
    work: W,
    fallback: G,
) -> impl Future<Output = W::Output>
where
    W: IntoFuture,
    G: FnOnce(Elapsed) -> Fb,
    Fb: IntoFuture<Output = W::Output>,
{
    with_fallback(time::timeout_at(deadline, work), fallback)
}

/// Awaits `guarded`; on `Err(elapsed)` the work inside it has already been
/// dropped (weft's `Timeout` drops it before reporting expiry), so the
/// fallback starts with the work gone.
async fn with_fallback<T, G, Fb>(
    guarded: impl Future<Output = Result<T, Elapsed>>,
    fallback: G,
) -> T
where
    G: FnOnce(Elapsed) -> Fb,
    Fb: IntoFuture<Output = T>,
{
    match guarded.await {
        Ok(output) => output,
        Err(elapsed) => fallback(elapsed).await,
    }
}
