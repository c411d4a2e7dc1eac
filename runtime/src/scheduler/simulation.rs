//! The scheduler's side of simulation (cargo feature `sim`): the one
//! branch of every hook site, the schedule digest as users see it, and
//! the deadlock report.
//!
//! **Deadlock.** A seeded runtime on the paused clock is a simulation:
//! everything that can wake a task is inside the runtime. So when the run
//! queue is empty, no timer is pending, no blocking job is running and no
//! real I/O object is registered, nothing can ever happen again, and
//! `block_on` panics with a report instead of sleeping forever:
//!
//! ```text
//! weft: deadlock: no task can run, no timer is pending and no I/O can arrive (simulated time 1.5s)
//!   main future (task 1): waiting 1.5s since its last poll
//!   task 2 "alice": waiting 1.5s since its last poll, 2 polls
//!   task 3 "bob": waiting 1.5s since its last poll, 2 polls
//! ```
//!
//! A waker held by another OS thread is outside the simulation: a seeded
//! runtime treats a run that waits only on such a thread as deadlocked.
//! Without a seed the runtime keeps waiting, as it always did.

use std::fmt::Write;

use super::core::Core;
use crate::executor::sim_hooks::SimHooks;
use crate::executor::task_ref::TaskId;

/// What every deadlock report starts with.
pub(crate) const DEADLOCK: &str = "weft: deadlock:";

/// A digest of the schedule a seeded (or traced) runtime ran: which task
/// was polled, in order, hashed; and whether the run stayed inside the
/// simulation, so that the same seed must give the same digest again.
///
/// ```
/// use weft_runtime::Builder;
///
/// let digest = |seed| {
///     let rt = Builder::new().start_paused(true).seed(seed).build();
///     rt.block_on(async {
///         let a = weft_runtime::spawn(async { weft_runtime::yield_now().await });
///         let b = weft_runtime::spawn(async {});
///         a.await.unwrap();
///         b.await.unwrap();
///     });
///     rt.schedule_digest().unwrap()
/// };
/// assert_eq!(digest(3), digest(3));
/// assert!(digest(3).simulated());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScheduleDigest {
    hash: u64,
    polls: u64,
    simulated: bool,
}

impl ScheduleDigest {
    /// The running hash of the ids of the polled tasks, in order.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// How many polls the hash covers.
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// Whether the run stayed inside the simulation: paused clock, no real
    /// I/O object ever registered, no blocking job, no wake from another
    /// thread. Only then does the same seed promise the same digest; with
    /// real I/O the seed still decides every choice the scheduler makes,
    /// but the OS decides when events arrive.
    pub fn simulated(&self) -> bool {
        self.simulated
    }
}

impl std::fmt::Display for ScheduleDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x} ({} polls", self.hash, self.polls)?;
        if !self.simulated {
            f.write_str(", left the simulation")?;
        }
        f.write_str(")")
    }
}

impl Core {
    /// Runs `hook` if the runtime has simulation hooks: one branch on an
    /// empty `Option` for the default runtime.
    #[inline]
    pub(super) fn with_hooks(&self, hook: impl FnOnce(&SimHooks)) {
        if let Some(hooks) = self.run_queue.hooks() {
            hook(hooks);
        }
    }

    pub(crate) fn schedule_digest(&self) -> Option<ScheduleDigest> {
        let (hash, polls) = self.run_queue.hooks()?.digest();
        let metrics = self.metrics();
        Some(ScheduleDigest {
            hash,
            polls,
            simulated: self.time.is_paused()
                && self.reactor.registered_total() == 0
                && self.blocking.spawned_total() == 0
                && metrics.remote_wakeups == 0,
        })
    }

    pub(crate) fn trace(&self) -> Option<crate::sim::trace::Trace> {
        self.run_queue.hooks()?.trace()
    }

    /// Called with an empty run queue on the paused clock: whether nothing
    /// can ever make progress again (see the module docs).
    pub(super) fn is_deadlocked(&self) -> bool {
        self.run_queue.hooks().is_some_and(|h| h.is_seeded())
            && self.time.live_timers() == 0
            && self.blocking.in_flight() == 0
            && self.reactor.registrations() == 0
    }

    /// Panics with the list of what waits, and for how long.
    pub(super) fn report_deadlock(&self) -> ! {
        let hooks = self
            .run_queue
            .hooks()
            .expect("only a seeded runtime reports deadlocks");
        let now = self.time.now();
        let waited = |id: TaskId| match hooks.idle_since(id) {
            Some(since) => format!("waiting {:?} since its last poll", now - since),
            None => "waiting".to_owned(),
        };
        let mut report = format!(
            "{DEADLOCK} no task can run, no timer is pending and no I/O can arrive \
             (simulated time {:?})",
            hooks.simulated_time(now)
        );
        if let Some(main) = hooks.main() {
            let _ = write!(report, "\n  main future (task {main}): {}", waited(main));
        }
        for task in self.task_snapshots() {
            let name = task
                .name
                .as_deref()
                .map_or_else(String::new, |n| format!(" {n:?}"));
            let _ = write!(
                report,
                "\n  task {}{name}: {}, {} polls",
                task.id,
                waited(task.id),
                task.polls
            );
        }
        panic!("{report}");
    }
}
