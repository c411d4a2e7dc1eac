//! `TaskGroup`: structured concurrency, after asyncio 3.11's `TaskGroup`.
//!
//! ```text
//!   asyncio                                  weft
//!   async with asyncio.TaskGroup() as tg:    let group = TaskGroup::new();
//!       tg.create_task(fetch(a))             group.spawn(fetch(a));
//!       tg.create_task(fetch(b))             group.spawn(fetch(b));
//!   # every task has finished here          let pages = group.join().await?;
//! ```
//!
//! Each task of a group is a real weft task (made with [`crate::spawn`]) whose
//! output is a `Result<T, E>`. The rules a user relies on (the first failure
//! cancels the rest, every failure is reported, siblings may be spawned from
//! inside, nothing outlives the group) are documented on [`TaskGroup`]. This
//! page explains how they are kept.
//!
//! * **Structure comes from one `Drop`.** The group keeps each task's
//!   `JoinHandle` in a `GroupTask`, which aborts its task when dropped. The
//!   handles sit in the group's shared state until `join` starts, then in
//!   `join`'s set. So whichever owner is dropped early (the unjoined group,
//!   or the future of `join`) aborts every task, with no extra bookkeeping.
//! * **`join` watches through a [`FutureSet`](super::future_set::FutureSet).**
//!   Tasks are adopted into the set in spawn order, so a task's index in the
//!   set is its spawn index. A finished task wakes `join`, which polls only
//!   that task's handle, so it reacts to the first failure at once however
//!   many tasks the group has.
//! * **Aborted tasks are awaited.** At the first failure `join` aborts every
//!   unfinished task but keeps its handle in the set. The runtime drops an
//!   aborted task at its next turn and its handle then resolves "cancelled";
//!   only when the set is empty does `join` return. So when `join` returns,
//!   every task's destructors have run, as asyncio's `TaskGroup` waits for
//!   the tasks it cancelled.
//! * **New tasks while `join` runs.** A task can spawn siblings through a
//!   `TaskGroupHandle`. The handle pushes onto the shared state's pending
//!   list and wakes `join`, which adopts pending tasks at the start of every
//!   poll. Once the group is shutting down, the handle refuses instead.
//! * **Shared state, single thread.** The group, its handles and `join` share
//!   an `Rc<RefCell<_>>`: everything here runs on the runtime's one thread.
//!   No borrow is held while user code can run (a destructor, a spawn), so a
//!   destructor may itself use a handle. Handles hold the state weakly, so a
//!   task keeping a handle does not keep its own group alive.
//!
//! ```text
//!   join ──▶ FutureSet of JoinHandles (index = spawn order)
//!              │ a task finished
//!              ├── Ok(value)                   file the value under its index
//!              ├── Err(e) or a panic           record the failure; on the first:
//!              │                                 abort every other task, close
//!              ├── cancelled                   count it (and close, if not yet)
//!              └── set empty, nothing new      Ok(values) or Err(TaskGroupError)
//! ```

use std::cell::RefCell;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{ready, Context, Poll, Waker};

use super::future_set::FutureSet;
use super::outputs::InOrder;
use super::task_group_error::{GroupClosed, TaskFailure, TaskGroupError};
use crate::api::join_handle::JoinHandle;
use crate::api::spawn::spawn;

