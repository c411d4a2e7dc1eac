//! What a runtime built with a seed or a trace recorder does besides
//! running tasks (cargo feature `sim`): it picks the next task from the
//! seed, keeps the schedule digest, and records its events.
//!
//! The run queue holds these hooks as an `Option<Box<SimHooks>>`: a
//! runtime built without a seed and without a recorder has `None`, and
//! each hook site costs one well-predicted branch on it. The hooks are
//! kept out of line (`#[inline(never)]`) so that the hot paths they sit in
//! (a wake, a poll) stay small enough to be inlined as before. Without the
//! `sim` feature the field and the branches are not compiled at all.
//!
//! ```text
//!   run queue pop ──▶ seeded? chooser.pick(queued tasks) : front     (policy.rs)
//!   push / remote ──▶ record Wake { task, by: the task being polled }
//!   scheduler ──────▶ spawned, poll_start (digest), poll_end, timers, I/O, park
//! ```
//!
//! **The schedule digest** is a running hash of the ids of the tasks
//! polled, in order (the `block_on` future included): each poll mixes the
//! id into the hash with SplitMix64's finaliser. Task ids are handed out
//! by a counter in spawn order, so the same schedule gives the same digest
//! on every run and every machine, and a different order (almost surely)
//! a different one.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use super::ring::Ring;
use super::task_ref::{TaskId, TaskRef};
use crate::sim::policy::{Chooser, Policy};
use crate::sim::trace::{EventKind, Recorder, Trace};

/// The simulation settings of a `Builder`.
#[derive(Debug, Clone, Default)]
pub(crate) struct SimConfig {
    pub(crate) seed: Option<u64>,
    pub(crate) policy: Policy,
    pub(crate) recorder: Option<Recorder>,
}

/// The seeded chooser, the digest and the recorder of one runtime.
#[derive(Debug)]
pub(crate) struct SimHooks {
    chooser: Option<RefCell<Chooser>>,
    recorder: Option<RefCell<Recorder>>,
    digest: Cell<u64>,
    polls: Cell<u64>,
    /// The task being polled, for the `by` of wake events.
    running: Cell<Option<u64>>,
    /// The id of the current `block_on` future.
    main: Cell<Option<TaskId>>,
    /// When the first `block_on` started: simulated time 0.
    started: Cell<Option<Instant>>,
    /// When each live task (and the main future) last stopped running:
    /// how long it has waited, for the deadlock report (seeded runtimes
    /// only). Entries leave when
    /// their task finishes or is aborted.
    idle_since: RefCell<HashMap<u64, Instant>>,
}

