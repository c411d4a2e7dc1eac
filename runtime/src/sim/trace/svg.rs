//! The SVG writer: a timeline to look at in any browser, with no tool and
//! no script.
//!
//! ```text
//!              0        1 ms        2 ms        3 ms      ◀── time axis, "nice" steps
//!   runtime   ░░░░░░░░░            ░░░░░░                 ◀── grey: parked
//!   #1 main   ██         ▼██                   ██
//!   #2 worker    ███▼          ██                         ◀── a bar per poll, ▼ a wake-up
//! ```
//!
//! Time runs left to right over a fixed plot width; a poll shorter than a
//! pixel is still drawn one pixel wide, so none disappears. Each task row
//! is a `<g class="task">` (the runtime's row is `<g class="runtime">`),
//! and every bar and mark carries a `<title>`, which browsers show as a
//! tooltip. Text is escaped for XML, and long names are shortened in the
//! label (the tooltip keeps them whole).

use std::fmt::Write;

use super::timeline::{MarkKind, PollEnd, Timeline, RUNTIME_TRACK};

const LABEL_WIDTH: f64 = 190.0;
const PLOT_WIDTH: f64 = 1000.0;
const RIGHT_MARGIN: f64 = 20.0;
const AXIS_HEIGHT: f64 = 34.0;
const ROW_HEIGHT: f64 = 22.0;
/// The strip under the rows that explains the colours.
const LEGEND_HEIGHT: f64 = 24.0;
const BAR_HEIGHT: f64 = 14.0;
/// About how many ticks the axis gets.
const TICKS: u64 = 8;
/// Longer labels are cut, with an ellipsis.
const LABEL_CHARS: usize = 24;

const STYLE: &str = "text{font-family:monospace;font-size:12px;fill:#222}\
.lane{fill:#f6f6f6}.axis{stroke:#999;stroke-width:1}\
.pending{fill:#3b7dd8}.ready{fill:#2e9a4b}.unfinished{fill:#e59b22}\
.parked{fill:#d9d9d9}.wake{fill:#d33}.remote{fill:#8e3bc4}.other{fill:#555}";

pub(super) fn write(timeline: &Timeline) -> String {
    let rows = timeline.tasks.len() + 1; // the runtime's row first
    let width = LABEL_WIDTH + PLOT_WIDTH + RIGHT_MARGIN;
    let height = AXIS_HEIGHT + rows as f64 * ROW_HEIGHT + LEGEND_HEIGHT;
    let scale = Scale::new(timeline.start, timeline.end);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\">\n<style>{STYLE}</style>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    axis(&mut svg, &scale, height);
    if timeline.tasks.is_empty() && timeline.polls.is_empty() && timeline.parks.is_empty() {
        let _ = writeln!(
            svg,
            "<text x=\"{LABEL_WIDTH}\" y=\"{}\">empty trace</text>",
            AXIS_HEIGHT + 15.0
        );
    }

    // The runtime's row: parked stretches, and marks not tied to a task.
    open_row(&mut svg, "runtime", RUNTIME_TRACK, "runtime", 0);
    for &(start, end) in &timeline.parks {
        let title = format!("parked for {}", format_ns(end - start));
        bar(&mut svg, &scale, 0, start, end, "parked", &title);
    }
    marks(&mut svg, &scale, timeline, RUNTIME_TRACK, 0);
    svg.push_str("</g>\n");

    for (index, task) in timeline.tasks.iter().enumerate() {
        let row = index + 1;
        let label = task.label();
        open_row(&mut svg, "task", task.id, &label, row);
        for poll in timeline.polls.iter().filter(|p| p.task == task.id) {
            let class = match poll.outcome {
                PollEnd::Pending => "pending",
                PollEnd::Ready => "ready",
                PollEnd::Unfinished => "unfinished",
            };
            let title = format!(
                "{label}: poll at {}, {}, {}",
                format_ns(poll.start - timeline.start),
                format_ns(poll.end - poll.start),
                poll.outcome.as_str()
            );
            bar(&mut svg, &scale, row, poll.start, poll.end, class, &title);
        }
        marks(&mut svg, &scale, timeline, task.id, row);
        svg.push_str("</g>\n");
    }
    legend(&mut svg, height - LEGEND_HEIGHT / 2.0);
    svg.push_str("</svg>\n");
    svg
}

/// Maps timestamps onto the plot's x coordinates.
struct Scale {
    start: u64,
    span: u64,
}

impl Scale {
    fn new(start: u64, end: u64) -> Self {
        Self {
            start,
            span: (end - start).max(1),
        }
    }

    fn x(&self, at: u64) -> f64 {
        LABEL_WIDTH + (at - self.start) as f64 / self.span as f64 * PLOT_WIDTH
    }
}

fn row_top(row: usize) -> f64 {
    AXIS_HEIGHT + row as f64 * ROW_HEIGHT
}

/// Ticks at a 1, 2 or 5 times a power of ten step, labelled from the
/// trace's start, with a faint line down through every row.
fn axis(svg: &mut String, scale: &Scale, height: f64) {
    let raw_step = scale.span.div_ceil(TICKS).max(1);
    let mut magnitude = 1u64;
    while magnitude.saturating_mul(10) <= raw_step {
        magnitude *= 10;
    }
    let step = [1, 2, 5, 10]
        .iter()
        .map(|m| magnitude.saturating_mul(*m))
        .find(|&s| s >= raw_step)
        .unwrap_or(raw_step);
    let bottom = height - LEGEND_HEIGHT;
    let mut offset = 0u64;
    while offset <= scale.span {
        let x = scale.x(scale.start + offset);
        let _ = writeln!(
            svg,
            "<line class=\"axis\" x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{bottom}\" \
             stroke-opacity=\"0.3\"/><text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            AXIS_HEIGHT - 6.0,
            AXIS_HEIGHT - 10.0,
            format_ns(offset)
        );
        offset = match offset.checked_add(step) {
            Some(next) => next,
            None => break,
        };
    }
}

