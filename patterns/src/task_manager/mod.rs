//! A background task manager: tasks submitted under an id, each with a
//! status and timestamps, cancellable whether pending or running, with
//! results kept up to a bound, waits for one task or all, and a graceful
//! shutdown.
//!
//! # Algorithm
//!
//! ```text
//!   submit(id, task) ──▶ table: id → Pending ─┐  spawned task "task <id>":
//!                                             │    run_until_cancelled(token, async {
//!   cancel(id) ─▶ token.cancel() ─────────────┤        permit = slots.acquire()   ─▶ Running
//!                                             │        catch_panic(task)
//!   wait(id) ─▶ Done cell (Event + info) ◀────┤    })                              ─▶ Completed /
//!   wait_all() ─▶ idle Event ◀────────────────┘    record outcome, evict the oldest    Failed /
//!                                                  finished beyond `retain`             Cancelled
//! ```
//!
//! * Each task runs as its own weft task, named after its id (so the
//!   runtime's task snapshots show it). A weft [`Semaphore`] with
//!   `max_concurrent` permits decides when it starts; being fair, it starts
//!   pending tasks in submission order.
//! * The task runs under its own [`CancellationToken`], a child of the
//!   manager's. [`cancel`](TaskManager::cancel) cancels that token: a
//!   pending task stops waiting for its permit, a running one is dropped at
//!   its next turn (its destructors run, its permit goes to the next pending
//!   task). Its status becomes `Cancelled` then.
//! * Whatever way the task ends, a guard records the outcome in the table
//!   (status, timestamp, value or error), sets the task's `Done` event, and
//!   evicts the oldest finished records beyond `retain_finished`. Panics are
//!   caught and recorded as failures.
//! * [`wait_all`](TaskManager::wait_all) waits on an event that the last
//!   active task sets; each busy period has a fresh event, set once.
//! * [`shutdown`](TaskManager::shutdown) refuses new tasks, waits for the
//!   active ones up to a deadline, then cancels the manager's token and
//!   reports which tasks it cancelled.
//!
//! What the tutorial's manager got wrong, and this one does not: workers
//! polling the queue with a timeout, `cancel` that only works for pending
//! tasks, results kept forever, no way to wait for a task, and a shutdown
//! that waits forever on a hung task.
//!
//! # Cancellation guarantee
//!
//! * Cancelling a pending task takes no permit; cancelling a running one
//!   drops its future (destructors run) and hands its permit to the next
//!   pending task. Both end as `Cancelled`, never lost from the table.
//! * Dropping a [`wait`](TaskManager::wait) or
//!   [`wait_all`](TaskManager::wait_all) future only gives up its place
//!   among the waiters.
//! * Dropping a [`shutdown`](TaskManager::shutdown) future leaves the
//!   manager refusing new tasks, while the active ones go on.
//! * Dropping the manager cancels every task it still runs (they belong to
//!   it); call `shutdown` first for a graceful end.
//!
//! Compared with tokio-util's `TaskTracker`, which counts tasks so that one
//! can wait for them all: this adds ids, statuses with timestamps, results,
//! per-task cancellation, a concurrency limit and a bound on what it keeps.
//!
//! ```
//! use std::time::Duration;
//! use weft_patterns::task_manager::{TaskManager, TaskStatus};
//! use weft_runtime::sleep;
//!
//! let rt = weft_runtime::Builder::new().start_paused(true).build();
//! rt.block_on(async {
//!     let manager = TaskManager::builder().max_concurrent(2).build().unwrap();
//!     for (id, millis) in [("report", 100), ("backup", 50), ("cleanup", 10)] {
//!         manager
//!             .submit(id, async move {
//!                 sleep(Duration::from_millis(millis)).await;
//!                 Ok::<_, String>(millis * 2)
//!             })
//!             .unwrap();
//!     }
//!     weft_runtime::yield_now().await;
//!     assert_eq!(manager.status(&"cleanup").unwrap().status, TaskStatus::Pending);
//!     manager.cancel(&"report").unwrap();
//!
//!     manager.wait_all().await;
//!     assert_eq!(manager.status(&"report").unwrap().status, TaskStatus::Cancelled);
//!     assert_eq!(manager.result(&"backup"), Some(Ok(100)));
//!     assert_eq!(manager.result(&"cleanup"), Some(Ok(20)));
//! });
//! ```

