//! The Chrome trace-event writer: the JSON that Perfetto and
//! `chrome://tracing` open.
//!
//! The format is an object with a `traceEvents` array; each element is one
//! event with a phase `ph`:
//!
//! ```text
//!   "M"  metadata: names the process and each track (tid) and orders them
//!   "B"  a slice begins on a track at ts     (a poll, or the runtime parked)
//!   "E"  the slice that began last on that track ends at ts
//!   "i"  an instant on a track ("s":"t": drawn on that thread's track)
//! ```
//!
//! Timestamps (`ts`) are microseconds; they are written with three decimals
//! so that nanoseconds survive. Every task is a track whose tid is its id,
//! named `#id name`; tid 0 is the runtime's own track. Each poll is written
//! as a `B` immediately followed by its `E`, so every begin has its end and
//! slices on one track never overlap. Strings are escaped by hand (quote,
//! backslash, control characters), which is all JSON asks of a string.

use std::fmt::Write;

use super::timeline::{MarkKind, Timeline, RUNTIME_TRACK};

/// The one process every track belongs to.
const PID: u32 = 1;

pub(super) fn write(timeline: &Timeline) -> String {
    let mut out = Events::default();
    out.metadata("process_name", RUNTIME_TRACK, "weft runtime");
    out.metadata("thread_name", RUNTIME_TRACK, "runtime");
    out.sort_index(RUNTIME_TRACK, 0);
    for (index, task) in timeline.tasks.iter().enumerate() {
        out.metadata("thread_name", task.id, &task.label());
        out.sort_index(task.id, index + 1);
    }
    for &(start, end) in &timeline.parks {
        out.slice("parked", "runtime", RUNTIME_TRACK, start, end, "");
    }
    for poll in &timeline.polls {
        let args = format!("\"outcome\":\"{}\"", poll.outcome.as_str());
        out.slice("poll", "poll", poll.task, poll.start, poll.end, &args);
    }
    for mark in &timeline.marks {
        let args = match mark.kind {
            MarkKind::Wake { by: Some(by), .. } => format!("\"by\":{by}"),
            MarkKind::Io { readable, writable } => {
                format!("\"readable\":{readable},\"writable\":{writable}")
            }
            MarkKind::Spawned | MarkKind::Wake { by: None, .. } | MarkKind::TimerFired => {
                String::new()
            }
        };
        out.instant(mark.kind.name(), mark.task, mark.at, &args);
    }
    out.finish()
}

/// The `traceEvents` array being written, one object per line.
#[derive(Default)]
struct Events {
    body: String,
}

impl Events {
    /// Starts the next element: `{"name":...,"ph":...,"pid":1,"tid":...`,
    /// left open for more fields.
    fn open(&mut self, name: &str, phase: char, tid: u64) {
        self.body
            .push_str(if self.body.is_empty() { "\n" } else { ",\n" });
        self.body.push_str("{\"name\":");
        push_string(&mut self.body, name);
        // Writing to a String cannot fail.
        let _ = write!(self.body, ",\"ph\":\"{phase}\",\"pid\":{PID},\"tid\":{tid}");
    }

    fn close(&mut self, args: &str) {
        if !args.is_empty() {
            let _ = write!(self.body, ",\"args\":{{{args}}}");
        }
        self.body.push('}');
    }

    fn metadata(&mut self, kind: &str, tid: u64, name: &str) {
        self.open(kind, 'M', tid);
        self.body.push_str(",\"args\":{\"name\":");
        push_string(&mut self.body, name);
        self.body.push_str("}}");
    }

    fn sort_index(&mut self, tid: u64, index: usize) {
        self.open("thread_sort_index", 'M', tid);
        self.close(&format!("\"sort_index\":{index}"));
    }

    /// A `B` at `start` and its `E` at `end`, the `E` carrying `args`.
    fn slice(&mut self, name: &str, category: &str, tid: u64, start: u64, end: u64, args: &str) {
        self.open(name, 'B', tid);
        self.stamp(category, start);
        self.close("");
        self.open(name, 'E', tid);
        self.stamp(category, end);
        self.close(args);
    }

    fn instant(&mut self, name: &str, tid: u64, at: u64, args: &str) {
        self.open(name, 'i', tid);
        self.body.push_str(",\"s\":\"t\"");
        self.stamp(name, at);
        self.close(args);
    }

    /// `,"cat":...,"ts":µs.nnn`.
    fn stamp(&mut self, category: &str, at_ns: u64) {
        self.body.push_str(",\"cat\":");
        push_string(&mut self.body, category);
        let _ = write!(self.body, ",\"ts\":{}.{:03}", at_ns / 1_000, at_ns % 1_000);
    }

    fn finish(self) -> String {
        format!(
            "{{\"traceEvents\":[{}\n],\"displayTimeUnit\":\"ns\"}}\n",
            self.body
        )
    }
}

/// Appends `s` as a JSON string literal.
fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let mut out = String::new();
        push_string(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
    }

    #[test]
    fn an_empty_trace_is_an_array_of_metadata() {
        let json = write(&Timeline::default());
        assert!(json.starts_with("{\"traceEvents\":[\n{\"name\":\"process_name\""));
        assert!(json.ends_with("\n],\"displayTimeUnit\":\"ns\"}\n"));
        assert!(!json.contains("\"ph\":\"B\""));
    }
}
