//! The scheduler: one thread, one loop, every task.
//!
//! ```text
//!            ┌────────────────────────── block_on loop ───────────────────────────┐
//!            │                                                                    │
//!  spawn ──▶ run queue ──▶ poll up to EVENT_INTERVAL tasks ──▶ move remote wakes ─┤
//!  local     (ring buffer)       │                             and spawns into    │
//!  wakes ───────▲                ▼                             the run queue      │
//!            │  fire due timers ◀┘                                                │
//!            │        │                                                           │
//!            │        ├─ run queue not empty: poll the reactor without waiting    │
//!            │        └─ run queue empty: park = epoll_wait until the next timer, │
//!            │           an I/O event, or a remote wake (mio::Waker)              │
//!            └────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! * Tasks live in a slab on this thread; only their small headers are
//!   shared with other threads (see `executor/task_block.rs`). A task
//!   spawned on another thread (`api/spawner.rs`) arrives through the remote
//!   queue and gets its slot when the loop drains it ([`Core::adopt`]).
//! * A host loop runs the same loop body one round at a time
//!   ([`Core::turn`], behind `Runtime::turn`): `block_on` and `turn` share
//!   `run_ready` and `turn_drivers`, so neither pays for the other.
//! * One poll is the task's slab slot (its id checked against the entry),
//!   its wake flags (one load when only local wakes queued it), two
//!   counters and the call through the task's vtable. The clock is read
//!   around a poll only when a slow-poll threshold was set
//!   ([`Core::poll_timed`]), so a runtime without one pays nothing for it.
//! * Every `EVENT_INTERVAL` polls the reactor is checked even when tasks are
//!   always ready, so busy tasks cannot starve I/O and timers.
//! * Tasks woken by fired timers or I/O events lie anywhere in the heap, so
//!   while those are polled each poll first asks the CPU for the next
//!   task's header ([`Core::prefetch`]), and `fire_due` does the same a few
//!   wakes ahead.
//! * With the paused clock, when no task is ready and no I/O event is
//!   pending, time jumps to the next timer instead of sleeping (unless a
//!   blocking job is running, whose result may still arrive).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use slab::Slab;

use super::metrics::{RuntimeMetrics, TaskSnapshot, TaskState};
use crate::driver::reactor::Reactor;
use crate::driver::timer::TimeDriver;
use crate::executor::blocking_pool::BlockingPool;
use crate::executor::coop;
use crate::executor::prefetch::prefetch;
use crate::executor::run_queue::RunQueue;
use crate::executor::shared::{Remote, Shared};
use crate::executor::task_block::TaskPtr;
use crate::executor::task_ref::{TaskId, TaskRef, MAIN_KEY};
use crate::executor::wake::MainWaker;
use crate::executor::wake_flags::{PollStart, WakeFlags};

/// How many tasks run between two looks at the reactor and the timers.
const EVENT_INTERVAL: u32 = 61;

/// Settings fixed when the runtime is built.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) start_paused: bool,
    pub(crate) slow_poll_threshold: Option<Duration>,
    pub(crate) max_blocking_threads: usize,
    pub(crate) blocking_keep_alive: Duration,
    #[cfg(feature = "sim")]
    pub(crate) sim: crate::executor::sim_hooks::SimConfig,
}

/// Counters behind [`RuntimeMetrics`]; plain cells, as one thread owns them.
#[derive(Default)]
struct Counters {
    spawned: Cell<u64>,
    polls: Cell<u64>,
    remote_wakes: Cell<u64>,
    parks: Cell<u64>,
}

fn bump(counter: &Cell<u64>, by: u64) {
    counter.set(counter.get() + by);
}

/// What the runtime's slab holds for each live task: 16 bytes, the slab's
/// own vacant/occupied tag included (it hides in the pointer's null niche).
/// Every live task, sleeping or not, pays for one slot, so rarer data goes
/// elsewhere: names, which few tasks have, wait in `Core::names`.
struct TaskSlot {
    task: TaskPtr,
    polls: u64,
}

impl Drop for TaskSlot {
    fn drop(&mut self) {
        // SAFETY: slots live in the runtime's slab and are dropped on its
        // thread, never while their task is being polled (a task's slot is
        // removed only by the scheduler, after the poll, or at shutdown).
        // This is what keeps every future dropped on the runtime's thread.
        unsafe { self.task.cancel() }
    }
}