/// A group of tasks that succeed together or are cancelled together
/// (asyncio 3.11's `TaskGroup`, structured concurrency).
///
/// Every task of the group is a weft task returning `Result<T, E>`;
/// [`join`](TaskGroup::join) waits for all of them and gives the `T`s in
/// spawn order. The rules:
///
/// * **The first failure cancels the rest.** A failure is a task that returns
///   `Err` or panics. As soon as `join` sees the first one it aborts every
///   other task of the group and refuses new ones. It still waits until every
///   aborted task is gone (its future dropped, its destructors run) before it
///   returns, as asyncio's `TaskGroup` waits for the tasks it cancelled.
/// * **Every failure is reported.** Tasks that fail before the abort reaches
///   them (in the same turn of the runtime, say) are failures too.
///   [`TaskGroupError`] lists every [`TaskFailure`] in the order `join` saw
///   them, the first one first, and counts the tasks that were cancelled
///   instead of finishing. Cancelled tasks are not failures: they are the
///   consequence of one. The values of tasks that succeeded are dropped when
///   the group fails.
/// * **Siblings can be spawned from inside.** [`handle`](TaskGroup::handle)
///   gives a cloneable [`TaskGroupHandle`] that tasks can keep to spawn more
///   tasks into the group while `join` runs; `join` waits for those too. Once
///   the group is shutting down after a failure, or has finished, the handle
///   refuses and gives the future back in [`GroupClosed`] (asyncio raises
///   `RuntimeError` there).
/// * **Nothing outlives the group.** Dropping a `TaskGroup` without joining
///   it, or dropping the future of `join` before it finishes, aborts every
///   task of the group. (The runtime drops an aborted task at its next turn.)
/// * **Failures are noticed while `join` is awaited**: `join` is what watches
///   the tasks. asyncio also cancels the body of the `async with` block when a
///   task fails; Rust cannot interrupt the code between `spawn` and `join`,
///   so keep that code short and await `join`.
///
/// ```
/// use weft_runtime::combinators::TaskGroup;
///
/// let lengths = weft_runtime::run(async {
///     let group = TaskGroup::new();
///     for word in ["a", "bb", "ccc"] {
///         group.spawn(async move { Ok::<_, String>(word.len()) });
///     }
///     group.join().await
/// });
/// assert_eq!(lengths.unwrap(), [1, 2, 3]);
/// ```
///
/// The first failure aborts the rest:
///
/// ```
/// use weft_runtime::combinators::TaskGroup;
///
/// let error = weft_runtime::run(async {
///     let group = TaskGroup::new();
///     group.spawn(std::future::pending::<Result<(), &str>>()); // would never finish
///     group.spawn(async { Err("disk full") });
///     group.join().await.unwrap_err()
/// });
/// assert_eq!(error.cancelled(), 1);
/// assert_eq!(error.to_string(), "task group failed: task 1 returned an error: disk full (1 task cancelled)");
/// ```
pub struct TaskGroup<T, E> {
    shared: Rc<RefCell<GroupState<T, E>>>,
}

/// What the group, its handles and its `join` share.
struct GroupState<T, E> {
    /// Tasks spawned but not yet adopted by `join`'s set: all of them before
    /// `join` starts. Dropping the state (the group dropped unjoined) aborts
    /// them.
    pending: Vec<GroupTask<Result<T, E>>>,
    /// Tasks spawned so far; the next task's spawn index.
    spawned: usize,
    /// Set by `join` at the first failure: no new tasks from then on.
    shutting_down: bool,
    /// `join`'s waker, woken when a task spawns a sibling.
    joiner: Option<Waker>,
}

/// A task of the group: a `JoinHandle` that aborts its task when dropped,
/// which is what makes the group structured.
struct GroupTask<R>(JoinHandle<R>);

impl<R> GroupTask<R> {
    fn abort(&self) {
        // A finished task keeps its outcome; skip the needless wake-up.
        if !self.0.is_finished() {
            self.0.abort();
        }
    }
}

impl<R> Drop for GroupTask<R> {
    fn drop(&mut self) {
        self.abort();
    }
}

impl<R> Future for GroupTask<R> {
    type Output = <JoinHandle<R> as Future>::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// Spawns `future` as a task of the group in `shared` and returns its spawn
/// index. The caller has checked that the group accepts tasks.
fn spawn_into<T, E, F>(shared: &RefCell<GroupState<T, E>>, future: F) -> usize
where
    T: 'static,
    E: 'static,
    F: Future<Output = Result<T, E>> + 'static,
{
    let task = GroupTask(spawn(future));
    let (index, joiner) = {
        let mut state = shared.borrow_mut();
        let index = state.spawned;
        state.spawned += 1;
        state.pending.push(task);
        (index, state.joiner.take())
    };
    if let Some(joiner) = joiner {
        joiner.wake();
    }
    index
}

impl<T: 'static, E: 'static> TaskGroup<T, E> {
    /// An empty group.
    pub fn new() -> Self {
        TaskGroup {
            shared: Rc::new(RefCell::new(GroupState {
                pending: Vec::new(),
                spawned: 0,
                shutting_down: false,
                joiner: None,
            })),
        }
    }

