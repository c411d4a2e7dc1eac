//! System calls per operation of the I/O rows of the time table
//! (`udp_echo`, `fd_ping_pong`), counted by `strace -c -f`.
//!
//! strace slows every call, so the counts never come from timed runs:
//! each cell runs twice more in a child under strace, at the quick size
//! (whatever the report's size: a count needs no long run) and at twice
//! it, and the figure is the difference in calls over the difference in
//! operations. What a run spends starting the process and the runtime
//! (threads, the poller, the sockets) is the same in both and cancels
//! out.
//!
//! ```text
//!   calls(2 × N) − calls(N)
//!   ─────────────────────── = system calls per datagram / round trip
//!          2N − N
//! ```
//!
//! Without strace the table says "n/a (no strace)".

use crate::report::{figure, ratio, Table};
use crate::strace::traced_run;

use super::cells::Column;
use super::matrix::ROW_CHILD;
use super::rows::rows;
use super::run_child::CHILD_FLAG;
use super::{base_sizes, Options};

/// The rows whose system calls are counted.
pub(crate) const IO_ROWS: [&str; 2] = ["udp_echo", "fd_ping_pong"];

/// The columns the table shows.
const COLUMNS: [Column; 4] = [Column::Weft, Column::Tokio, Column::Smol, Column::Floor];

/// Counts the selected I/O rows' system calls per operation.
pub(crate) fn syscall_table(options: &Options) -> Result<Table, String> {
    let mut table = Table::new(&[
        "system calls (strace)",
        "weft",
        "tokio",
        "weft / tokio",
        "smol",
        "floor",
    ]);
    for name in IO_ROWS {
        if !options.selects(name) {
            continue;
        }
        eprintln!("counting the system calls of {name} (strace) ...");
        let operations = |scale: u64| {
            rows(&base_sizes(true).scaled(scale))
                .into_iter()
                .find(|row| row.name == name)
                .map(|row| (row.operations, row.per))
                .ok_or_else(|| format!("no row {name}"))
        };
        let (small, per) = operations(1)?;
        let (large, _) = operations(2)?;
        let per_operation = COLUMNS.map(|column| {
            let calls = |scale: u64| {
                let args = [
                    CHILD_FLAG,
                    ROW_CHILD,
                    "quick",
                    &scale.to_string(),
                    column.name(),
                    name,
                ]
                .map(str::to_owned);
                traced_run(&args, options.run_limit)
            };
            let (few, many) = (calls(1)?, calls(2)?);
            Some(many.saturating_sub(few) as f64 / (large - small) as f64)
        });
        let shown = |figure_of: Option<f64>| figure_of.map_or("n/a (no strace)".to_owned(), figure);
        let [weft, tokio, smol, floor] = per_operation;
        table.row(vec![
            format!("{name}: system calls / {per}"),
            shown(weft),
            shown(tokio),
            ratio(weft, tokio),
            shown(smol),
            shown(floor),
        ]);
    }
    Ok(table)
}
