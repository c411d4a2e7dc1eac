//! The shapes both writers draw, rebuilt once from a list of events: the
//! tasks (one row or track each), their polls as closed intervals, the
//! instants (spawns, wake-ups, timers, I/O) and the runtime's parked
//! stretches.
//!
//! The rebuild is a single pass over the events in time order (a stable
//! sort, so events with the same stamp keep their recorded order) with one
//! open poll per task and one open park at most; see the parent module for
//! how odd input is treated.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{EventKind, TraceEvent};

/// A task as the writers show it.
#[derive(Debug)]
pub(super) struct TaskRow {
    pub(super) id: u64,
    pub(super) name: Option<Arc<str>>,
}

impl TaskRow {
    /// `#id name`, or `#id` for an unnamed task.
    pub(super) fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("#{} {}", self.id, name),
            None => format!("#{}", self.id),
        }
    }
}

/// How a poll ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PollEnd {
    /// It returned `Pending`.
    Pending,
    /// It returned `Ready`: the task finished.
    Ready,
    /// The trace has no end for it (see the parent module).
    Unfinished,
}

impl PollEnd {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            PollEnd::Pending => "pending",
            PollEnd::Ready => "ready",
            PollEnd::Unfinished => "unfinished",
        }
    }
}

/// One poll of one task.
#[derive(Debug)]
pub(super) struct PollSpan {
    pub(super) task: u64,
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) outcome: PollEnd,
}

/// What an instant marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MarkKind {
    Spawned,
    Wake { by: Option<u64>, remote: bool },
    TimerFired,
    Io { readable: bool, writable: bool },
}

impl MarkKind {
    /// A short name, the same in both formats.
    pub(super) fn name(self) -> &'static str {
        match self {
            MarkKind::Spawned => "spawn",
            MarkKind::Wake { remote: false, .. } => "wake",
            MarkKind::Wake { remote: true, .. } => "remote wake",
            MarkKind::TimerFired => "timer fired",
            MarkKind::Io { .. } => "io event",
        }
    }
}

/// An instant on a task's row, or on the runtime's (`task` 0).
#[derive(Debug)]
pub(super) struct Mark {
    pub(super) at: u64,
    pub(super) task: u64,
    pub(super) kind: MarkKind,
}

/// Everything a writer draws.
#[derive(Debug, Default)]
pub(super) struct Timeline {
    /// In order of first appearance.
    pub(super) tasks: Vec<TaskRow>,
    /// In order of their start.
    pub(super) polls: Vec<PollSpan>,
    pub(super) marks: Vec<Mark>,
    /// `(start, end)` of each stretch the runtime was parked.
    pub(super) parks: Vec<(u64, u64)>,
    /// The first and last timestamps (0 and 0 for an empty trace).
    pub(super) start: u64,
    pub(super) end: u64,
}

/// The track of events not tied to a task.
pub(super) const RUNTIME_TRACK: u64 = 0;

