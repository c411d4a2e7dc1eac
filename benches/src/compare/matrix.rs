//! The in-process rows of the compare table: every workload whose figure is
//! a wall-clock time, on every runtime/primitive combination it has.
//!
//! A row lists its cells as *factories*: a cell's runtime is built only
//! when its row starts and dropped when the row ends, so no runtime idles
//! in the background of another's measurement.
//!
//! The primitive workloads fill all five columns of the table from one
//! description, through `matrix_cells!`: the workload body is written
//! once with a runtime type `R` and a primitive type `P`, and the macro
//! instantiates it for each (runtime, primitive) pair.

use std::time::Duration;

use crate::adapters::{
    AsyncChannel, ListenerCondition, ListenerEvent, LockedMpsc, Mpsc, NotifyCondition, NotifyEvent,
    WeftQueue,
};
use crate::measure::{median, run_interleaved, Cell};
use crate::report::{figure, ratio, Table};
use crate::runtimes::{BenchRuntime, Smol, Tokio, Weft};
use crate::workloads::{self, Mismatch, Sizes};

use super::Options;

/// The columns of the time table, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    /// weft's runtime with weft's primitives.
    Weft,
    /// tokio's current-thread runtime with tokio's primitives.
    Tokio,
    /// smol's `LocalExecutor` with async-lock / async-channel.
    Smol,
    /// weft's runtime with the tokio column's primitive.
    WeftRuntimeTokioPrimitive,
    /// tokio's runtime with weft's primitive.
    TokioRuntimeWeftPrimitive,
}

impl Column {
    /// The name `--column` selects the column by.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Column::Weft => "weft",
            Column::Tokio => "tokio",
            Column::Smol => "smol",
            Column::WeftRuntimeTokioPrimitive => "weft-rt",
            Column::TokioRuntimeWeftPrimitive => "tokio-rt",
        }
    }
}

const COLUMNS: [Column; 5] = [
    Column::Weft,
    Column::Tokio,
    Column::Smol,
    Column::WeftRuntimeTokioPrimitive,
    Column::TokioRuntimeWeftPrimitive,
];

/// Builds one cell when its row starts.
type CellFactory = Box<dyn Fn() -> Cell>;

/// One line of the time table.
struct Row {
    name: &'static str,
    shape: String,
    /// What one operation is, for the "ns per …" unit.
    per: &'static str,
    /// Operations per run: a cell's figure is its median run over this.
    operations: u64,
    cells: Vec<(Column, CellFactory)>,
}

/// One cell on runtime `$runtime` whose body sees the runtime as `$rt` (of
/// type `$R`).
macro_rules! cell {
    ($runtime:ty, |$rt:ident: $R:ident| $body:expr) => {{
        type $R = $runtime;
        Box::new(move || Cell::new::<$R>(move |$rt: &$R| $body)) as CellFactory
    }};
}

/// The weft, tokio and smol cells of a workload that uses no primitive.
macro_rules! runtime_cells {
    (|$rt:ident: $R:ident| $body:expr) => {
        vec![
            (Column::Weft, cell!(Weft, |$rt: $R| $body)),
            (Column::Tokio, cell!(Tokio, |$rt: $R| $body)),
            (Column::Smol, cell!(Smol, |$rt: $R| $body)),
        ]
    };
}

/// All five cells of a primitive workload: the body sees the runtime as
/// `$rt: $R` and the primitive type as `$P`.
macro_rules! matrix_cells {
    (
        weft: $weft:ty, tokio: $tokio:ty, smol: $smol:ty,
        |$rt:ident: $R:ident, $P:ident| $body:expr
    ) => {
        vec![
            (
                Column::Weft,
                cell!(Weft, |$rt: $R| {
                    type $P = $weft;
                    $body
                }),
            ),
            (
                Column::Tokio,
                cell!(Tokio, |$rt: $R| {
                    type $P = $tokio;
                    $body
                }),
            ),
            (
                Column::Smol,
                cell!(Smol, |$rt: $R| {
                    type $P = $smol;
                    $body
                }),
            ),
            (
                Column::WeftRuntimeTokioPrimitive,
                cell!(Weft, |$rt: $R| {
                    type $P = $tokio;
                    $body
                }),
            ),
            (
                Column::TokioRuntimeWeftPrimitive,
                cell!(Tokio, |$rt: $R| {
                    type $P = $weft;
                    $body
                }),
            ),
        ]
    };
}

