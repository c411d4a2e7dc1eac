//! Spawning onto the current runtime: tasks (asyncio's `create_task`) and
//! blocking jobs (asyncio's `to_thread`).

use std::future::Future;
use std::sync::Arc;

use super::join_handle::JoinHandle;
use crate::scheduler::context;
use crate::scheduler::core::Core;

/// Spawns `fut` as a new task on the current runtime (asyncio's
/// `create_task`). The future need not be `Send`: it runs on this thread.
///
/// ```
/// weft_runtime::run(async {
///     let local = std::rc::Rc::new(5); // not Send, and that is fine
///     let h = weft_runtime::spawn(async move { *local * 2 });
///     assert_eq!(h.await.unwrap(), 10);
/// });
/// ```
///
/// # Panics
///
/// Outside a weft runtime.
pub fn spawn<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_on(&context::current("spawn"), fut, None)
}

/// Spawns `fut` with a name that metrics snapshots and slow-poll warnings
/// show (asyncio's `create_task(coro, name=...)`).
///
/// ```
/// weft_runtime::run(async {
///     let h = weft_runtime::spawn_named("fetch", async { "page" });
///     assert_eq!(h.await.unwrap(), "page");
/// });
/// ```
pub fn spawn_named<F>(name: impl Into<Arc<str>>, fut: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_on(&context::current("spawn_named"), fut, Some(name.into()))
}

/// Runs the blocking function `f` on the runtime's pool of blocking threads
/// (asyncio's `to_thread`) and returns a handle to await its result. A panic
/// in `f` comes back as a [`crate::JoinError`].
///
/// The pool is bounded ([`Builder::max_blocking_threads`](crate::Builder::max_blocking_threads));
/// jobs beyond it wait in a queue. Idle threads exit after
/// [`Builder::thread_keep_alive`](crate::Builder::thread_keep_alive).
///
/// ```
/// weft_runtime::run(async {
///     let sum = weft_runtime::spawn_blocking(|| (1..=100u32).sum::<u32>());
///     assert_eq!(sum.await.unwrap(), 5050);
/// });
/// ```
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let core = context::current("spawn_blocking");
    JoinHandle::for_blocking(core.blocking.spawn(core.next_task_id(), f))
}

/// Spawns `fut` on `core` and hands back its handle.
pub(crate) fn spawn_on<F>(core: &Core, fut: F, name: Option<Arc<str>>) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let task = core.spawn(fut, name);
    // SAFETY: the block was allocated for `fut`, whose output is `F::Output`.
    unsafe { JoinHandle::for_task(task) }
}