impl Timeline {
    pub(super) fn build(events: &[TraceEvent]) -> Timeline {
        let mut sorted: Vec<&TraceEvent> = events.iter().collect();
        sorted.sort_by_key(|e| e.at_ns);
        let mut timeline = Timeline {
            start: sorted.first().map_or(0, |e| e.at_ns),
            end: sorted.last().map_or(0, |e| e.at_ns),
            ..Timeline::default()
        };
        // Row index of each task seen, and the start of its open poll.
        let mut rows: BTreeMap<u64, usize> = BTreeMap::new();
        let mut open_polls: BTreeMap<u64, u64> = BTreeMap::new();
        let mut parked_since: Option<u64> = None;

        for event in sorted {
            let at = event.at_ns;
            if let Some(task) = event.kind.task() {
                timeline.note_task(&mut rows, task);
            }
            match &event.kind {
                EventKind::Spawned { task, name } => {
                    let row = rows[task];
                    if name.is_some() {
                        timeline.tasks[row].name.clone_from(name);
                    }
                    timeline.mark(at, *task, MarkKind::Spawned);
                }
                EventKind::PollStart { task } => {
                    if let Some(start) = open_polls.insert(*task, at) {
                        timeline.close_poll(*task, start, at, PollEnd::Unfinished);
                    }
                }
                EventKind::PollEnd { task, ready } => {
                    if let Some(start) = open_polls.remove(task) {
                        let outcome = if *ready {
                            PollEnd::Ready
                        } else {
                            PollEnd::Pending
                        };
                        timeline.close_poll(*task, start, at, outcome);
                    }
                }
                EventKind::Wake { task, by, remote } => {
                    let kind = MarkKind::Wake {
                        by: *by,
                        remote: *remote,
                    };
                    timeline.mark(at, *task, kind);
                }
                EventKind::TimerFired { task } => {
                    timeline.mark(at, task.unwrap_or(RUNTIME_TRACK), MarkKind::TimerFired);
                }
                EventKind::Io {
                    task,
                    readable,
                    writable,
                } => {
                    let kind = MarkKind::Io {
                        readable: *readable,
                        writable: *writable,
                    };
                    timeline.mark(at, task.unwrap_or(RUNTIME_TRACK), kind);
                }
                EventKind::Park => {
                    parked_since.get_or_insert(at);
                }
                EventKind::Unpark => {
                    if let Some(start) = parked_since.take() {
                        timeline.parks.push((start, at));
                    }
                }
            }
        }
        let end = timeline.end;
        for (task, start) in open_polls {
            timeline.close_poll(task, start, end, PollEnd::Unfinished);
        }
        if let Some(start) = parked_since {
            timeline.parks.push((start, end));
        }
        timeline.polls.sort_by_key(|poll| (poll.start, poll.task));
        timeline
    }

    /// Gives `task` a row if it has none yet.
    fn note_task(&mut self, rows: &mut BTreeMap<u64, usize>, task: u64) {
        rows.entry(task).or_insert_with(|| {
            self.tasks.push(TaskRow {
                id: task,
                name: None,
            });
            self.tasks.len() - 1
        });
    }

    fn close_poll(&mut self, task: u64, start: u64, end: u64, outcome: PollEnd) {
        self.polls.push(PollSpan {
            task,
            start,
            end,
            outcome,
        });
    }

    fn mark(&mut self, at: u64, task: u64, kind: MarkKind) {
        self.marks.push(Mark { at, task, kind });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(at_ns: u64, kind: EventKind) -> TraceEvent {
        TraceEvent { at_ns, kind }
    }

    #[test]
    fn pairs_polls_and_closes_the_odd_ones() {
        let events = [
            at(
                50,
                EventKind::PollEnd {
                    task: 9,
                    ready: true,
                },
            ), // no start: dropped
            at(10, EventKind::PollStart { task: 1 }),
            at(
                0,
                EventKind::Spawned {
                    task: 1,
                    name: Some("a".into()),
                },
            ),
            at(
                20,
                EventKind::PollEnd {
                    task: 1,
                    ready: false,
                },
            ),
            at(30, EventKind::PollStart { task: 2 }),
            at(40, EventKind::PollStart { task: 2 }), // closes the first
            at(45, EventKind::Park),
            at(
                100,
                EventKind::Wake {
                    task: 1,
                    by: None,
                    remote: true,
                },
            ),
        ];
        let timeline = Timeline::build(&events);
        let rows: Vec<String> = timeline.tasks.iter().map(TaskRow::label).collect();
        assert_eq!(rows, ["#1 a", "#2", "#9"]);
        let polls: Vec<(u64, u64, u64, PollEnd)> = timeline
            .polls
            .iter()
            .map(|p| (p.task, p.start, p.end, p.outcome))
            .collect();
        assert_eq!(
            polls,
            [
                (1, 10, 20, PollEnd::Pending),
                (2, 30, 40, PollEnd::Unfinished),
                (2, 40, 100, PollEnd::Unfinished),
            ]
        );
        assert_eq!(timeline.parks, [(45, 100)]);
        assert_eq!((timeline.start, timeline.end), (0, 100));
        assert_eq!(timeline.marks.len(), 2);
    }

    #[test]
    fn an_empty_trace_has_nothing() {
        let timeline = Timeline::build(&[]);
        assert!(timeline.tasks.is_empty() && timeline.polls.is_empty());
        assert_eq!((timeline.start, timeline.end), (0, 0));
    }
}