/// The rows, at the given sizes.
fn rows(sizes: &Sizes) -> Vec<Row> {
    let s = sizes.clone();
    vec![
        Row {
            name: "spawn_join",
            shape: format!("{} tasks", count(s.spawn_tasks)),
            per: "task",
            operations: s.spawn_tasks,
            cells: runtime_cells!(|rt: R| rt.block_on(workloads::spawn_join(rt, s.spawn_tasks))),
        },
        Row {
            name: "yield_switch",
            shape: format!(
                "{} tasks × {} yields",
                s.yield_tasks,
                count(s.yields_per_task)
            ),
            per: "yield",
            operations: s.yield_tasks * s.yields_per_task,
            cells: runtime_cells!(|rt: R| rt.block_on(workloads::yield_switch(
                rt,
                s.yield_tasks,
                s.yields_per_task
            ))),
        },
        Row {
            name: "mutex_uncontended",
            shape: format!("{} lock/unlock", count(s.uncontended_locks)),
            per: "lock",
            operations: s.uncontended_locks,
            cells: matrix_cells!(
                weft: weft_primitives::Mutex<u64>,
                tokio: tokio::sync::Mutex<u64>,
                smol: async_lock::Mutex<u64>,
                |rt: R, P| rt.block_on(workloads::mutex_uncontended::<R, P>(rt, s.uncontended_locks))
            ),
        },
        Row {
            name: "mutex_contended",
            shape: format!(
                "{} tasks × {} increments",
                s.contended_tasks,
                count(s.increments_per_task)
            ),
            per: "lock",
            operations: s.contended_tasks * s.increments_per_task,
            cells: matrix_cells!(
                weft: weft_primitives::Mutex<u64>,
                tokio: tokio::sync::Mutex<u64>,
                smol: async_lock::Mutex<u64>,
                |rt: R, P| rt.block_on(workloads::mutex_contended::<R, P>(
                    rt,
                    s.contended_tasks,
                    s.increments_per_task
                ))
            ),
        },
        Row {
            name: "semaphore",
            shape: format!(
                "{} permits, {} tasks × {} rounds",
                s.permits,
                count(s.semaphore_tasks),
                s.semaphore_rounds
            ),
            per: "acquire",
            operations: s.semaphore_tasks * s.semaphore_rounds,
            cells: matrix_cells!(
                weft: weft_primitives::Semaphore,
                tokio: tokio::sync::Semaphore,
                smol: async_lock::Semaphore,
                |rt: R, P| rt.block_on(workloads::semaphore::<R, P>(
                    rt,
                    s.permits,
                    s.semaphore_tasks,
                    s.semaphore_rounds
                ))
            ),
        },
        Row {
            name: "queue_spsc",
            shape: format!(
                "capacity {}, {} items",
                count(s.queue_capacity),
                count(s.spsc_items)
            ),
            per: "item",
            operations: s.spsc_items,
            cells: matrix_cells!(
                weft: WeftQueue,
                tokio: Mpsc,
                smol: AsyncChannel,
                |rt: R, P| rt.block_on(workloads::queue_spsc::<R, P>(
                    rt,
                    s.queue_capacity,
                    s.spsc_items
                ))
            ),
        },
        Row {
            name: "queue_mpmc",
            shape: format!(
                "capacity {}, {} × {}, {} items; tokio: mpsc + Mutex<Receiver>",
                count(s.queue_capacity),
                s.mpmc_tasks,
                s.mpmc_tasks,
                count(s.mpmc_items)
            ),
            per: "item",
            operations: s.mpmc_items,
            cells: matrix_cells!(
                weft: WeftQueue,
                tokio: LockedMpsc,
                smol: AsyncChannel,
                |rt: R, P| rt.block_on(workloads::queue_mpmc::<R, P>(
                    rt,
                    s.queue_capacity,
                    s.mpmc_tasks,
                    s.mpmc_items
                ))
            ),
        },
        Row {
            name: "queue_mpmc (async-channel)",
            shape: "as above; tokio columns: async-channel".to_owned(),
            per: "item",
            operations: s.mpmc_items,
            cells: matrix_cells!(
                weft: WeftQueue,
                tokio: AsyncChannel,
                smol: AsyncChannel,
                |rt: R, P| rt.block_on(workloads::queue_mpmc::<R, P>(
                    rt,
                    s.queue_capacity,
                    s.mpmc_tasks,
                    s.mpmc_items
                ))
            ),
        },
        Row {
            name: "event_fanout",
            shape: format!(
                "{} waiters × {} rounds; tokio: flag + Notify::notify_waiters",
                count(s.fanout_waiters),
                s.fanout_rounds
            ),
            per: "wake",
            operations: s.fanout_waiters * s.fanout_rounds,
            cells: matrix_cells!(
                weft: weft_primitives::Event,
                tokio: NotifyEvent,
                smol: ListenerEvent,
                |rt: R, P| rt.block_on(workloads::event_fanout::<R, P>(
                    rt,
                    s.fanout_waiters,
                    s.fanout_rounds
                ))
            ),
        },
        Row {
            name: "condition_notify_one",
            shape: format!(
                "{} waiters, {} round trips; tokio: Mutex + Notify::notify_one",
                s.condition_waiters,
                count(s.notify_one_round_trips)
            ),
            per: "round trip",
            operations: s.notify_one_round_trips,
            cells: matrix_cells!(
                weft: weft_primitives::Condition<u64>,
                tokio: NotifyCondition,
                smol: ListenerCondition,
                |rt: R, P| rt.block_on(workloads::condition_notify_one::<R, P>(
                    rt,
                    s.condition_waiters,
                    s.notify_one_round_trips
                ))
            ),
        },
        Row {
            name: "condition_notify_all",
            shape: format!(
                "{} waiters × {} rounds; tokio: Mutex + Notify::notify_waiters",
                s.condition_waiters,
                count(s.notify_all_rounds)
            ),
            per: "wake",
            operations: s.condition_waiters * s.notify_all_rounds,
            cells: matrix_cells!(
                weft: weft_primitives::Condition<u64>,
                tokio: NotifyCondition,
                smol: ListenerCondition,
                |rt: R, P| rt.block_on(workloads::condition_notify_all::<R, P>(
                    rt,
                    s.condition_waiters,
                    s.notify_all_rounds
                ))
            ),
        },
        Row {
            name: "timeouts",
            shape: format!("{} × timeout(1 s, ready)", count(s.timeouts)),
            per: "timeout",
            operations: s.timeouts,
            cells: runtime_cells!(|rt: R| rt.block_on(workloads::timeouts_ready::<R>(s.timeouts))),
        },
        Row {
            name: "sleeps dropped",
            shape: format!("{} × sleep(1 s) polled once, dropped", count(s.timeouts)),
            per: "sleep",
            operations: s.timeouts,
            cells: runtime_cells!(|rt: R| rt.block_on(workloads::sleeps_dropped::<R>(s.timeouts))),
        },
    ]
}