/// A runtime's state, owned by its thread.
pub(crate) struct Core {
    /// The tasks ready to run; it also holds the runtime's `Shared`.
    pub(super) run_queue: RunQueue,
    tasks: RefCell<Slab<TaskSlot>>,
    /// The names given to `spawn_named`, for the tasks still alive.
    names: RefCell<BTreeMap<TaskId, Arc<str>>>,
    pub(crate) time: Rc<TimeDriver>,
    pub(crate) reactor: Rc<Reactor>,
    pub(crate) blocking: BlockingPool,
    counters: Counters,
    /// The slab key of the task being polled right now, for snapshots;
    /// `MAIN_KEY` (never a slab key) when none is.
    polling: Cell<u32>,
    /// Polls still to come of tasks that the drivers (fired timers, I/O
    /// events) woke: while it is not zero, each poll first asks for the
    /// next task's header ([`Core::prefetch`]).
    driver_wakes: Cell<usize>,
    slow_poll_threshold: Option<Duration>,
}

impl Core {
    pub(crate) fn new(config: &Config) -> std::io::Result<Self> {
        let (reactor, waker) = Reactor::new()?;
        let shared = Arc::new(Shared::new(waker));
        Ok(Self {
            blocking: BlockingPool::new(
                config.max_blocking_threads,
                config.blocking_keep_alive,
                shared.clone(),
            ),
            #[cfg(not(feature = "sim"))]
            run_queue: RunQueue::new(shared),
            #[cfg(feature = "sim")]
            run_queue: RunQueue::new(shared)
                .with_hooks(crate::executor::sim_hooks::SimHooks::new(&config.sim)),
            tasks: RefCell::new(Slab::new()),
            names: RefCell::new(BTreeMap::new()),
            time: Rc::new(TimeDriver::new(config.start_paused)),
            reactor: Rc::new(reactor),
            counters: Counters::default(),
            polling: Cell::new(MAIN_KEY),
            driver_wakes: Cell::new(0),
            slow_poll_threshold: config.slow_poll_threshold,
        })
    }

