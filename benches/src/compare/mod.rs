//! The compare binary's logic: run the whole matrix and print one Markdown
//! report.
//!
//! The report has three tables:
//!
//! 1. **Time**, in process (`matrix.rs`): every workload on weft, tokio and
//!    smol, plus the two mixed cells of the 2×2 matrix for the primitive
//!    workloads; nanoseconds per operation, medians, and weft / tokio.
//! 2. **Timers and memory**, in child processes (`timers.rs`): overhead and
//!    peak RSS of many sleeping tasks; heap left after a million
//!    timeouts.
//! 3. **TCP echo**, server in a child process (`echo/`): requests per
//!    second, server CPU per request, system calls per request, bulk
//!    throughput, against one fixed load client of plain threads.
//!
//! Options: `--quick` (small sizes and 2 runs, for CI), `--runs N`,
//! `--only NAME` (repeatable; runs the rows whose name contains NAME, and
//! `timers` / `tcp_echo` select those sections), `--column NAME`
//! (repeatable; `weft`, `tokio`, `smol`, `weft-rt`, `tokio-rt`: only those
//! cells of the time table, to profile one of them).

use std::process::ExitCode;
use std::time::Duration;

use crate::report::{machine, today};
use crate::workloads::Sizes;

mod child;
mod echo;
mod matrix;
mod timers;

pub use child::CHILD_FLAG;

/// What to run and how often.
///
/// ```
/// use weft_benches::compare::Options;
///
/// let options = Options::parse(["--quick", "--only", "spawn"].map(String::from)).unwrap();
/// assert!(options.quick);
/// assert_eq!(options.only, vec!["spawn".to_owned()]);
/// assert!(Options::parse(["--runs", "zero"].map(String::from)).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    /// Small sizes, for CI.
    pub quick: bool,
    /// Workload sizes.
    pub sizes: Sizes,
    /// Counted runs per cell (after one warm-up).
    pub runs: usize,
    /// The longest any single run may take before the process gives up.
    pub run_limit: Duration,
    /// Only rows and sections whose name contains one of these (all if
    /// empty).
    pub only: Vec<String>,
    /// Only these columns of the time table (all if empty): `weft`,
    /// `tokio`, `smol`, `weft-rt`, `tokio-rt`. For profiling one cell.
    pub columns: Vec<String>,
}

impl Options {
    /// Parses the command line (without the program name).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut quick = false;
        let mut runs = None;
        let mut only = Vec::new();
        let mut columns = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => quick = true,
                "--runs" => {
                    let n = args.next().ok_or("--runs needs a number")?;
                    runs = Some(
                        n.parse::<usize>()
                            .ok()
                            .filter(|&n| n > 0)
                            .ok_or_else(|| format!("--runs needs a positive number, not {n:?}"))?,
                    );
                }
                "--only" => only.push(args.next().ok_or("--only needs a name")?),
                "--column" => columns.push(args.next().ok_or("--column needs a name")?),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(Self {
            quick,
            sizes: if quick { Sizes::quick() } else { Sizes::full() },
            runs: runs.unwrap_or(if quick { 2 } else { 7 }),
            run_limit: Duration::from_secs(if quick { 60 } else { 120 }),
            only,
            columns,
        })
    }

    /// Whether the row or section `name` is selected.
    fn selects(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|only| name.contains(only.as_str()))
    }

    /// Whether the time table's column `name` is selected.
    fn selects_column(&self, name: &str) -> bool {
        self.columns.is_empty() || self.columns.iter().any(|column| column == name)
    }
}

/// Runs the compare binary with the command-line arguments `args` (without
/// the program name): either a child request or the whole report.
pub fn main(args: Vec<String>) -> ExitCode {
    if args.first().map(String::as_str) == Some(CHILD_FLAG) {
        return child::child_main(&args[1..]);
    }
    let options = match Options::parse(args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            eprintln!("usage: compare [--quick] [--runs N] [--only NAME]... [--column NAME]...");
            return ExitCode::from(2);
        }
    };
    match report(&options) {
        Ok(markdown) => {
            print!("{markdown}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the selected sections and returns the Markdown report.
fn report(options: &Options) -> Result<String, String> {
    let mut out = format!(
        "## weft vs tokio{}\n\n{} · {} · {} build · median of {} runs per cell after one warm-up{}\n\n",
        if options.quick { " (quick sizes)" } else { "" },
        today(),
        machine(),
        if cfg!(debug_assertions) { "debug" } else { "release" },
        options.runs,
        if options.quick { " · quick: proves every workload runs and verifies, not for reading" } else { "" },
    );
    let time = matrix::time_table(options)
        .map_err(|(row, mismatch)| format!("{row} computed a wrong answer: {mismatch}"))?;
    if !time.is_empty() {
        out.push_str("### Time (in process)\n\n");
        out.push_str(&time.to_markdown());
    }
    if options.selects("timers") {
        out.push_str("\n### Timers and memory (a child process per run)\n\n");
        out.push_str(&timers::timer_table(options)?.to_markdown());
    }
    if options.selects("tcp_echo") {
        out.push_str("\n### TCP echo (server in a child process, fixed load client)\n\n");
        out.push_str(&echo::echo_table(options)?.to_markdown());
    }
    Ok(out)
}
