//! The rows of the time table: every workload whose figure is a
//! wall-clock time, with its cells on every runtime/primitive combination
//! it has and its floor.
//!
//! **This is the one file to edit to add a row**: a [`Row`] entry with a
//! name, a shape, the unit of one operation, the operation count and its
//! cells. The cells are written with the macros of `cells.rs`
//! (`runtime_cells!` for a workload of the runtime alone, `matrix_cells!`
//! for a primitive workload, `cell!` for one column with its own code,
//! `floor_cell!` for the floor). Everything else (in-process and
//! fresh-process runs, `--only`, `--column`, `--scale`, the help text, the
//! tables) picks the row up from here.

use crate::adapters::{
    AsyncChannel, ListenerCondition, ListenerEvent, LockedMpsc, Mpsc, NotifyCondition, NotifyEvent,
    WeftQueue,
};
use crate::floor;
use crate::runtimes::{BenchRuntime, Smol, Tokio, Weft};
use crate::workloads::{self, Sizes};

use super::cells::{count, CellFactory, Column, Row};

/// The rows, at the given sizes.
pub(crate) fn rows(sizes: &Sizes) -> Vec<Row> {
    let s = sizes.clone();
    vec![
        Row {
            name: "spawn_join",
            shape: if s.spawn_batch < s.spawn_tasks {
                format!(
                    "{} tasks in batches of {}",
                    count(s.spawn_tasks),
                    count(s.spawn_batch)
                )
            } else {
                format!("{} tasks", count(s.spawn_tasks))
            },
            per: "task",
            operations: s.spawn_tasks,
            cells: with_floor(
                runtime_cells!(|rt: R| rt.block_on(workloads::spawn_join_batched(
                    rt,
                    s.spawn_tasks,
                    s.spawn_batch
                ))),
                floor_cell!(floor::spawn_join(s.spawn_tasks, s.spawn_batch)),
            ),
        },
        Row {
            name: "cross_thread_spawn",
            shape: format!(
                "4 threads × {} Send tasks spawned onto one runtime, awaited there; smol: Executor",
                count(s.spawn_tasks)
            ),
            per: "task",
            operations: 4 * s.spawn_tasks,
            cells: vec![
                (
                    Column::Weft,
                    cell!(Weft, |_rt: R| workloads::cross_thread_spawn::weft(
                        4,
                        s.spawn_tasks
                    )),
                ),
                (
                    Column::Tokio,
                    cell!(Tokio, |_rt: R| workloads::cross_thread_spawn::tokio(
                        4,
                        s.spawn_tasks
                    )),
                ),
                (
                    Column::Smol,
                    cell!(Smol, |_rt: R| workloads::cross_thread_spawn::smol(
                        4,
                        s.spawn_tasks
                    )),
                ),
            ],
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
            cells: with_floor(
                runtime_cells!(|rt: R| rt.block_on(workloads::yield_switch(
                    rt,
                    s.yield_tasks,
                    s.yields_per_task
                ))),
                floor_cell!(floor::yield_switch(s.yield_tasks, s.yields_per_task)),
            ),
        },
        Row {
            name: "mutex_uncontended",
            shape: format!("{} lock/unlock", count(s.uncontended_locks)),
            per: "lock",
            operations: s.uncontended_locks,
            cells: with_floor(
                matrix_cells!(
                    weft: weft_primitives::Mutex<u64>,
                    tokio: tokio::sync::Mutex<u64>,
                    smol: async_lock::Mutex<u64>,
                    |rt: R, P| rt.block_on(workloads::mutex_uncontended::<R, P>(rt, s.uncontended_locks))
                ),
                floor_cell!(floor::mutex_uncontended(s.uncontended_locks)),
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
            cells: with_floor(
                matrix_cells!(
                    weft: weft_primitives::Mutex<u64>,
                    tokio: tokio::sync::Mutex<u64>,
                    smol: async_lock::Mutex<u64>,
                    |rt: R, P| rt.block_on(workloads::mutex_contended::<R, P>(
                        rt,
                        s.contended_tasks,
                        s.increments_per_task
                    ))
                ),
                floor_cell!(floor::mutex_contended(
                    s.contended_tasks,
                    s.increments_per_task
                )),
            ),
        },
        Row {
            name: "semaphore",
            shape: format!(
                "{} permits, {} tasks × {} rounds",
                s.permits,
                count(s.semaphore_tasks),
                count(s.semaphore_rounds)
            ),
            per: "acquire",
            operations: s.semaphore_tasks * s.semaphore_rounds,
            cells: with_floor(
                matrix_cells!(
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
                floor_cell!(floor::semaphore(
                    s.permits,
                    s.semaphore_tasks,
                    s.semaphore_rounds
                )),
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
            cells: with_floor(
                matrix_cells!(
                    weft: WeftQueue,
                    tokio: Mpsc,
                    smol: AsyncChannel,
                    |rt: R, P| rt.block_on(workloads::queue_spsc::<R, P>(
                        rt,
                        s.queue_capacity,
                        s.spsc_items
                    ))
                ),
                floor_cell!(floor::queue_spsc(s.queue_capacity, s.spsc_items)),
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
            cells: with_floor(
                matrix_cells!(
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
                floor_cell!(floor::queue_mpmc(
                    s.queue_capacity,
                    s.mpmc_tasks,
                    s.mpmc_items
                )),
            ),
        },
        Row {
            name: "queue_mpmc (async-channel)",
            shape: "as above; tokio columns: async-channel".to_owned(),
            per: "item",
            operations: s.mpmc_items,
            cells: with_floor(
                matrix_cells!(
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
                floor_cell!(floor::queue_mpmc(
                    s.queue_capacity,
                    s.mpmc_tasks,
                    s.mpmc_items
                )),
            ),
        },
        Row {
            name: "event_fanout",
            shape: format!(
                "{} waiters × {} rounds; tokio: flag + Notify::notify_waiters",
                count(s.fanout_waiters),
                count(s.fanout_rounds)
            ),
            per: "wake",
            operations: s.fanout_waiters * s.fanout_rounds,
            cells: with_floor(
                matrix_cells!(
                    weft: weft_primitives::Event,
                    tokio: NotifyEvent,
                    smol: ListenerEvent,
                    |rt: R, P| rt.block_on(workloads::event_fanout::<R, P>(
                        rt,
                        s.fanout_waiters,
                        s.fanout_rounds
                    ))
                ),
                floor_cell!(floor::event_fanout(s.fanout_waiters, s.fanout_rounds)),
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
            cells: with_floor(
                matrix_cells!(
                    weft: weft_primitives::Condition<u64>,
                    tokio: NotifyCondition,
                    smol: ListenerCondition,
                    |rt: R, P| rt.block_on(workloads::condition_notify_one::<R, P>(
                        rt,
                        s.condition_waiters,
                        s.notify_one_round_trips
                    ))
                ),
                floor_cell!(floor::condition_notify_one(
                    s.condition_waiters,
                    s.notify_one_round_trips
                )),
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
            cells: with_floor(
                matrix_cells!(
                    weft: weft_primitives::Condition<u64>,
                    tokio: NotifyCondition,
                    smol: ListenerCondition,
                    |rt: R, P| rt.block_on(workloads::condition_notify_all::<R, P>(
                        rt,
                        s.condition_waiters,
                        s.notify_all_rounds
                    ))
                ),
                floor_cell!(floor::condition_notify_all(
                    s.condition_waiters,
                    s.notify_all_rounds
                )),
            ),
        },
        Row {
            name: "timeouts",
            shape: format!("{} × timeout(1 s, ready)", count(s.timeouts)),
            per: "timeout",
            operations: s.timeouts,
            cells: with_floor(
                runtime_cells!(|rt: R| rt.block_on(workloads::timeouts_ready::<R>(s.timeouts))),
                floor_cell!(floor::timers_cancelled(s.timeouts)),
            ),
        },
        Row {
            name: "sleeps dropped",
            shape: format!("{} × sleep(1 s) polled once, dropped", count(s.timeouts)),
            per: "sleep",
            operations: s.timeouts,
            cells: with_floor(
                runtime_cells!(|rt: R| rt.block_on(workloads::sleeps_dropped::<R>(s.timeouts))),
                floor_cell!(floor::timers_cancelled(s.timeouts)),
            ),
        },
        Row {
            name: "udp_echo",
            shape: format!(
                "{} × 64-byte datagram echoed, {} in flight, one client socket",
                count(s.udp_datagrams),
                s.udp_window
            ),
            per: "datagram",
            operations: s.udp_datagrams,
            cells: with_floor(
                runtime_cells!(
                    |rt: R| rt.block_on(workloads::udp_echo::<R>(s.udp_datagrams, s.udp_window))
                ),
                floor_cell!(floor::udp_echo(s.udp_datagrams, s.udp_window)),
            ),
        },
        Row {
            name: "fd_ping_pong",
            shape: format!(
                "{} × 64-byte round trip over a socket pair; AsyncFd, smol: Async",
                count(s.fd_round_trips)
            ),
            per: "round trip",
            operations: s.fd_round_trips,
            cells: with_floor(
                runtime_cells!(|rt: R| rt.block_on(workloads::fd_ping_pong::<R>(s.fd_round_trips))),
                floor_cell!(floor::fd_ping_pong(s.fd_round_trips)),
            ),
        },
    ]
}

/// `cells` with `floor` inserted after the weft, tokio and smol cells, so
/// that a round runs weft, tokio, smol, floor, then the mixed cells.
fn with_floor(
    mut cells: Vec<(Column, CellFactory)>,
    floor: (Column, CellFactory),
) -> Vec<(Column, CellFactory)> {
    let after_runtimes = cells
        .iter()
        .position(|(column, _)| !matches!(column, Column::Weft | Column::Tokio | Column::Smol))
        .unwrap_or(cells.len());
    cells.insert(after_runtimes, floor);
    cells
}

/// Every row's name and shape at `sizes`, for `--help`.
pub(crate) fn shapes(sizes: &Sizes) -> Vec<(&'static str, String)> {
    rows(sizes)
        .into_iter()
        .map(|row| (row.name, row.shape))
        .collect()
}