    /// The part of this runtime that other threads may touch.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        self.run_queue.owner()
    }

    pub(crate) fn next_task_id(&self) -> TaskId {
        self.shared().next_task_id()
    }

    /// Makes `fut` a task of this runtime, queued to run, and returns its
    /// block (for a `JoinHandle`, which knows the output type).
    pub(crate) fn spawn<F>(&self, fut: F, name: Option<Arc<str>>) -> TaskPtr
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let task = TaskPtr::allocate(fut, self.next_task_id(), self.shared().clone());
        if let Some(name) = name {
            self.names.borrow_mut().insert(task.header().id, name);
        }
        self.adopt(task.clone());
        task.header().schedule();
        task
    }

    /// Gives a task, spawned here or sent by another thread, its slot in
    /// the slab; returns its run-queue entry.
    fn adopt(&self, task: TaskPtr) -> TaskRef {
        let mut tasks = self.tasks.borrow_mut();
        let entry = tasks.vacant_entry();
        let key = u32::try_from(entry.key())
            .ok()
            .filter(|&key| key != MAIN_KEY)
            .expect("more than 4 294 967 294 tasks alive at once on one runtime");
        task.header().set_key(key);
        bump(&self.counters.spawned, 1);
        #[cfg(feature = "sim")]
        self.with_hooks(|hooks| {
            let id = task.header().id;
            let name = self.names.borrow().get(&id).cloned();
            hooks.spawned(id, name, self.time.now())
        });
        entry
            .insert(TaskSlot { task, polls: 0 })
            .task
            .header()
            .task_ref()
    }

    /// Drives `fut` to completion on this thread, running every task.
    pub(crate) fn block_on<F: Future>(&self, fut: F) -> F::Output {
        let main = Arc::new(MainWaker {
            flags: WakeFlags::default(),
            id: self.next_task_id(),
            shared: self.shared().clone(),
        });
        let waker = MainWaker::into_waker(main.clone());
        let mut cx = Context::from_waker(&waker);
        let mut fut = pin!(fut);
        #[cfg(feature = "sim")]
        self.with_hooks(|hooks| hooks.set_main(main.id, self.time.now()));
        main.schedule();
        let mut out = None;
        loop {
            self.run_ready(|task| {
                if task.is_for(main.id) && main.flags.start_poll() == PollStart::Poll {
                    bump(&self.counters.polls, 1);
                    coop::refill();
                    #[cfg(feature = "sim")]
                    self.with_hooks(|hooks| hooks.poll_start(main.id));
                    let poll = fut.as_mut().poll(&mut cx);
                    #[cfg(feature = "sim")]
                    self.with_hooks(|hooks| {
                        hooks.poll_end(main.id, poll.is_ready(), self.time.now())
                    });
                    if let Poll::Ready(value) = poll {
                        out = Some(value);
                        return true;
                    }
                }
                // Any other MAIN_KEY entry is a stale wake of an earlier
                // block_on's future, or a duplicate: nothing to run.
                false
            });
            if let Some(out) = out {
                return out;
            }
            self.turn_drivers(None);
        }
    }

    /// One turn for a host loop (`Runtime::turn`): what one round of
    /// `block_on`'s loop does, waiting at most `max_wait` for something to
    /// happen. Returns whether tasks are ready to run.
    ///
    /// Between turns the runtime counts as parked, so that a wake or spawn
    /// from another thread makes the poller's fd readable.
    pub(crate) fn turn(&self, max_wait: Option<Duration>) -> bool {
        self.shared().remote.finish_park();
        // `block_on`'s future is not running: its entries are stale.
        self.run_ready(|_| false);
        self.turn_drivers(max_wait);
        !self.run_queue.is_empty() || !self.shared().remote.prepare_park()
    }

    /// Polls up to `EVENT_INTERVAL` ready tasks; `block_on`'s own entries
    /// go to `poll_main`, which returns `true` to stop.
    fn run_ready(&self, mut poll_main: impl FnMut(TaskRef) -> bool) {
        for _ in 0..EVENT_INTERVAL {
            let Some(task) = self.run_queue.pop() else {
                break;
            };
            let driver_wakes = self.driver_wakes.get();
            if driver_wakes != 0 {
                self.driver_wakes.set(driver_wakes - 1);
                if let Some(next) = self.run_queue.peek() {
                    self.prefetch(next);
                }
            }
            if task.key() != MAIN_KEY {
                self.run_task(task);
            } else if poll_main(task) {
                return;
            }
        }
    }

    /// Takes in remote wakes and spawns, fires due timers, and takes I/O
    /// events: without waiting if a task is ready, else parked until
    /// something happens, or for at most `max_wait`.
    fn turn_drivers(&self, max_wait: Option<Duration>) {
        self.drain_remote();
        let fired = self.time.fire_due();
        self.add_driver_wakes(fired);
        #[cfg(feature = "sim")]
        self.with_hooks(|hooks| hooks.timers_fired(fired));
        if self.run_queue.is_empty() {
            self.park(max_wait);
        } else if self.reactor.registrations() != 0 {
            // Tasks are ready: take I/O events without waiting. With no I/O
            // object registered there is no event to take (remote wakes
            // and spawns arrive through the remote queue, drained above),
            // so the system call is skipped; a CPU-bound runtime makes none.
            self.turn_reactor(Some(Duration::ZERO));
        }
    }

    /// Asks for the header of the task that runs after the one about to
    /// run, so that its first loads (the id check, the wake flags) do not
    /// miss: with many tasks they are spread over the heap in an order no
    /// hardware prefetcher guesses (`executor/prefetch.rs`). Reading the
    /// slab slot here is an ordinary load, issued long before `run_task`
    /// needs it.
    ///
    /// Only the polls of tasks the drivers woke ask ([`Core::driver_wakes`]):
    /// timers fire, and sockets become ready, in an order that has nothing
    /// to do with where the tasks' blocks lie. A primitive's waiters and
    /// freshly spawned tasks mostly run in the order they were allocated,
    /// which the hardware's own prefetcher follows; for them the hint was a
    /// dozen instructions per poll for nothing (callgrind: +8 % on
    /// yield_switch, +3 % on event_fanout, and no faster).
    #[inline]
    fn prefetch(&self, task: TaskRef) {
        if let Some(slot) = self.tasks.borrow().get(task.key() as usize) {
            prefetch(std::ptr::from_ref(slot.task.header()).cast());
        }
    }

    /// Polls one task, or drops it if it was aborted.
    fn run_task(&self, task: TaskRef) {
        let key = task.key() as usize;
        let mut tasks = self.tasks.borrow_mut();
        let Some(slot) = tasks
            .get_mut(key)
            .filter(|slot| task.is_for(slot.task.header().id))
        else {
            // A wake for a task that already ended (its slot was freed,
            // maybe reused): nothing to do.
            return;
        };
        match slot.task.header().flags.start_poll() {
            PollStart::Poll => {}
            PollStart::Skip => return,
            PollStart::Abort => {
                let id = slot.task.header().id;
                drop(tasks);
                self.remove_task(key, id);
                return;
            }
        }
        slot.polls += 1;
        // The slab is not borrowed during the poll (the task may spawn),
        // so the poll uses copies that count no reference: the slot keeps
        // the block alive, and only the scheduler removes it, after this.
        // SAFETY: as just said, the slot's reference outlives the poll.
        let running = unsafe { slot.task.unowned() };
        drop(tasks);
        let poll = match self.slow_poll_threshold {
            None => self.poll_task(&running, task.key()),
            Some(threshold) => self.poll_timed(&running, task.key(), threshold),
        };
        if poll.is_ready() {
            self.remove_task(key, running.header().id);
        }
    }

    /// The poll itself, for [`Core::run_task`]: `running` is the task in
    /// slot `key`, kept alive by that slot throughout.
    #[inline(always)]
    fn poll_task(&self, running: &TaskPtr, key: u32) -> Poll<()> {
        // SAFETY: the slot's reference outlives the waker (`run_task`).
        let waker = unsafe { running.borrowed_waker() };
        let mut cx = Context::from_waker(&waker);
        bump(&self.counters.polls, 1);
        self.polling.set(key);
        coop::refill();
        #[cfg(feature = "sim")]
        self.with_hooks(|hooks| hooks.poll_start(running.header().id));
        // SAFETY: on the runtime's thread; the scheduler polls one task at
        // a time and never re-enters itself from a poll.
        let poll = unsafe { running.poll(&mut cx) };
        #[cfg(feature = "sim")]
        self.with_hooks(|hooks| {
            hooks.poll_end(running.header().id, poll.is_ready(), self.time.now())
        });
        self.polling.set(MAIN_KEY);
        poll
    }

    /// [`Core::poll_task`], timed, with a warning if it took longer than
    /// `threshold`. Out of line: the clock reads and the warning stay off
    /// the path of a runtime built without a threshold.
    #[inline(never)]
    fn poll_timed(&self, running: &TaskPtr, key: u32, threshold: Duration) -> Poll<()> {
        let started = Instant::now();
        let poll = self.poll_task(running, key);
        self.warn_if_slow(running.header().id, started.elapsed(), threshold);
        poll
    }

    /// Drops a live task's slot (and name): the task is cancelled if it has
    /// not finished, and the block freed unless a handle or waker holds it.
    fn remove_task(&self, key: usize, id: TaskId) {
        let slot = self.tasks.borrow_mut().remove(key);
        let name = self.names.borrow_mut().remove(&id);
        #[cfg(feature = "sim")]
        self.with_hooks(|hooks| hooks.removed(id));
        // Dropped outside the borrows: the future's destructors may spawn,
        // abort or wake other tasks.
        drop((slot, name));
    }

    /// asyncio's debug mode: name the task that blocked the loop.
    fn warn_if_slow(&self, id: TaskId, took: Duration, threshold: Duration) {
        if took <= threshold {
            return;
        }
        let name = self.names.borrow().get(&id).cloned();
        eprintln!(
            "weft: task {} ({}) blocked the event loop for {:?} in one poll (threshold {:?}); \
             is it doing blocking work? consider spawn_blocking",
            id,
            name.as_deref().unwrap_or("unnamed"),
            took,
            threshold
        );
    }

    fn drain_remote(&self) {
        // SAFETY: each pointer is a `Remote::Spawn` item's, taken once.
        let moved = self
            .run_queue
            .take_remote(|sent| self.adopt(unsafe { TaskPtr::from_remote(sent) }));
        bump(&self.counters.remote_wakes, moved as u64);
    }

    /// Nothing is ready: wait for the next timer, I/O event or remote wake,
    /// or for at most `max_wait`.
    fn park(&self, max_wait: Option<Duration>) {
        let paused = self.time.is_paused();
        let timeout = if paused {
            // Pending I/O comes first. A paused clock never sleeps until a
            // timer: it jumps to it (below) once nothing else can happen.
            self.turn_reactor(Some(Duration::ZERO));
            self.drain_remote();
            if !self.run_queue.is_empty() {
                return;
            }
            None
        } else {
            self.time
                .next_deadline()
                .map(|deadline| deadline.saturating_duration_since(self.time.now()))
        };
        let timeout = match (timeout, max_wait) {
            (Some(timer), Some(max)) => Some(timer.min(max)),
            (timer, max) => timer.or(max),
        };
        if !self.shared().remote.prepare_park() {
            return;
        }
        #[cfg(feature = "sim")]
        self.with_hooks(|hooks| hooks.parked(true));
        // Checked after announcing the park: a blocking job that ends now is
        // either seen here or unparks us (see `BlockingPool`).
        if paused && self.blocking.in_flight() == 0 && self.time.advance_to_next() {
            self.finish_park();
            return;
        }
        #[cfg(feature = "sim")]
        if paused && self.is_deadlocked() {
            self.finish_park();
            self.report_deadlock();
        }
        bump(&self.counters.parks, 1);
        self.turn_reactor(timeout);
        self.finish_park();
    }

    fn finish_park(&self) {
        self.shared().remote.finish_park();
        #[cfg(feature = "sim")]
        self.with_hooks(|hooks| hooks.parked(false));
    }

    /// One turn of the reactor; its events are traced if a recorder runs.
    fn turn_reactor(&self, timeout: Option<Duration>) {
        let before = self.reactor.events_total();
        self.reactor.turn(timeout);
        let events = self.reactor.events_total() - before;
        self.add_driver_wakes(events as usize);
        #[cfg(feature = "sim")]
        self.with_hooks(|hooks| hooks.io_events(events));
    }

    /// The drivers just woke `wakes` tasks (at most that many: a timer or
    /// an event may wake nobody, or a task already queued).
    fn add_driver_wakes(&self, wakes: usize) {
        self.driver_wakes
            .set(self.driver_wakes.get().saturating_add(wakes));
    }

    pub(crate) fn metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics {
            tasks_spawned: self.counters.spawned.get(),
            tasks_alive: self.tasks.borrow().len(),
            polls: self.counters.polls.get(),
            local_wakeups: self.run_queue.local_wakes(),
            remote_wakeups: self.counters.remote_wakes.get(),
            reactor_events: self.reactor.events_total(),
            io_registrations: self.reactor.registrations(),
            timers_fired: self.time.fired_total(),
            live_timers: self.time.live_timers(),
            parks: self.counters.parks.get(),
            blocking_threads: self.blocking.threads(),
        }
    }

    pub(crate) fn task_snapshots(&self) -> Vec<TaskSnapshot> {
        let names = self.names.borrow();
        self.tasks
            .borrow()
            .iter()
            .map(|(key, slot)| TaskSnapshot {
                id: slot.task.header().id,
                name: names.get(&slot.task.header().id).cloned(),
                state: if self.polling.get() as usize == key {
                    TaskState::Running
                } else if slot.task.header().flags.is_queued() {
                    TaskState::Scheduled
                } else {
                    TaskState::Idle
                },
                polls: slot.polls,
            })
            .collect()
    }

    /// Drops every task (asyncio.run cancels what is left). Destructors may
    /// spawn new tasks; those are dropped too.
    pub(crate) fn shutdown(&self) {
        // First refuse pushes from other threads: queued headers hold the
        // `Shared` that holds the queue, and closing breaks that cycle.
        // Tasks sent by other threads are dropped here, on this thread.
        for item in self.shared().remote.close() {
            if let Remote::Spawn(sent) = item {
                // SAFETY: a `Remote::Spawn` item's, taken once; cancelled
                // on the runtime's thread, never polled.
                unsafe { TaskPtr::from_remote(sent).cancel() };
            }
        }
        loop {
            let slots: Vec<TaskSlot> = self.tasks.borrow_mut().drain().collect();
            if slots.is_empty() {
                break;
            }
            // Each slot cancels its task as it drops (see `TaskSlot`).
            drop(slots);
        }
        self.names.borrow_mut().clear();
        self.run_queue.clear();
        self.blocking.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use std::future::pending;

    use crate::scheduler::context;

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_task_slot_takes_two_words() {
        assert_eq!(std::mem::size_of::<super::TaskSlot>(), 16);
    }

    #[test]
    fn names_leave_with_their_tasks() {
        crate::run(async {
            let core = context::current("the test");
            let short = crate::spawn_named("short", async {});
            let long = crate::spawn_named("long", pending::<()>());
            let unnamed = crate::spawn(pending::<()>());
            assert_eq!(core.names.borrow().len(), 2);
            short.await.unwrap();
            assert_eq!(core.names.borrow().len(), 1);
            long.abort();
            assert!(long.await.unwrap_err().is_cancelled());
            assert!(core.names.borrow().is_empty());
            let snapshots = core.task_snapshots();
            assert_eq!(snapshots.len(), 1);
            assert_eq!(snapshots[0].id, unnamed.id());
            assert_eq!(snapshots[0].name, None);
        });
    }
}