mod error;
mod table;

use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use weft_primitives::Semaphore;
use weft_runtime::time;

pub use error::{CancelError, InvalidTaskManagerConfig, Refusal, SubmitError, TaskError};
pub use table::{TaskCounts, TaskInfo, TaskStatus};

use crate::deadline::drain_then_abort;
use crate::shutdown::CancellationToken;
use crate::supervision::catch_panic;
use table::Table;

/// Runs background tasks under ids; see the [module docs](self).
///
/// `K` is the id type, and every task is a future of `Result<T, E>`. Share
/// the manager with an `Rc` or an `Arc` (it is `Send + Sync` when `K`, `T`
/// and `E` are `Send`); its tasks run on the runtime that submitted them.
///
/// ```
/// use weft_patterns::task_manager::{TaskError, TaskManager, TaskStatus};
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let manager = TaskManager::builder().build().unwrap();
///     manager.submit(7u64, async { Err::<(), _>("no route to host") }).unwrap();
///     let info = manager.wait(&7).await.unwrap();
///     assert_eq!(info.status, TaskStatus::Failed);
///     assert_eq!(manager.result(&7), Some(Err(TaskError::Failed("no route to host"))));
/// });
/// ```
pub struct TaskManager<K, T, E> {
    shared: Arc<Shared<K, T, E>>,
}

struct Shared<K, T, E> {
    table: Mutex<Table<K, T, E>>,
    /// One permit per task allowed to run at once.
    slots: Semaphore,
    /// Parent of every task's token: cancelled at the shutdown deadline and
    /// when the manager is dropped.
    abort: CancellationToken,
}