/// Opens a row's group: its background lane and its label.
fn open_row(svg: &mut String, class: &str, id: u64, label: &str, row: usize) {
    let top = row_top(row);
    let shown = if label.chars().count() > LABEL_CHARS {
        let cut: String = label.chars().take(LABEL_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        label.to_string()
    };
    let _ = writeln!(
        svg,
        "<g class=\"{class}\" data-id=\"{id}\"><title>{}</title>\
         <rect class=\"lane\" x=\"{LABEL_WIDTH}\" y=\"{top}\" width=\"{PLOT_WIDTH}\" height=\"{}\"/>\
         <text x=\"6\" y=\"{}\">{}</text>",
        escape(label),
        ROW_HEIGHT - 2.0,
        top + ROW_HEIGHT / 2.0 + 4.0,
        escape(&shown)
    );
}

fn bar(
    svg: &mut String,
    scale: &Scale,
    row: usize,
    start: u64,
    end: u64,
    class: &str,
    title: &str,
) {
    let x = scale.x(start);
    let width = (scale.x(end) - x).max(1.0);
    let y = row_top(row) + (ROW_HEIGHT - 2.0 - BAR_HEIGHT) / 2.0;
    let _ = writeln!(
        svg,
        "<rect class=\"{class}\" x=\"{x:.2}\" y=\"{y}\" width=\"{width:.2}\" height=\"{BAR_HEIGHT}\">\
         <title>{}</title></rect>",
        escape(title)
    );
}

/// The marks of one row: a triangle above the bar per wake-up, a dot below
/// it per timer, I/O event or spawn.
fn marks(svg: &mut String, scale: &Scale, timeline: &Timeline, track: u64, row: usize) {
    let top = row_top(row);
    for mark in timeline.marks.iter().filter(|m| m.task == track) {
        let x = scale.x(mark.at);
        let when = format_ns(mark.at - timeline.start);
        let (element, attributes, title) = match mark.kind {
            MarkKind::Wake { by, remote } => {
                let by = by.map_or_else(String::new, |by| format!(" by #{by}"));
                let class = if remote { "remote" } else { "wake" };
                let points = format!(
                    "class=\"{class}\" points=\"{:.1},{top} {:.1},{top} {x:.1},{}\"",
                    x - 4.0,
                    x + 4.0,
                    top + 6.0
                );
                let title = format!("{} at {when}{by}", mark.kind.name());
                ("polygon", points, title)
            }
            MarkKind::Spawned | MarkKind::TimerFired | MarkKind::Io { .. } => {
                let dot = format!(
                    "class=\"other\" cx=\"{x:.1}\" cy=\"{}\" r=\"2\"",
                    top + ROW_HEIGHT - 4.0
                );
                ("circle", dot, format!("{} at {when}", mark.kind.name()))
            }
        };
        let _ = writeln!(
            svg,
            "<{element} {attributes}><title>{}</title></{element}>",
            escape(&title)
        );
    }
}

/// A line of swatches naming the classes, centred on `y`.
fn legend(svg: &mut String, y: f64) {
    let entries = [
        ("pending", "poll returned Pending"),
        ("ready", "poll finished the task"),
        ("unfinished", "poll never ended"),
        ("wake", "wake-up"),
        ("remote", "remote wake-up"),
        ("other", "spawn, timer, I/O"),
        ("parked", "runtime parked"),
    ];
    let mut x = 6.0;
    svg.push_str("<g class=\"legend\">");
    for (class, text) in entries {
        let _ = write!(
            svg,
            "<rect class=\"swatch {class}\" x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\"/>\
             <text x=\"{}\" y=\"{}\">{text}</text>",
            y - 5.0,
            x + 14.0,
            y + 4.0
        );
        x += 14.0 + 7.5 * text.len() as f64 + 16.0;
    }
    svg.push_str("</g>\n");
}

/// A duration in the largest unit that keeps it at or above 1, with up to
/// three decimals: `0`, `750 ns`, `1.5 µs`, `2 ms`, `61.25 s`.
fn format_ns(ns: u64) -> String {
    let (unit, per) = match ns {
        0 => return "0".to_string(),
        1_000_000_000.. => ("s", 1_000_000_000),
        1_000_000.. => ("ms", 1_000_000),
        1_000.. => ("µs", 1_000),
        _ => ("ns", 1),
    };
    let whole = ns / per;
    let thousandths = (ns % per) * 1_000 / per;
    if thousandths == 0 {
        format!("{whole} {unit}")
    } else {
        let decimals = format!("{thousandths:03}");
        format!("{whole}.{} {unit}", decimals.trim_end_matches('0'))
    }
}

/// `s` with XML's five special characters escaped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(format_ns(0), "0");
        assert_eq!(format_ns(750), "750 ns");
        assert_eq!(format_ns(1_500), "1.5 µs");
        assert_eq!(format_ns(2_000_000), "2 ms");
        assert_eq!(format_ns(61_250_000_000), "61.25 s");
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(escape("<a & 'b'>\""), "&lt;a &amp; &apos;b&apos;&gt;&quot;");
    }

    #[test]
    fn an_empty_trace_is_a_valid_picture() {
        let svg = write(&Timeline::default());
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("empty trace"));
        assert_eq!(svg.matches("<g class=\"task\"").count(), 0);
    }
}
