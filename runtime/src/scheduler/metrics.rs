//! What a runtime can tell about itself, for people studying it.
//!
//! [`RuntimeMetrics`] is a copy of the runtime's counters at one instant;
//! [`TaskSnapshot`] describes one live task. Both are cheap to take: the
//! counters are plain cells bumped on the runtime's own thread.

use std::sync::Arc;

use crate::executor::task_ref::TaskId;

/// A runtime's counters at one instant.
///
/// ```
/// let rt = weft_runtime::Runtime::new();
/// rt.block_on(async {
///     weft_runtime::spawn(async {}).await.unwrap();
/// });
/// let m = rt.metrics();
/// assert_eq!(m.tasks_spawned, 1);
/// assert_eq!(m.tasks_alive, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    /// Tasks spawned since the runtime started (from any thread; a task
    /// sent by a `Spawner` counts once the runtime has taken it in).
    pub tasks_spawned: u64,
    /// Tasks spawned and not yet finished or dropped.
    pub tasks_alive: usize,
    /// Polls of tasks (and of `block_on`'s own future).
    pub polls: u64,
    /// Wakes made on the runtime's own thread: a push on the run queue.
    pub local_wakeups: u64,
    /// Wakes, and spawns from a `Spawner`, that came from other threads
    /// through the remote queue.
    pub remote_wakeups: u64,
    /// I/O readiness events delivered by the OS.
    pub reactor_events: u64,
    /// I/O objects registered right now.
    pub io_registrations: usize,
    /// Timers that fired.
    pub timers_fired: u64,
    /// Timers registered and not yet fired or cancelled.
    pub live_timers: usize,
    /// Times the runtime went to sleep for lack of work.
    pub parks: u64,
    /// Threads in the blocking pool right now.
    pub blocking_threads: usize,
}

/// What a live task is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Woken and waiting in the run queue for its turn.
    Scheduled,
    /// Being polled right now (the task that took the snapshot).
    Running,
    /// Waiting for a wake-up.
    Idle,
}

/// One live task, as seen by [`crate::Runtime::tasks`] or
/// [`crate::Handle::tasks`].
///
/// ```
/// weft_runtime::run(async {
///     let _h = weft_runtime::spawn_named("ticker", std::future::pending::<()>());
///     weft_runtime::yield_now().await;
///     let tasks = weft_runtime::Handle::current().tasks();
///     let ticker = tasks.iter().find(|t| t.name.as_deref() == Some("ticker")).unwrap();
///     assert_eq!(ticker.state, weft_runtime::TaskState::Idle);
///     assert_eq!(ticker.polls, 1);
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSnapshot {
    /// The task's id.
    pub id: TaskId,
    /// The name given to `spawn_named`, if any.
    pub name: Option<Arc<str>>,
    /// What the task is doing.
    pub state: TaskState,
    /// How often it was polled.
    pub polls: u64,
}
