//! The task manager's table: one record per task id, the order in which
//! finished tasks are evicted, and the counts that `wait_all` and the
//! capacity check need.
//!
//! ```text
//!   records:  { "a" → Running,  "b" → Completed(finish #7),  "c" → Failed(finish #9) }
//!   finished: { #7 → "b", #9 → "c" }    (a BTreeMap: the first entry is the oldest)
//! ```
//!
//! When a task finishes it takes the next sequence number and joins
//! `finished`; while more than `retain` tasks are finished, the oldest is
//! evicted. Pending and running tasks are never evicted. Removing a record
//! removes its `finished` entry too, so both structures stay the same size:
//! nothing grows with the number of tasks ever run.
//!
//! Each record also has a [`Done`] cell, shared with whoever waits for the
//! task: an event set once, and the task's final [`TaskInfo`], written just
//! before. A waiter keeps the cell, so it learns the outcome even if the
//! record is evicted (or the id reused) before it runs.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use weft_primitives::Event;

use super::error::{CancelError, Refusal, TaskError};
use crate::shutdown::CancellationToken;

/// Where a task is in its life.
///
/// ```text
///   Pending ──▶ Running ──▶ Completed | Failed | Cancelled
///      └───────────────────────────────────────▲ (cancelled before it started)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    /// Submitted, waiting for a free slot.
    Pending,
    /// Running.
    Running,
    /// Returned `Ok`.
    Completed,
    /// Returned `Err`, or panicked.
    Failed,
    /// Cancelled before it finished.
    Cancelled,
}

impl TaskStatus {
    /// Whether the task is finished (completed, failed or cancelled).
    ///
    /// ```
    /// use weft_patterns::task_manager::TaskStatus;
    ///
    /// assert!(TaskStatus::Cancelled.is_finished());
    /// assert!(!TaskStatus::Running.is_finished());
    /// ```
    pub fn is_finished(self) -> bool {
        !matches!(self, TaskStatus::Pending | TaskStatus::Running)
    }
}

display!(impl[] TaskStatus, |self, f| {
    f.write_str(match self {
        TaskStatus::Pending => "pending",
        TaskStatus::Running => "running",
        TaskStatus::Completed => "completed",
        TaskStatus::Failed => "failed",
        TaskStatus::Cancelled => "cancelled",
    })
});

/// A task's status and timestamps (read on the runtime's clock, so they
/// follow a paused clock in tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskInfo<K> {
    /// The id it was submitted with.
    pub id: K,
    /// Where it is in its life.
    pub status: TaskStatus,
    /// When it was submitted.
    pub created_at: Instant,
    /// When it started running, if it did.
    pub started_at: Option<Instant>,
    /// When it finished, if it did.
    pub finished_at: Option<Instant>,
}

/// A task's end, shared with the tasks waiting for it.
#[derive(Debug)]
pub(super) struct Done<K> {
    /// Set once, after `info` was written.
    pub(super) event: Event,
    pub(super) info: OnceLock<TaskInfo<K>>,
}

struct Record<K, T, E> {
    /// Submission number: tells this submission from a later one that
    /// reuses the id, and orders `list`.
    seq: u64,
    /// What `status` reports: the id, the status and the timestamps.
    info: TaskInfo<K>,
    /// The key of this record in `Table::finished`, once finished.
    finish_seq: Option<u64>,
    /// `Some` once finished, until `remove` takes it.
    outcome: Option<Result<T, TaskError<E>>>,
    /// Cancels this task; a child of the manager's token.
    token: CancellationToken,
    done: Arc<Done<K>>,
}

/// The events to set once the table's lock is released.
pub(super) struct Wakes<K> {
    pub(super) done: Arc<Done<K>>,
    /// `Some` when the last active task finished.
    pub(super) idle: Option<Arc<Event>>,
}

impl<K> Wakes<K> {
    pub(super) fn wake(self) {
        self.done.event.set();
        if let Some(idle) = self.idle {
            idle.set();
        }
    }
}

/// Counts over the table, from [`TaskManager::stats`](super::TaskManager::stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskCounts {
    /// Tasks waiting for a slot.
    pub pending: usize,
    /// Tasks running.
    pub running: usize,
    /// Finished tasks whose records are retained.
    pub finished: usize,
}

pub(super) struct Table<K, T, E> {
    records: HashMap<K, Record<K, T, E>>,
    /// Finished tasks by finish number: the first one is evicted first.
    finished: BTreeMap<u64, K>,
    next_seq: u64,
    pending: usize,
    running: usize,
    /// Set when the current busy period ends (no task pending or running);
    /// replaced by a fresh event when a new one begins, so that each event
    /// is set once and never cleared.
    idle: Arc<Event>,
    /// No submissions once set (shutdown began).
    pub(super) closed: bool,
    /// Most tasks pending or running at once.
    pub(super) max_active: usize,
    /// Most finished records kept.
    pub(super) retain: usize,
}

impl<K: Eq + Hash + Clone, T, E> Table<K, T, E> {
    pub(super) fn new(max_active: usize, retain: usize) -> Self {
        let idle = Arc::new(Event::new());
        idle.set(); // nothing is running
        Table {
            records: HashMap::new(),
            finished: BTreeMap::new(),
            next_seq: 0,
            pending: 0,
            running: 0,
            idle,
            closed: false,
            max_active,
            retain,
        }
    }

    fn active(&self) -> usize {
        self.pending + self.running
    }

    pub(super) fn counts(&self) -> TaskCounts {
        TaskCounts {
            pending: self.pending,
            running: self.running,
            finished: self.finished.len(),
        }
    }

