//! The timer rows measured in child processes: overhead and peak RSS of N
//! sleeping tasks, and the heap left behind by N finished timeouts.
//!
//! Timers: each child runs the [`timers`](crate::workloads::timers)
//! workload once and reports its overhead and its peak resident set; the
//! parent starts `runs` children per runtime, interleaved, and takes
//! medians. One more child per runtime runs with no tasks, for the
//! baseline a runtime costs before any timer.
//!
//! Timeouts: one child per runtime counts its live heap (the counting
//! allocator is on in children) around N `timeout(1 s, ready)` and N
//! dropped sleeps, after a small warm-up so that one-time set-up (a timer
//! wheel allocated at first use) is not mistaken for a leak. Live heap
//! bytes are exact and repeatable, so one run per runtime is enough.

use crate::memory::{live_heap_bytes, peak_rss_bytes};
use crate::report::{figure, ratio, Table};
use crate::runtimes::BenchRuntime;
use crate::workloads::{self, sleeps_dropped, timeouts_ready};

use super::cells::count;
use super::run_child::{run_child, Fields, RUNTIMES};
use super::Options;

/// Timeouts run before the heap is counted, to get one-time set-up out of
/// the way.
const WARM_UP: u64 = 1_000;

const MIB: f64 = 1024.0 * 1024.0;

/// Child: one timers run on `R`; answers its elapsed time, longest sleep
/// and peak RSS.
pub(crate) fn timers_child<R: BenchRuntime>(tasks: u64) -> Result<String, String> {
    let rt = R::new();
    let outcome = if tasks == 0 {
        workloads::TimersOutcome {
            elapsed: Default::default(),
            longest: Default::default(),
        }
    } else {
        rt.block_on(workloads::timers(&rt, tasks))
            .map_err(|mismatch| format!("timers on {}: {mismatch}", R::NAME))?
    };
    let peak = peak_rss_bytes().ok_or("no VmHWM in /proc/self/status")?;
    Ok(format!(
        "overhead_ns={} peak_rss={peak}",
        outcome.overhead().as_nanos()
    ))
}

/// Child: counts the heap left after `count` timeouts and `count` dropped
/// sleeps on `R`.
pub(crate) fn timeouts_memory_child<R: BenchRuntime>(count: u64) -> Result<String, String> {
    crate::memory::start_counting();
    let rt = R::new();
    let left = rt.block_on(async {
        timeouts_ready::<R>(WARM_UP).await?;
        sleeps_dropped::<R>(WARM_UP).await?;
        let start = live_heap_bytes();
        timeouts_ready::<R>(count).await?;
        let after_timeouts = live_heap_bytes();
        sleeps_dropped::<R>(count).await?;
        let after_sleeps = live_heap_bytes();
        Ok((after_timeouts - start, after_sleeps - after_timeouts))
    });
    let (timeouts, sleeps) = left
        .map_err(|mismatch: workloads::Mismatch| format!("timeouts on {}: {mismatch}", R::NAME))?;
    Ok(format!("timeouts_left={timeouts} sleeps_left={sleeps}"))
}

/// Runs the children and returns the table of timer figures.
pub(crate) fn timer_table(options: &Options) -> Result<Table, String> {
    let sizes = &options.sizes;
    let mut table = Table::new(&["timers and memory", "weft", "tokio", "weft / tokio", "smol"]);

    eprintln!("running timers (children) ...");
    let mut overhead_ms = vec![Vec::new(); RUNTIMES.len()];
    let mut peak_mib = vec![Vec::new(); RUNTIMES.len()];
    for _ in 0..options.runs {
        for (i, runtime) in RUNTIMES.iter().enumerate() {
            let fields = child(options, "timers", runtime, sizes.timer_tasks)?;
            overhead_ms[i].push(fields.number("overhead_ns")? / 1e6);
            peak_mib[i].push(fields.number("peak_rss")? / MIB);
        }
    }
    let mut idle_mib = Vec::new();
    for runtime in RUNTIMES {
        idle_mib.push(vec![
            child(options, "timers", runtime, 0)?.number("peak_rss")? / MIB,
        ]);
    }
    let tasks = count(sizes.timer_tasks);
    push_row(
        &mut table,
        format!("timers: ms beyond the longest sleep, {tasks} tasks sleeping 1–20 ms"),
        &overhead_ms,
    );
    push_row(
        &mut table,
        format!("timers: peak RSS, MiB, {tasks} sleeping tasks"),
        &peak_mib,
    );
    push_row(
        &mut table,
        "timers: peak RSS, MiB, no task (baseline)".to_owned(),
        &idle_mib,
    );

    eprintln!("running timeouts memory (children) ...");
    let mut timeouts_left = Vec::new();
    let mut sleeps_left = Vec::new();
    for runtime in RUNTIMES {
        let fields = child(options, "timeouts-memory", runtime, sizes.timeouts)?;
        timeouts_left.push(vec![fields.number("timeouts_left")?]);
        sleeps_left.push(vec![fields.number("sleeps_left")?]);
    }
    let n = count(sizes.timeouts);
    push_bytes_row(
        &mut table,
        format!("timeouts: heap bytes left after {n} timeout(1 s, ready)"),
        &timeouts_left,
    );
    push_bytes_row(
        &mut table,
        format!("timeouts: heap bytes left after {n} sleeps polled and dropped"),
        &sleeps_left,
    );
    Ok(table)
}

fn child(options: &Options, kind: &str, runtime: &str, size: u64) -> Result<Fields, String> {
    let args = [kind.to_owned(), runtime.to_owned(), size.to_string()];
    run_child(&args, options.run_limit)
}

/// A row of medians per runtime (weft, tokio, smol) and the weft / tokio
/// ratio.
fn push_row(table: &mut Table, label: String, samples: &[Vec<f64>]) {
    push_row_shown(table, label, samples, figure);
}

/// As [`push_row`], for byte counts: exact integers.
fn push_bytes_row(table: &mut Table, label: String, samples: &[Vec<f64>]) {
    push_row_shown(table, label, samples, |bytes| format!("{bytes:.0}"));
}

fn push_row_shown(
    table: &mut Table,
    label: String,
    samples: &[Vec<f64>],
    shown: impl Fn(f64) -> String,
) {
    let medians: Vec<f64> = samples
        .iter()
        .map(|runs| crate::measure::median_f64(runs))
        .collect();
    table.row(vec![
        label,
        shown(medians[0]),
        shown(medians[1]),
        ratio(Some(medians[0]), Some(medians[1])),
        shown(medians[2]),
    ]);
}