impl<K, T, E> Shared<K, T, E> {
    fn table(&self) -> MutexGuard<'_, Table<K, T, E>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Records a task's outcome however its weft task ends: with a value, or
/// dropped unfinished (aborted, or its runtime shut down) as cancelled.
struct Finisher<K: Eq + Hash + Clone, T, E> {
    shared: Arc<Shared<K, T, E>>,
    id: K,
    seq: u64,
    finished: bool,
}

impl<K: Eq + Hash + Clone, T, E> Finisher<K, T, E> {
    fn record(&mut self, outcome: Result<T, TaskError<E>>) {
        self.finished = true;
        let wakes = self
            .shared
            .table()
            .finish(&self.id, self.seq, outcome, time::now());
        if let Some(wakes) = wakes {
            wakes.wake();
        }
    }
}

impl<K: Eq + Hash + Clone, T, E> Drop for Finisher<K, T, E> {
    fn drop(&mut self) {
        if !self.finished {
            self.record(Err(TaskError::Cancelled));
        }
    }
}

/// The body of a task's weft task: wait for a slot, run, record.
async fn supervise<K, T, E, F>(mut finisher: Finisher<K, T, E>, token: CancellationToken, task: F)
where
    K: Eq + Hash + Clone,
    F: Future<Output = Result<T, E>>,
{
    let shared = finisher.shared.clone();
    let outcome = token
        .run_until_cancelled(async {
            let _permit = shared
                .slots
                .acquire()
                .await
                .expect("the task manager never closes its semaphore");
            shared
                .table()
                .start(&finisher.id, finisher.seq, time::now());
            catch_panic(|| task).await
        })
        .await;
    finisher.record(match outcome {
        Some(Ok(Ok(value))) => Ok(value),
        Some(Ok(Err(error))) => Err(TaskError::Failed(error)),
        Some(Err(message)) => Err(TaskError::Panicked(message)),
        None => Err(TaskError::Cancelled),
    });
}

impl<K, T, E> TaskManager<K, T, E>
where
    K: Eq + Hash + Clone + fmt::Debug + 'static,
    T: 'static,
    E: 'static,
{
    /// A builder with the defaults: 10 tasks at once, 1024 pending or
    /// running at most, the last 1000 finished tasks kept.
    pub fn builder() -> TaskManagerBuilder<K, T, E> {
        TaskManagerBuilder {
            max_concurrent: 10,
            max_pending: 1024,
            retain_finished: 1000,
            types: PhantomData,
        }
    }

    /// Submits `task` under `id` and starts it as soon as a slot is free.
    ///
    /// An id whose task finished may be reused: the old record is replaced.
    ///
    /// # Errors
    ///
    /// The id and the task come back unrun ([`SubmitError`]) when the id
    /// is still pending or running, when the manager is full, or when it is
    /// shutting down.
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub fn submit<F>(&self, id: K, task: F) -> Result<(), SubmitError<K, F>>
    where
        F: Future<Output = Result<T, E>> + 'static,
    {
        let token = self.shared.abort.child_token();
        let inserted = self.shared.table().insert(&id, token.clone(), time::now());
        let seq = match inserted {
            Ok(seq) => seq,
            Err(reason) => return Err(SubmitError { reason, id, task }),
        };
        let name = format!("task {id:?}");
        let finisher = Finisher {
            shared: self.shared.clone(),
            id,
            seq,
            finished: false,
        };
        // Detached: the table tracks the task, and its token stops it.
        drop(weft_runtime::spawn_named(
            name,
            supervise(finisher, token, task),
        ));
        Ok(())
    }

    /// Cancels a pending or running task; it ends as `Cancelled` at its next
    /// turn (a running task's destructors run then). [`wait`](Self::wait)
    /// for it to know it has stopped.
    ///
    /// # Errors
    ///
    /// [`CancelError`] when the id is unknown or the task already finished.
    pub fn cancel(&self, id: &K) -> Result<(), CancelError> {
        self.shared.table().cancel(id)
    }

    /// The task's status and timestamps, or `None` for an unknown id.
    pub fn status(&self, id: &K) -> Option<TaskInfo<K>> {
        self.shared.table().info(id)
    }

    /// Every task the manager knows, in submission order.
    pub fn list(&self) -> Vec<TaskInfo<K>> {
        self.shared.table().list()
    }

    /// How many tasks are pending, running, and kept finished.
    pub fn stats(&self) -> TaskCounts {
        self.shared.table().counts()
    }

    /// A copy of a finished task's outcome, or `None` if the id is unknown
    /// or the task has not finished.
    pub fn result(&self, id: &K) -> Option<Result<T, TaskError<E>>>
    where
        T: Clone,
        E: Clone,
    {
        self.shared.table().outcome(id).cloned()
    }

    /// Takes a finished task's outcome and forgets the task. Returns `None`
    /// (and changes nothing) if the id is unknown or the task is active.
    ///
    /// ```
    /// let rt = weft_runtime::Builder::new().start_paused(true).build();
    /// rt.block_on(async {
    ///     let manager = weft_patterns::task_manager::TaskManager::builder().build().unwrap();
    ///     manager.submit("job", async { Ok::<_, ()>(vec![1, 2, 3]) }).unwrap();
    ///     manager.wait(&"job").await;
    ///     assert_eq!(manager.remove(&"job"), Some(Ok(vec![1, 2, 3])));
    ///     assert!(manager.status(&"job").is_none());
    /// });
    /// ```
    pub fn remove(&self, id: &K) -> Option<Result<T, TaskError<E>>> {
        self.shared.table().remove(id)
    }

    /// Waits until the task is finished and returns its final status and
    /// timestamps, or `None` for an unknown id. The answer holds even if
    /// the record is evicted meanwhile. Cancel-safe.
    pub async fn wait(&self, id: &K) -> Option<TaskInfo<K>> {
        let done = self.shared.table().done(id)?;
        done.event.wait().await;
        done.info.get().cloned()
    }

    /// Waits until no task is pending or running. Cancel-safe.
    pub async fn wait_all(&self) {
        let idle = self.shared.table().idle();
        if let Some(idle) = idle {
            idle.wait().await;
        }
    }

    /// Shuts down: refuses new tasks from now on, lets the pending and
    /// running ones finish until `grace` has passed, then cancels the rest
    /// and waits until they have stopped.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_patterns::task_manager::TaskManager;
    ///
    /// let rt = weft_runtime::Builder::new().start_paused(true).build();
    /// rt.block_on(async {
    ///     let manager = TaskManager::builder().build().unwrap();
    ///     for (id, secs) in [("quick", 1), ("hung", 3600)] {
    ///         manager
    ///             .submit(id, async move {
    ///                 weft_runtime::sleep(Duration::from_secs(secs)).await;
    ///                 Ok::<_, ()>(())
    ///             })
    ///             .unwrap();
    ///     }
    ///     let report = manager.shutdown(Duration::from_secs(10)).await;
    ///     assert_eq!(report.finished, ["quick"]);
    ///     assert_eq!(report.cancelled, ["hung"]);
    /// });
    /// ```
    pub async fn shutdown(&self, grace: Duration) -> TaskManagerReport<K> {
        let started = time::now();
        let active = {
            let mut table = self.shared.table();
            table.closed = true;
            let mut active = table.active_tasks();
            active.sort_by_key(|(seq, _, _)| *seq);
            active
        };
        drain_then_abort(
            started,
            grace,
            || self.wait_all(),
            || self.shared.abort.cancel(),
        )
        .await;
        let mut report = TaskManagerReport {
            finished: Vec::new(),
            cancelled: Vec::new(),
            elapsed: time::now() - started,
        };
        for (_, id, done) in active {
            match done.info.get().map(|info| info.status) {
                Some(TaskStatus::Cancelled) => report.cancelled.push(id),
                _ => report.finished.push(id),
            }
        }
        report
    }
}

impl<K, T, E> Drop for TaskManager<K, T, E> {
    fn drop(&mut self) {
        self.shared.abort.cancel();
    }
}

impl<K, T, E> fmt::Debug for TaskManager<K, T, E>
where
    K: Eq + Hash + Clone,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let table = self.shared.table();
        f.debug_struct("TaskManager")
            .field("counts", &table.counts())
            .field("closed", &table.closed)
            .field("max_active", &table.max_active)
            .field("retain", &table.retain)
            .finish()
    }
}