/// `n` with thin spaces between thousands, as the tables print counts.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(digit);
    }
    out
}

/// Runs every row selected by `options` and returns the time table; the
/// first wrong answer stops the run.
pub(crate) fn time_table(options: &Options) -> Result<Table, (String, Mismatch)> {
    let mut table = Table::new(&[
        "workload",
        "shape",
        "unit",
        "weft",
        "tokio",
        "weft / tokio",
        "smol",
        "weft rt + tokio prim",
        "tokio rt + weft prim",
    ])
    .text_columns(3);
    for row in rows(&options.sizes) {
        if !options.selects(row.name) {
            continue;
        }
        eprintln!("running {} ...", row.name);
        let mut row = row;
        row.cells
            .retain(|(column, _)| options.selects_column(column.name()));
        let mut cells: Vec<Cell> = row.cells.iter().map(|(_, factory)| factory()).collect();
        let times = run_interleaved(row.name, &mut cells, options.runs, options.run_limit)
            .map_err(|mismatch| (row.name.to_owned(), mismatch))?;
        let per_op = |column: Column| -> Option<f64> {
            row.cells
                .iter()
                .zip(&times)
                .find(|((c, _), _)| *c == column)
                .map(|(_, runs)| nanos(median(runs)) / row.operations as f64)
        };
        let shown = |column: Column| per_op(column).map_or("—".to_owned(), figure);
        let [weft, tokio, smol, weft_rt, tokio_rt] = COLUMNS.map(shown);
        table.row(vec![
            row.name.to_owned(),
            row.shape,
            format!("ns / {}", row.per),
            weft,
            tokio,
            ratio(per_op(Column::Weft), per_op(Column::Tokio)),
            smol,
            weft_rt,
            tokio_rt,
        ]);
    }
    Ok(table)
}

fn nanos(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e9
}
