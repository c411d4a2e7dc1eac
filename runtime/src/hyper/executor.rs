//! [`WeftExecutor`]: hyper's `rt::Executor` as a weft `spawn`.
//!
//! hyper spawns background futures for HTTP/2 (one per connection on the
//! client, one per stream on the server). They become ordinary weft tasks on
//! the current runtime, detached: hyper keeps no handle, and a task that
//! panics is caught like any other and takes nothing down. Since weft runs
//! every task on its one thread, the futures need not be `Send`.

use std::future::Future;

/// hyper's `rt::Executor` for weft: runs each future hyper hands it as a
/// detached task on the current runtime (with [`crate::spawn`]). HTTP/2
/// builders take it (`http2::Builder::new(WeftExecutor)`).
///
/// ```
/// use hyper::rt::Executor;
/// use weft_runtime::hyper::WeftExecutor;
///
/// weft_runtime::run(async {
///     let (tx, rx) = std::sync::mpsc::channel();
///     WeftExecutor.execute(async move { tx.send("ran as a weft task").unwrap() });
///     weft_runtime::yield_now().await;
///     assert_eq!(rx.try_recv().unwrap(), "ran as a weft task");
/// });
/// ```
///
/// # Panics
///
/// `execute` panics outside a weft runtime, as [`crate::spawn`] does; hyper
/// calls it from the connection it drives, which runs inside one.
#[derive(Debug, Default, Clone, Copy)]
pub struct WeftExecutor;

impl<F> hyper::rt::Executor<F> for WeftExecutor
where
    F: Future + 'static,
    F::Output: 'static,
{
    fn execute(&self, future: F) {
        // Detached: dropping the handle leaves the task running.
        drop(crate::spawn(future));
    }
}
