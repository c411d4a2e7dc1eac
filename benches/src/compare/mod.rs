//! The compare binary's logic: run the whole matrix and print one Markdown
//! report.
//!
//! The report has three tables:
//!
//! 1. **Time**, in process or a fresh process per run (`rows.rs`,
//!    `matrix.rs`): every workload on weft, tokio, smol and the floor,
//!    plus the two mixed cells of the 2×2 matrix for the primitive
//!    workloads; nanoseconds per operation, medians, weft / tokio and
//!    weft / floor. A spread table (min – max of the runs) follows it, and
//!    the I/O rows' system calls per operation (`syscalls.rs`).
//! 2. **Timers and memory**, in child processes (`timers.rs`): overhead and
//!    peak RSS of many sleeping tasks; heap left after a million
//!    timeouts.
//! 3. **TCP echo**, server in a child process (`echo/`): requests per
//!    second, server CPU per request, system calls per request, bulk
//!    throughput, against one fixed load client of plain threads.
//!
//! The time table has a **floor** column (`crate::floor`): the same work
//! with no runtime at all, and weft / floor beside weft / tokio.
//!
//! Options: `--quick` (small sizes and 2 runs, for CI), `--long` or
//! `--scale N` (N × the rounds of every in-process row; `--long` is 10),
//! `--fresh` (every run of every cell in a fresh child process, interleaved
//! across the columns), `--runs N`, `--only NAME` (repeatable; runs the
//! rows whose name contains NAME, and `timers` / `tcp_echo` select those
//! sections), `--column NAME` (repeatable; `weft`, `tokio`, `smol`,
//! `floor`, `weft-rt`, `tokio-rt`: only those cells of the time table, to
//! profile one of them), `--help` (the options and every row's size at the
//! default and the long scale).

use std::process::ExitCode;
use std::time::Duration;

use crate::report::{machine, today};
use crate::server_child::SERVE_FLAG;
use crate::workloads::Sizes;

#[macro_use]
mod cells;
mod child;
mod echo;
mod matrix;
mod rows;
mod run_child;
mod syscalls;
mod timers;

pub use run_child::CHILD_FLAG;