    /// Spawns `future` as a task of the group (asyncio's `tg.create_task`)
    /// and returns its spawn index: the position of its value in the `Vec`
    /// that [`join`](TaskGroup::join) returns.
    ///
    /// The task starts running at once, like any spawned task; its failure
    /// is noticed by `join`.
    ///
    /// # Panics
    ///
    /// Outside a weft runtime, like [`crate::spawn`].
    pub fn spawn<F>(&self, future: F) -> usize
    where
        F: Future<Output = Result<T, E>> + 'static,
    {
        spawn_into(&self.shared, future)
    }

    /// A handle that tasks can keep to spawn siblings into this group while
    /// it is being joined.
    ///
    /// ```
    /// use weft_runtime::combinators::TaskGroup;
    ///
    /// let values = weft_runtime::run(async {
    ///     let group = TaskGroup::new();
    ///     let handle = group.handle();
    ///     group.spawn(async move {
    ///         handle.spawn(async { Ok(2) }).expect("the group is running");
    ///         Ok::<_, ()>(1)
    ///     });
    ///     group.join().await
    /// });
    /// assert_eq!(values.unwrap(), [1, 2]);
    /// ```
    pub fn handle(&self) -> TaskGroupHandle<T, E> {
        TaskGroupHandle {
            shared: Rc::downgrade(&self.shared),
        }
    }

    /// Waits for every task of the group, including tasks spawned through a
    /// [`TaskGroupHandle`] meanwhile, and returns their values in spawn
    /// order, or every failure if a task failed (the rules are on
    /// [`TaskGroup`]).
    ///
    /// Dropping the returned future before it finishes aborts every task of
    /// the group.
    pub async fn join(self) -> Result<Vec<T>, TaskGroupError<E>> {
        let mut supervisor = Supervisor {
            shared: self.shared,
            tasks: FutureSet::new(),
            values: InOrder::with_len(0),
            failures: Vec::new(),
            cancelled: 0,
        };
        poll_fn(|cx| supervisor.poll(cx)).await
    }
}

impl<T: 'static, E: 'static> Default for TaskGroup<T, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, E> fmt::Debug for TaskGroup<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.borrow();
        f.debug_struct("TaskGroup")
            .field("spawned", &state.spawned)
            .finish()
    }
}

/// The state of `join`: the group's tasks and what they gave so far.
struct Supervisor<T, E> {
    shared: Rc<RefCell<GroupState<T, E>>>,
    /// Every adopted task; the set's index of a task is its spawn index,
    /// because tasks are adopted in spawn order.
    tasks: FutureSet<GroupTask<Result<T, E>>>,
    values: InOrder<T>,
    failures: Vec<TaskFailure<E>>,
    cancelled: usize,
}

impl<T, E> Supervisor<T, E> {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<Vec<T>, TaskGroupError<E>>> {
        loop {
            self.adopt_new_tasks(cx.waker());
            match ready!(self.tasks.poll_next(cx)) {
                Some((task, outcome)) => self.record(task, outcome),
                // Nothing left to wait for, and nothing new was spawned: no
                // user code ran since `adopt_new_tasks` looked.
                None => return Poll::Ready(self.outcome()),
            }
        }
    }

