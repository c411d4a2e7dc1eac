//! Timing runs, taking medians, and keeping every run bounded in time.
//!
//! A [`Cell`] is one runtime/primitive combination of one workload. It is
//! built when its row starts (so its runtime exists only for that row) and
//! then run several times; [`run_interleaved`] takes one run of each cell in
//! turn, round after round, so that a burst of noise from the rest of the
//! machine spreads over every cell instead of landing on one. The first
//! round is a warm-up and is not counted. A cell's figure is the median of
//! its counted runs.
//!
//! ```text
//!   round 0 (warm-up):  weft  tokio  smol  …
//!   round 1:            weft  tokio  smol  …     median per column
//!   …
//!   round n:            weft  tokio  smol  …
//! ```
//!
//! Every run is watched by a [`Watchdog`]: a run that overstays its limit
//! ends the process with a message and a non-zero exit code, so a deadlock
//! in a runtime under test cannot hang CI.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::workloads::{Mismatch, Verified};

/// Exit code of a process ended by a [`Watchdog`].
pub const TIMED_OUT_EXIT_CODE: i32 = 3;

/// One runtime/primitive combination of one workload, ready to run.
///
/// ```
/// use weft_benches::measure::Cell;
/// use weft_benches::runtimes::{BenchRuntime, Weft};
/// use weft_benches::workloads::spawn_join;
///
/// let mut cell = Cell::new::<Weft>(|rt| rt.block_on(spawn_join(rt, 100)));
/// assert!(cell.run_once().is_ok());
/// ```
pub struct Cell {
    run: Box<dyn FnMut() -> Result<Duration, Mismatch>>,
}

impl Cell {
    /// Builds a runtime `R` and returns a cell whose runs call `work` on it;
    /// each run is timed from the call to its return.
    pub fn new<R: crate::runtimes::BenchRuntime + 'static>(
        work: impl Fn(&R) -> Verified + 'static,
    ) -> Self {
        let rt = R::new();
        Self::without_runtime(move || work(&rt))
    }

    /// A cell whose runs call `work` with no runtime around it (the floor
    /// column); each run is timed from the call to its return.
    ///
    /// ```
    /// use weft_benches::measure::Cell;
    ///
    /// let mut cell = Cell::without_runtime(|| weft_benches::floor::spawn_join(100, 100));
    /// assert!(cell.run_once().is_ok());
    /// ```
    pub fn without_runtime(work: impl Fn() -> Verified + 'static) -> Self {
        Self {
            run: Box::new(move || {
                let start = Instant::now();
                work()?;
                Ok(start.elapsed())
            }),
        }
    }

    /// Runs the workload once and returns how long it took.
    pub fn run_once(&mut self) -> Result<Duration, Mismatch> {
        (self.run)()
    }
}

impl std::fmt::Debug for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cell").finish_non_exhaustive()
    }
}

/// Runs one warm-up round and `runs` counted rounds over `cells`, one run of
/// each cell per round, each run under a watchdog of `limit`. Returns the
/// counted durations per cell, or the first wrong answer.
///
/// ```
/// use std::time::Duration;
/// use weft_benches::measure::{median, run_interleaved, Cell};
/// use weft_benches::runtimes::{BenchRuntime, Tokio, Weft};
/// use weft_benches::workloads::yield_switch;
///
/// let mut cells = vec![
///     Cell::new::<Weft>(|rt| rt.block_on(yield_switch(rt, 10, 10))),
///     Cell::new::<Tokio>(|rt| rt.block_on(yield_switch(rt, 10, 10))),
/// ];
/// let times = run_interleaved("yield_switch", &mut cells, 3, Duration::from_secs(60)).unwrap();
/// assert_eq!(times.len(), 2);
/// assert!(times.iter().all(|runs| runs.len() == 3));
/// let _ = median(&times[0]);
/// ```
pub fn run_interleaved(
    label: &str,
    cells: &mut [Cell],
    runs: usize,
    limit: Duration,
) -> Result<Vec<Vec<Duration>>, Mismatch> {
    let mut times = vec![Vec::with_capacity(runs); cells.len()];
    for round in 0..=runs {
        for (cell, times) in cells.iter_mut().zip(&mut times) {
            let watchdog = Watchdog::arm(label, limit);
            let took = cell.run_once()?;
            watchdog.disarm();
            if round > 0 {
                times.push(took);
            }
        }
    }
    Ok(times)
}

/// The median of `samples` (the mean of the middle two for an even count).
///
/// # Panics
///
/// If `samples` is empty.
///
/// ```
/// use std::time::Duration;
/// use weft_benches::measure::median;
///
/// let ms = Duration::from_millis;
/// assert_eq!(median(&[ms(3), ms(1), ms(2)]), ms(2));
/// assert_eq!(median(&[ms(4), ms(1), ms(2), ms(3)]), Duration::from_micros(2_500));
/// ```
pub fn median(samples: &[Duration]) -> Duration {
    assert!(!samples.is_empty(), "the median of no samples");
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// The median of plain numbers (the mean of the middle two for an even
/// count).
///
/// # Panics
///
/// If `samples` is empty.
///
/// ```
/// assert_eq!(weft_benches::measure::median_f64(&[3.0, 1.0, 2.0]), 2.0);
/// ```
pub fn median_f64(samples: &[f64]) -> f64 {
    assert!(!samples.is_empty(), "the median of no samples");
    let mut sorted = samples.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    }
}

/// Ends the process if it is not disarmed within its limit.
///
/// A thread waits on a channel for the disarm; if the limit passes first it
/// prints what overran and exits with [`TIMED_OUT_EXIT_CODE`]. Dropping the
/// watchdog disarms it too.
///
/// ```
/// use std::time::Duration;
/// use weft_benches::measure::Watchdog;
///
/// let watchdog = Watchdog::arm("a quick step", Duration::from_secs(60));
/// // ... the step ...
/// watchdog.disarm();
/// ```
#[derive(Debug)]
pub struct Watchdog {
    disarm: mpsc::Sender<()>,
}

impl Watchdog {
    /// Starts watching; `label` names the step in the message.
    pub fn arm(label: &str, limit: Duration) -> Self {
        let (disarm, disarmed) = mpsc::channel::<()>();
        let label = label.to_owned();
        thread::spawn(move || {
            // A message or a hang-up (the watchdog was dropped) both disarm.
            if let Err(mpsc::RecvTimeoutError::Timeout) = disarmed.recv_timeout(limit) {
                eprintln!("error: {label} did not finish within {limit:?}; giving up");
                std::process::exit(TIMED_OUT_EXIT_CODE);
            }
        });
        Self { disarm }
    }

    /// Stops watching.
    pub fn disarm(self) {
        // The thread may be gone already only if it fired, and then the
        // process is exiting: nothing to report.
        let _ = self.disarm.send(());
    }
}