/// SplitMix64's finaliser: a bijection of `u64` that mixes every bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl SimHooks {
    /// The hooks `config` asks for, or `None` (no seed, no recorder).
    pub(crate) fn new(config: &SimConfig) -> Option<Box<Self>> {
        if config.seed.is_none() && config.recorder.is_none() {
            return None;
        }
        Some(Box::new(Self {
            chooser: config
                .seed
                .map(|seed| RefCell::new(Chooser::new(seed, config.policy))),
            recorder: config.recorder.clone().map(RefCell::new),
            digest: Cell::new(0),
            polls: Cell::new(0),
            running: Cell::new(None),
            main: Cell::new(None),
            started: Cell::new(None),
            idle_since: RefCell::new(HashMap::new()),
        }))
    }

    /// Whether the schedule comes from a seed.
    pub(crate) fn is_seeded(&self) -> bool {
        self.chooser.is_some()
    }

    fn record(&self, kind: EventKind) {
        if let Some(recorder) = &self.recorder {
            recorder.borrow_mut().record(kind);
        }
    }

    /// Takes the task to run next out of `queue`: the seed's choice, or
    /// the front.
    #[inline(never)]
    pub(crate) fn pick(&self, queue: &mut Ring<TaskRef>) -> Option<TaskRef> {
        let Some(chooser) = &self.chooser else {
            return queue.pop_front();
        };
        if queue.is_empty() {
            return None;
        }
        let index = chooser
            .borrow_mut()
            .pick(queue.len(), |i| queue.get(i).packed());
        Some(queue.remove(index))
    }

    /// `task` was queued, from this thread or (`remote`) another one.
    #[inline(never)]
    pub(crate) fn woken(&self, task: TaskRef, remote: bool) {
        self.record(EventKind::Wake {
            task: task.id_bits(),
            by: if remote { None } else { self.running.get() },
            remote,
        });
    }

    /// A task was spawned at `now`.
    #[inline(never)]
    pub(crate) fn spawned(&self, id: TaskId, name: Option<Arc<str>>, now: Instant) {
        if self.is_seeded() {
            self.idle_since.borrow_mut().insert(id.0.get(), now);
        }
        self.record(EventKind::Spawned {
            task: id.0.get(),
            name,
        });
    }

    /// `id` is the future of the `block_on` call starting at `now`.
    pub(crate) fn set_main(&self, id: TaskId, now: Instant) {
        self.main.set(Some(id));
        self.idle_since.borrow_mut().insert(id.0.get(), now);
        if self.started.get().is_none() {
            self.started.set(Some(now));
        }
        // The future is not spawned, but a trace shows it as a task.
        self.record(EventKind::Spawned {
            task: id.0.get(),
            name: Some("block_on".into()),
        });
    }

    /// How far `now` is past the start of the first `block_on`.
    pub(crate) fn simulated_time(&self, now: Instant) -> std::time::Duration {
        self.started
            .get()
            .map_or_else(Default::default, |start| now - start)
    }

    /// The future of the running `block_on` call.
    pub(crate) fn main(&self) -> Option<TaskId> {
        self.main.get()
    }

    /// A poll of `id` starts: it goes into the digest.
    #[inline(never)]
    pub(crate) fn poll_start(&self, id: TaskId) {
        let id = id.0.get();
        self.digest.set(mix(self.digest.get() ^ id));
        self.polls.set(self.polls.get() + 1);
        self.running.set(Some(id));
        self.record(EventKind::PollStart { task: id });
    }

    /// The poll of `id` returned at `now`, `ready` if the task finished.
    #[inline(never)]
    pub(crate) fn poll_end(&self, id: TaskId, ready: bool, now: Instant) {
        let id = id.0.get();
        self.running.set(None);
        // Only a seeded runtime reports deadlocks, with these times.
        if self.is_seeded() {
            let mut idle_since = self.idle_since.borrow_mut();
            if ready {
                idle_since.remove(&id);
            } else {
                idle_since.insert(id, now);
            }
        }
        self.record(EventKind::PollEnd { task: id, ready });
    }

    /// The task `id` is gone (finished, or aborted unpolled): forget it.
    #[inline(never)]
    pub(crate) fn removed(&self, id: TaskId) {
        self.idle_since.borrow_mut().remove(&id.0.get());
    }

    /// Since when `id` has been waiting (since its last poll, or its
    /// spawn).
    pub(crate) fn idle_since(&self, id: TaskId) -> Option<Instant> {
        self.idle_since.borrow().get(&id.0.get()).copied()
    }

    /// `fired` timers fired in one turn.
    #[inline(never)]
    pub(crate) fn timers_fired(&self, fired: usize) {
        for _ in 0..fired {
            self.record(EventKind::TimerFired { task: None });
        }
    }

    /// The reactor reported `events` I/O events in one turn (their
    /// readiness is not recorded).
    #[inline(never)]
    pub(crate) fn io_events(&self, events: u64) {
        for _ in 0..events {
            self.record(EventKind::Io {
                task: None,
                readable: false,
                writable: false,
            });
        }
    }

    /// The runtime goes to sleep (`true`) or wakes up (`false`).
    #[inline(never)]
    pub(crate) fn parked(&self, parked: bool) {
        self.record(if parked {
            EventKind::Park
        } else {
            EventKind::Unpark
        });
    }

    /// The digest and the number of polls it covers.
    pub(crate) fn digest(&self) -> (u64, u64) {
        (self.digest.get(), self.polls.get())
    }

    /// The events recorded so far, if a recorder was given.
    pub(crate) fn trace(&self) -> Option<Trace> {
        let recorder = self.recorder.as_ref()?;
        Some(Trace::from_events(recorder.borrow().events().to_vec()))
    }
}