    /// Adds a pending task, replacing a finished record with the same id;
    /// returns its submission number.
    pub(super) fn insert(
        &mut self,
        id: &K,
        token: CancellationToken,
        now: Instant,
    ) -> Result<u64, Refusal> {
        if self.closed {
            return Err(Refusal::Closed);
        }
        if self
            .records
            .get(id)
            .is_some_and(|r| !r.info.status.is_finished())
        {
            return Err(Refusal::DuplicateId);
        }
        if self.active() >= self.max_active {
            return Err(Refusal::Full);
        }
        self.remove_finished(id);
        if self.active() == 0 {
            self.idle = Arc::new(Event::new());
        }
        self.pending += 1;
        let seq = self.next_seq;
        self.next_seq += 1;
        let record = Record {
            seq,
            info: TaskInfo {
                id: id.clone(),
                status: TaskStatus::Pending,
                created_at: now,
                started_at: None,
                finished_at: None,
            },
            finish_seq: None,
            outcome: None,
            token,
            done: Arc::new(Done {
                event: Event::new(),
                info: OnceLock::new(),
            }),
        };
        self.records.insert(id.clone(), record);
        Ok(seq)
    }

    /// The active record of submission `seq`, if it is still there.
    fn active_record(&mut self, id: &K, seq: u64) -> Option<&mut Record<K, T, E>> {
        self.records
            .get_mut(id)
            .filter(|r| r.seq == seq && !r.info.status.is_finished())
    }

    /// Marks submission `seq` running.
    pub(super) fn start(&mut self, id: &K, seq: u64, now: Instant) {
        if let Some(record) = self.active_record(id, seq) {
            record.info.status = TaskStatus::Running;
            record.info.started_at = Some(now);
            self.pending -= 1;
            self.running += 1;
        }
    }

    /// Records the outcome of submission `seq`, evicts the oldest finished
    /// records beyond `retain`, and returns the events to set.
    pub(super) fn finish(
        &mut self,
        id: &K,
        seq: u64,
        outcome: Result<T, TaskError<E>>,
        now: Instant,
    ) -> Option<Wakes<K>> {
        let finish_seq = self.next_seq;
        let record = self.active_record(id, seq)?;
        let was_running = record.info.status == TaskStatus::Running;
        record.info.status = match &outcome {
            Ok(_) => TaskStatus::Completed,
            Err(TaskError::Failed(_) | TaskError::Panicked(_)) => TaskStatus::Failed,
            Err(TaskError::Cancelled) => TaskStatus::Cancelled,
        };
        record.info.finished_at = Some(now);
        record.finish_seq = Some(finish_seq);
        record.outcome = Some(outcome);
        // Cannot fail: the cell is written once, here, when the task ends.
        let _ = record.done.info.set(record.info.clone());
        let done = record.done.clone();
        if was_running {
            self.running -= 1;
        } else {
            self.pending -= 1;
        }
        self.next_seq += 1;
        self.finished.insert(finish_seq, id.clone());
        while self.finished.len() > self.retain {
            if let Some((_, oldest)) = self.finished.pop_first() {
                self.records.remove(&oldest);
            }
        }
        let idle = (self.active() == 0).then(|| self.idle.clone());
        Some(Wakes { done, idle })
    }

    /// Removes a finished record (with its eviction entry).
    fn remove_finished(&mut self, id: &K) -> Option<Record<K, T, E>> {
        let finish_seq = self.records.get(id)?.finish_seq?;
        self.finished.remove(&finish_seq);
        self.records.remove(id)
    }

    /// Takes a finished task's outcome, removing its record.
    pub(super) fn remove(&mut self, id: &K) -> Option<Result<T, TaskError<E>>> {
        self.remove_finished(id)?.outcome
    }

    pub(super) fn outcome(&self, id: &K) -> Option<&Result<T, TaskError<E>>> {
        self.records.get(id)?.outcome.as_ref()
    }

    pub(super) fn info(&self, id: &K) -> Option<TaskInfo<K>> {
        Some(self.records.get(id)?.info.clone())
    }

    /// Every record's info, in submission order.
    pub(super) fn list(&self) -> Vec<TaskInfo<K>> {
        let mut records: Vec<_> = self.records.iter().collect();
        records.sort_by_key(|(_, record)| record.seq);
        records.into_iter().map(|(_, r)| r.info.clone()).collect()
    }

    /// Asks an active task to stop.
    pub(super) fn cancel(&self, id: &K) -> Result<(), CancelError> {
        let record = self.records.get(id).ok_or(CancelError::Unknown)?;
        if record.info.status.is_finished() {
            return Err(CancelError::Finished(record.info.status));
        }
        record.token.cancel();
        Ok(())
    }

    /// The cell a waiter for `id` keeps, or `None` for an unknown id.
    pub(super) fn done(&self, id: &K) -> Option<Arc<Done<K>>> {
        Some(self.records.get(id)?.done.clone())
    }

    /// The event that ends the current busy period, or `None` when no task
    /// is pending or running.
    pub(super) fn idle(&self) -> Option<Arc<Event>> {
        (self.active() > 0).then(|| self.idle.clone())
    }

    /// The cells of every active task, with their ids.
    pub(super) fn active_tasks(&self) -> Vec<(u64, K, Arc<Done<K>>)> {
        self.records
            .iter()
            .filter(|(_, r)| !r.info.status.is_finished())
            .map(|(id, r)| (r.seq, id.clone(), r.done.clone()))
            .collect()
    }
}
