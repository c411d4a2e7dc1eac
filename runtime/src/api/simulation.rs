//! The simulation settings of [`Builder`] and what a [`Runtime`] reports
//! about its schedule (cargo feature `sim`).
//!
//! * [`Builder::seed`] makes every choice of the scheduler come from a
//!   seed, with the [`Policy`] set by [`Builder::policy`]; with the paused
//!   clock and no real I/O, the same seed gives the same run.
//! * [`Builder::trace`] records the runtime's events into a
//!   [`Recorder`]; [`Runtime::trace`] hands them out as a [`Trace`].
//! * [`Runtime::schedule_digest`] says which schedule ran, and whether the
//!   run stayed inside the simulation.
//!
//! A runtime built with neither a seed nor a recorder runs the default
//! FIFO scheduler with no simulation hook at all (one branch on an empty
//! `Option` per poll and per wake).

use super::runtime::{Builder, Runtime};
use crate::scheduler::simulation::ScheduleDigest;
use crate::sim::trace::{Recorder, Trace};
use crate::sim::Policy;

impl Builder {
    /// Takes every scheduling choice from `seed`: which ready task runs
    /// next, and so the order of timers due at the same instant, of remote
    /// wakes and of I/O events (all of them only queue tasks). On the
    /// paused clock, a seeded runtime that can make no more progress
    /// panics with a deadlock report instead of waiting forever.
    ///
    /// The run repeats exactly only with the paused clock and no real I/O
    /// (no OS sockets, `spawn_blocking`, signals or wakes from other
    /// threads): see [`Runtime::schedule_digest`].
    ///
    /// ```
    /// let rt = weft_runtime::Builder::new().start_paused(true).seed(42).build();
    /// let order = rt.block_on(async {
    ///     let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    ///     let tasks: Vec<_> = (0..4)
    ///         .map(|i| {
    ///             let log = log.clone();
    ///             weft_runtime::spawn(async move { log.borrow_mut().push(i) })
    ///         })
    ///         .collect();
    ///     for task in tasks {
    ///         task.await.unwrap();
    ///     }
    ///     log.take()
    /// });
    /// assert_eq!(order.len(), 4); // in an order the seed chose
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.sim.seed = Some(seed);
        self
    }

    /// How a seeded runtime chooses (uniformly at random by default; see
    /// [`Policy`]). Without [`seed`](Self::seed) it has no effect.
    ///
    /// ```
    /// use weft_runtime::sim::Policy;
    ///
    /// let rt = weft_runtime::Builder::new()
    ///     .start_paused(true)
    ///     .seed(1)
    ///     .policy(Policy::pct(2))
    ///     .build();
    /// rt.block_on(async {});
    /// ```
    pub fn policy(mut self, policy: Policy) -> Self {
        self.config.sim.policy = policy;
        self
    }

    /// Records the runtime's events (spawns, poll starts and ends, wakes
    /// and who caused them, timers fired, I/O events, parks) into
    /// `recorder`; read them with [`Runtime::trace`]. Each event costs one
    /// timestamp and one push (see [`Recorder`] for figures).
    ///
    /// ```
    /// use weft_runtime::sim::trace::{EventKind, Recorder};
    ///
    /// let rt = weft_runtime::Builder::new().trace(Recorder::steps()).build();
    /// rt.block_on(async { weft_runtime::spawn_named("worker", async {}).await.unwrap() });
    /// let trace = rt.trace().unwrap();
    /// assert!(trace.events().iter().any(|e| matches!(e.kind, EventKind::Spawned { .. })));
    /// assert!(trace.svg().contains("worker"));
    /// ```
    pub fn trace(mut self, recorder: Recorder) -> Self {
        self.config.sim.recorder = Some(recorder);
        self
    }
}

impl Runtime {
    /// The digest of the schedule so far, for a runtime built with a
    /// [`seed`](Builder::seed) or a [`trace`](Builder::trace) recorder;
    /// `None` otherwise.
    ///
    /// ```
    /// let rt = weft_runtime::Builder::new().start_paused(true).seed(9).build();
    /// rt.block_on(async { weft_runtime::spawn(async {}).await.unwrap() });
    /// let digest = rt.schedule_digest().unwrap();
    /// assert_eq!(digest.polls(), 3); // the main future twice, the task once
    /// assert!(digest.simulated());
    /// assert!(weft_runtime::Runtime::new().schedule_digest().is_none());
    /// ```
    pub fn schedule_digest(&self) -> Option<ScheduleDigest> {
        self.core.schedule_digest()
    }

    /// The events recorded so far, if the runtime was built with
    /// [`Builder::trace`]; recording goes on.
    ///
    /// ```
    /// use weft_runtime::sim::trace::Recorder;
    ///
    /// let rt = weft_runtime::Builder::new().trace(Recorder::steps()).build();
    /// rt.block_on(async {});
    /// assert!(!rt.trace().unwrap().events().is_empty());
    /// ```
    pub fn trace(&self) -> Option<Trace> {
        self.core.trace()
    }
}
