//! [`Handle`]: a runtime as its tasks see it, to spawn onto and inspect.

use std::future::Future;
use std::rc::Rc;

use super::join_handle::JoinHandle;
use super::spawn::spawn_on;
use super::spawner::Spawner;
use crate::scheduler::context;
use crate::scheduler::core::Core;
use crate::scheduler::metrics::{RuntimeMetrics, TaskSnapshot};

/// A handle to a runtime on this thread: spawn onto it and inspect it from
/// inside its tasks.
///
/// ```
/// weft_runtime::run(async {
///     let handle = weft_runtime::Handle::current();
///     handle.spawn(async {}).await.unwrap();
///     assert_eq!(handle.metrics().tasks_spawned, 1);
/// });
/// ```
#[derive(Clone)]
pub struct Handle {
    core: Rc<Core>,
}

impl Handle {
    pub(crate) fn new(core: Rc<Core>) -> Self {
        Self { core }
    }

    /// The runtime running on this thread.
    ///
    /// # Panics
    ///
    /// Outside a weft runtime; see [`Handle::try_current`].
    pub fn current() -> Self {
        Self {
            core: context::current("Handle::current"),
        }
    }

    /// The runtime running on this thread, if any.
    pub fn try_current() -> Option<Self> {
        context::try_current().map(|core| Self { core })
    }

    /// Spawns `fut` onto this runtime; see [`spawn`](crate::spawn).
    pub fn spawn<F>(&self, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn_on(&self.core, fut, None)
    }

    /// A [`Spawner`] for this runtime, to spawn onto it from other threads.
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     let spawner = weft_runtime::Handle::current().spawner();
    ///     let handle = std::thread::spawn(move || spawner.spawn(async { 7 }).unwrap());
    ///     assert_eq!(handle.join().unwrap().await.unwrap(), 7);
    /// });
    /// ```
    pub fn spawner(&self) -> Spawner {
        Spawner::new(self.core.shared().clone())
    }

    /// The runtime's counters.
    pub fn metrics(&self) -> RuntimeMetrics {
        self.core.metrics()
    }

    /// A snapshot of every live task.
    pub fn tasks(&self) -> Vec<TaskSnapshot> {
        self.core.task_snapshots()
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}
