//! A picture of the schedule: the events a runtime goes through, and two
//! writers that turn them into something to look at.
//!
//! ```text
//!   runtime hooks ──record()──▶ Recorder ──finish()──▶ Trace ──chrome_json()──▶ Perfetto, chrome://tracing
//!   (one Vec push per event)                               └───svg()──────────▶ a browser, a README
//! ```
//!
//! * [`TraceEvent`]: what happened ([`EventKind`]: a task spawned, a poll
//!   started or ended, a wake-up and who caused it, a timer fired, an I/O
//!   event, the runtime parked or unparked) and when, in nanoseconds from
//!   the start of the recording.
//! * [`Recorder`]: the sink the runtime pushes events into. Recording an
//!   event stamps it and appends it to a `Vec`; nothing is formatted or
//!   sorted until the trace is written.
//! * [`Trace`]: a finished recording, and its writers:
//!   [`chrome_json`](Trace::chrome_json), the trace-event format that
//!   Perfetto and `chrome://tracing` open (one track per task, a slice per
//!   poll, instants for wake-ups, timers and I/O), and
//!   [`svg`](Trace::svg), a self-contained timeline (a row per task, a bar
//!   per poll, a mark per wake-up, a time axis) that needs no tool at all.
//!
//! Both writers read the events through one reconstruction (`timeline.rs`)
//! that pairs poll starts with poll ends, so they agree on what a poll was.
//! It is forgiving: events are put in time order first, a poll still open
//! when the trace ends (a task that never returned, a recording stopped
//! mid-poll) is closed at the last timestamp and marked unfinished, a
//! second start without an end closes the first poll, and an end without a
//! start is dropped. Task names are escaped for JSON and for SVG, and an
//! empty trace gives a valid, empty document in both formats.
//!
//! Task ids are the numbers the runtime shows for its `TaskId`s (as their
//! `Display` prints them); 0 is not a task id, and the writers use it for
//! the runtime's own track (parks, and timers or I/O events not tied to a
//! task).
//!
//! ```
//! use weft_runtime::sim::trace::{EventKind, Recorder};
//!
//! let mut recorder = Recorder::steps();
//! recorder.record(EventKind::Spawned { task: 1, name: Some("worker".into()) });
//! recorder.record(EventKind::PollStart { task: 1 });
//! recorder.record(EventKind::Wake { task: 1, by: Some(1), remote: false });
//! recorder.record(EventKind::PollEnd { task: 1, ready: false });
//! let trace = recorder.finish();
//! assert!(trace.chrome_json().starts_with("{\"traceEvents\":["));
//! assert!(trace.svg().contains("#1 worker"));
//! ```

mod chrome;
mod recorder;
mod svg;
mod timeline;

use std::sync::Arc;

pub use recorder::Recorder;

/// One thing the runtime did, and when.
///
/// ```
/// use weft_runtime::sim::trace::{EventKind, TraceEvent};
///
/// let event = TraceEvent { at_ns: 1_500, kind: EventKind::PollStart { task: 3 } };
/// assert_eq!(event.kind.task(), Some(3));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEvent {
    /// Nanoseconds since the recording started.
    pub at_ns: u64,
    /// What happened.
    pub kind: EventKind,
}

/// What a [`TraceEvent`] records. Task ids are the runtime's task numbers
/// (never 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A task was spawned; `name` is the one given to `spawn_named`.
    Spawned {
        /// The new task.
        task: u64,
        /// Its name, if it was given one.
        name: Option<Arc<str>>,
    },
    /// The runtime started polling `task`.
    PollStart {
        /// The task being polled.
        task: u64,
    },
    /// The poll of `task` returned: `ready` if the task finished.
    PollEnd {
        /// The task that was polled.
        task: u64,
        /// `true` if the poll returned `Ready` (the task is done).
        ready: bool,
    },
    /// `task` was woken: by the task `by` (if the waker ran inside a poll),
    /// from another thread if `remote`.
    Wake {
        /// The task that was woken.
        task: u64,
        /// The task whose poll called the waker, when known.
        by: Option<u64>,
        /// `true` if the waker was called from another thread.
        remote: bool,
    },
    /// A timer fired, waking `task` if known.
    TimerFired {
        /// The task the timer belongs to, when known.
        task: Option<u64>,
    },
    /// The reactor reported readiness, waking `task` if known.
    Io {
        /// The task waiting on the source, when known.
        task: Option<u64>,
        /// The source became readable.
        readable: bool,
        /// The source became writable.
        writable: bool,
    },
    /// The runtime had nothing to run and went to sleep (or, on a paused
    /// clock, jumped to the next timer).
    Park,
    /// The runtime woke up.
    Unpark,
}

impl EventKind {
    /// The task the event is about, if any.
    pub fn task(&self) -> Option<u64> {
        match self {
            EventKind::Spawned { task, .. }
            | EventKind::PollStart { task }
            | EventKind::PollEnd { task, .. }
            | EventKind::Wake { task, .. } => Some(*task),
            EventKind::TimerFired { task } | EventKind::Io { task, .. } => *task,
            EventKind::Park | EventKind::Unpark => None,
        }
    }
}

/// A finished recording: events in the order they were recorded, and the
/// writers that draw them.
///
/// ```
/// use weft_runtime::sim::trace::{EventKind, Trace, TraceEvent};
///
/// let trace = Trace::from_events(vec![
///     TraceEvent { at_ns: 0, kind: EventKind::PollStart { task: 1 } },
///     TraceEvent { at_ns: 800, kind: EventKind::PollEnd { task: 1, ready: true } },
/// ]);
/// assert_eq!(trace.events().len(), 2);
/// assert!(trace.svg().starts_with("<svg"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    events: Vec<TraceEvent>,
}

impl Trace {
    /// A trace of `events`, in any order (the writers sort them by time).
    pub fn from_events(events: Vec<TraceEvent>) -> Self {
        Self { events }
    }

    /// The events, as recorded.
    pub fn events(&self) -> &[TraceEvent] {
        &self.events
    }

    /// The trace as Chrome trace-event JSON (`{"traceEvents": [...]}`), for
    /// Perfetto (<https://ui.perfetto.dev>) or `chrome://tracing`: a track
    /// per task named `#id name`, a `poll` slice (`B`/`E`) per poll, and
    /// instants for spawns, wake-ups, timers and I/O events; the runtime's
    /// own track (tid 0) shows when it parked.
    pub fn chrome_json(&self) -> String {
        chrome::write(&timeline::Timeline::build(&self.events))
    }

    /// The trace as a self-contained SVG timeline: a row per task labelled
    /// `#id name`, a bar per poll (blue: returned `Pending`, green: finished,
    /// orange: still running when the trace ended), a red mark per local
    /// wake-up and a purple one per remote wake-up, grey bands while the
    /// runtime was parked, and a time axis. Hovering a bar or a mark shows
    /// its details.
    pub fn svg(&self) -> String {
        svg::write(&timeline::Timeline::build(&self.events))
    }
}