/// What to run and how often.
///
/// ```
/// use weft_benches::compare::Options;
///
/// let options = Options::parse(["--quick", "--only", "spawn"].map(String::from)).unwrap();
/// assert!(options.quick);
/// assert_eq!(options.only, vec!["spawn".to_owned()]);
/// assert!(Options::parse(["--runs", "zero"].map(String::from)).is_err());
///
/// let long = Options::parse(["--long", "--fresh", "--runs", "9"].map(String::from)).unwrap();
/// assert_eq!((long.scale, long.fresh, long.runs), (10, true, 9));
/// assert_eq!(long.sizes.semaphore_rounds, 1_000);
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    /// Small sizes, for CI.
    pub quick: bool,
    /// The rounds of every in-process row are multiplied by this (1 by
    /// default, 10 with `--long`).
    pub scale: u64,
    /// Every run of an in-process cell in a fresh child process.
    pub fresh: bool,
    /// Print the options and the sizes, run nothing.
    pub help: bool,
    /// Workload sizes (already scaled).
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
        let mut scale = 1;
        let mut fresh = false;
        let mut help = false;
        let mut runs = None;
        let mut only = Vec::new();
        let mut columns = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => quick = true,
                "--long" => scale = LONG_SCALE,
                "--scale" => scale = positive(args.next(), "--scale")?,
                "--fresh" => fresh = true,
                "--help" | "-h" => help = true,
                "--runs" => runs = Some(positive(args.next(), "--runs")?),
                "--only" => only.push(args.next().ok_or("--only needs a name")?),
                "--column" => columns.push(args.next().ok_or("--column needs a name")?),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(Self {
            quick,
            scale,
            fresh,
            help,
            sizes: base_sizes(quick).scaled(scale),
            runs: runs.unwrap_or(if quick { 2 } else { 7 }),
            run_limit: Duration::from_secs(if quick { 60 } else { 120 } * scale),
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

/// The scale `--long` stands for.
pub const LONG_SCALE: u64 = 10;

/// The unscaled sizes: quick or full.
fn base_sizes(quick: bool) -> Sizes {
    if quick {
        Sizes::quick()
    } else {
        Sizes::full()
    }
}

/// The next argument of `flag` as a positive number.
fn positive<T: std::str::FromStr + PartialOrd + Default>(
    arg: Option<String>,
    flag: &str,
) -> Result<T, String> {
    let arg = arg.ok_or_else(|| format!("{flag} needs a number"))?;
    arg.parse::<T>()
        .ok()
        .filter(|n| *n > T::default())
        .ok_or_else(|| format!("{flag} needs a positive number, not {arg:?}"))
}

const USAGE: &str = "usage: compare [--quick] [--long | --scale N] [--fresh] [--runs N] \
                     [--only NAME]... [--column NAME]... [--help]";

/// `--help`: the options, then every row's shape at the default and the
/// long scale.
fn help() -> String {
    let mut out = format!(
        "{USAGE}\n\n\
         --quick        small sizes and 2 runs: proves every row runs and verifies (CI)\n\
         --long         {LONG_SCALE} x the rounds of every in-process row (same as --scale {LONG_SCALE})\n\
         --scale N      N x the rounds (tasks, waiters, permits and capacities stay)\n\
         --fresh        every run of every cell in a fresh child process, interleaved\n\
         \x20              across the columns (weft, tokio, smol, floor, weft, ...)\n\
         --runs N       counted runs per cell (default 7, quick 2); medians, min and max\n\
         --only NAME    rows or sections whose name contains NAME (repeatable)\n\
         --column NAME  weft, tokio, smol, floor, weft-rt, tokio-rt (repeatable)\n"
    );
    for (label, sizes) in [
        ("default", Sizes::full()),
        ("--long", Sizes::full().scaled(LONG_SCALE)),
    ] {
        out.push_str(&format!("\nrow sizes, {label}:\n"));
        for (name, shape) in rows::shapes(&sizes) {
            out.push_str(&format!("  {name:<28} {shape}\n"));
        }
    }
    out
}

/// Runs the compare binary with the command-line arguments `args` (without
/// the program name): either a child request or the whole report.
pub fn main(args: Vec<String>) -> ExitCode {
    match args.first().map(String::as_str) {
        Some(CHILD_FLAG) => return child::child_main(&args[1..]),
        Some(SERVE_FLAG) => return child::serve_main(&args[1..]),
        _ => {}
    }
    let options = match Options::parse(args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    if options.help {
        print!("{}", help());
        return ExitCode::SUCCESS;
    }
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
        "## weft vs tokio{}{}\n\n{} · {} · {} build · median of {} runs per cell {}{}\n\n",
        if options.quick { " (quick sizes)" } else { "" },
        if options.scale > 1 {
            format!(" ({} × the rounds)", options.scale)
        } else {
            String::new()
        },
        today(),
        machine(),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        options.runs,
        if options.fresh {
            "of the time table, each in a fresh process, interleaved across the columns"
        } else {
            "after one warm-up, interleaved across the columns"
        },
        if options.quick {
            " · quick: proves every workload runs and verifies, not for reading"
        } else {
            ""
        },
    );
    let (time, spread) = matrix::time_tables(options)?;
    if !time.is_empty() {
        out.push_str(if options.fresh {
            "### Time (a fresh process per run)\n\n"
        } else {
            "### Time (in process)\n\n"
        });
        out.push_str(&time.to_markdown());
        out.push_str("\n#### Spread of the runs: min – max, same units\n\n");
        out.push_str(&spread.to_markdown());
    }
    if syscalls::IO_ROWS.iter().any(|row| options.selects(row)) && options.selects_column("weft") {
        out.push_str(
            "\n### System calls per operation of the I/O rows (strace, outside the timed runs)\n\n",
        );
        out.push_str(&syscalls::syscall_table(options)?.to_markdown());
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