/// What [`TaskManager::shutdown`] did with the tasks that were pending or
/// running when it began, in submission order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskManagerReport<K> {
    /// Tasks that finished by themselves (completed or failed).
    pub finished: Vec<K>,
    /// Tasks that were cancelled (by the deadline, or by `cancel` meanwhile).
    pub cancelled: Vec<K>,
    /// Time from the start of the shutdown until every task had stopped.
    pub elapsed: Duration,
}

/// Settings for a [`TaskManager`].
///
/// ```
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let manager = weft_patterns::task_manager::TaskManager::<String, u64, String>::builder()
///         .max_concurrent(4)
///         .max_pending(100)
///         .retain_finished(50)
///         .build()
///         .unwrap();
///     assert_eq!(manager.stats().running, 0);
/// });
/// ```
pub struct TaskManagerBuilder<K, T, E> {
    max_concurrent: usize,
    max_pending: usize,
    retain_finished: usize,
    types: PhantomData<(K, T, E)>,
}

impl<K, T, E> TaskManagerBuilder<K, T, E>
where
    K: Eq + Hash + Clone + fmt::Debug + 'static,
    T: 'static,
    E: 'static,
{
    setters! {
        /// How many tasks run at once (default 10).
        max_concurrent(tasks: usize) => max_concurrent = tasks;
        /// How many tasks may wait for a slot (default 1024); beyond it,
        /// `submit` refuses with [`Refusal::Full`].
        max_pending(tasks: usize) => max_pending = tasks;
        /// How many finished tasks keep their record and result (default 1000);
        /// the oldest finished is evicted first.
        retain_finished(tasks: usize) => retain_finished = tasks;
    }

    /// The manager.
    ///
    /// # Errors
    ///
    /// [`InvalidTaskManagerConfig`] when `max_concurrent` is 0.
    pub fn build(self) -> Result<TaskManager<K, T, E>, InvalidTaskManagerConfig> {
        if self.max_concurrent == 0 {
            return Err(InvalidTaskManagerConfig::NoConcurrency);
        }
        Ok(TaskManager {
            shared: Arc::new(Shared {
                table: Mutex::new(Table::new(
                    self.max_concurrent.saturating_add(self.max_pending),
                    self.retain_finished,
                )),
                slots: Semaphore::new(self.max_concurrent),
                abort: CancellationToken::new(),
            }),
        })
    }
}

impl<K, T, E> fmt::Debug for TaskManagerBuilder<K, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskManagerBuilder")
            .field("max_concurrent", &self.max_concurrent)
            .field("max_pending", &self.max_pending)
            .field("retain_finished", &self.retain_finished)
            .finish()
    }
}