    /// Moves newly spawned tasks into the set and leaves `waker` for the next
    /// spawn.
    fn adopt_new_tasks(&mut self, waker: &Waker) {
        let (new_tasks, shutting_down) = {
            let mut state = self.shared.borrow_mut();
            match &state.joiner {
                Some(joiner) if joiner.will_wake(waker) => {}
                _ => state.joiner = Some(waker.clone()),
            }
            (std::mem::take(&mut state.pending), state.shutting_down)
        };
        for task in new_tasks {
            // Spawned before the failure was seen, adopted after: it goes too.
            if shutting_down {
                task.abort();
            }
            self.tasks.push(task);
        }
    }

    fn record(&mut self, task: usize, outcome: <GroupTask<Result<T, E>> as Future>::Output) {
        match outcome {
            Ok(Ok(value)) => self.values.insert(task, value),
            Ok(Err(error)) => self.fail(TaskFailure::Failed { task, error }),
            Err(join_error) => match join_error.try_into_panic() {
                Ok(payload) => self.fail(TaskFailure::Panicked { task, payload }),
                Err(_cancelled) => {
                    // Normally our own abort. A task cancelled from outside
                    // (its runtime shutting down) leaves a hole in the
                    // values, so the group cannot succeed either: shut down.
                    self.cancelled += 1;
                    self.shut_down();
                }
            },
        }
    }

    fn fail(&mut self, failure: TaskFailure<E>) {
        self.failures.push(failure);
        self.shut_down();
    }

    /// Refuses new tasks and aborts every unfinished one; they stay in the
    /// set so that `join` waits until they are gone.
    fn shut_down(&mut self) {
        {
            let mut state = self.shared.borrow_mut();
            if state.shutting_down {
                return;
            }
            state.shutting_down = true;
        }
        for task in self.tasks.iter() {
            task.abort();
        }
    }

    fn outcome(&mut self) -> Result<Vec<T>, TaskGroupError<E>> {
        if self.failures.is_empty() && self.cancelled == 0 {
            Ok(self.values.take_all())
        } else {
            Err(TaskGroupError {
                failures: std::mem::take(&mut self.failures),
                cancelled: self.cancelled,
            })
        }
    }
}

/// A cloneable handle to spawn tasks into a [`TaskGroup`], from inside its
/// tasks or from anywhere else on the runtime's thread.
///
/// It refers to the group weakly: once the group has been dropped or its
/// `join` has returned, spawning is refused.
pub struct TaskGroupHandle<T, E> {
    shared: Weak<RefCell<GroupState<T, E>>>,
}

impl<T: 'static, E: 'static> TaskGroupHandle<T, E> {
    /// Spawns `future` as a task of the group and returns its spawn index,
    /// or gives the future back in [`GroupClosed`] if the group is shutting
    /// down after a failure, or has finished.
    ///
    /// ```
    /// use weft_runtime::combinators::TaskGroup;
    ///
    /// weft_runtime::run(async {
    ///     let group = TaskGroup::<(), ()>::new();
    ///     let handle = group.handle();
    ///     group.join().await.unwrap();
    ///
    ///     let refused = handle.spawn(async { Ok(()) }).unwrap_err();
    ///     assert!(!refused.is_shutting_down());
    ///     let _future = refused.into_future(); // ours again, never spawned
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a weft runtime, like [`crate::spawn`].
    pub fn spawn<F>(&self, future: F) -> Result<usize, GroupClosed<F>>
    where
        F: Future<Output = Result<T, E>> + 'static,
    {
        let Some(shared) = self.shared.upgrade() else {
            return Err(GroupClosed {
                future,
                shutting_down: false,
            });
        };
        if shared.borrow().shutting_down {
            return Err(GroupClosed {
                future,
                shutting_down: true,
            });
        }
        Ok(spawn_into(&shared, future))
    }
}

impl<T, E> Clone for TaskGroupHandle<T, E> {
    fn clone(&self) -> Self {
        TaskGroupHandle {
            shared: Weak::clone(&self.shared),
        }
    }
}

impl<T, E> fmt::Debug for TaskGroupHandle<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupHandle")
            .field("group_alive", &(self.shared.strong_count() > 0))
            .finish()
    }
}
