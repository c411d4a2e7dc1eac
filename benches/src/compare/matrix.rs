//! Running the rows of the time table (`rows.rs`) and building its two
//! tables: medians with weft / tokio and weft / floor, and the spread
//! (min – max) of the runs behind each median.
//!
//! A row runs in one of two ways, both interleaved across its columns so
//! that drift of the machine (another build, a frequency change) hits
//! every column alike:
//!
//! * **in process** (the default): every cell of the row is built, then
//!   one warm-up round and `runs` counted rounds run one run of each cell
//!   in turn (`measure::run_interleaved`);
//! * **fresh** (`--fresh`): every run is a child process,
//!   `compare --child row <quick|full> <scale> <column> <row name>`, which
//!   builds that one cell, runs it once and answers `elapsed_ns=…`; the
//!   parent starts them round after round: weft, tokio, smol, floor, the
//!   mixed cells, then weft again. No warm-up: each figure is a first run
//!   in a new process, with nothing left over from another runtime's
//!   heap.
//!
//! ```text
//!   round 1:  child(weft)  child(tokio)  child(smol)  child(floor)  …
//!   …                                                                   median, min, max per column
//!   round n:  child(weft)  child(tokio)  child(smol)  child(floor)  …
//! ```

use std::time::Duration;

use crate::measure::{median, run_interleaved, Cell};
use crate::report::{figure, ratio, Table};

use super::cells::{Column, Row};
use super::rows::rows;
use super::run_child::run_child;
use super::{base_sizes, Options};

/// The kind of child request that runs one cell of the time table once.
pub(crate) const ROW_CHILD: &str = "row";

/// Runs every row selected by `options` and returns the time table and
/// the spread table; the first wrong answer stops the run.
pub(crate) fn time_tables(options: &Options) -> Result<(Table, Table), String> {
    let mut table = Table::new(&[
        "workload",
        "shape",
        "unit",
        "weft",
        "tokio",
        "weft / tokio",
        "smol",
        "floor",
        "weft / floor",
        "weft rt + tokio prim",
        "tokio rt + weft prim",
    ])
    .text_columns(3);
    let mut spread_header = vec!["workload", "unit"];
    spread_header.extend(Column::ALL.map(Column::name));
    let mut spread = Table::new(&spread_header).text_columns(2);
    for mut row in rows(&options.sizes) {
        if !options.selects(row.name) {
            continue;
        }
        eprintln!("running {} ...", row.name);
        row.cells
            .retain(|(column, _)| options.selects_column(column.name()));
        let times = if options.fresh {
            fresh_runs(&row, options)?
        } else {
            in_process_runs(&row, options)?
        };
        // (median, min, max) per operation, in ns, of each column the row has.
        let stats = |column: Column| -> Option<(f64, f64, f64)> {
            let (_, runs) = row
                .cells
                .iter()
                .zip(&times)
                .find(|((c, _), _)| *c == column)?;
            let per_op = |d: Duration| d.as_secs_f64() * 1e9 / row.operations as f64;
            let min = runs.iter().copied().min()?;
            let max = runs.iter().copied().max()?;
            Some((per_op(median(runs)), per_op(min), per_op(max)))
        };
        let median_of = |column: Column| stats(column).map(|(median, _, _)| median);
        let shown = |column: Column| median_of(column).map_or("—".to_owned(), figure);
        let unit = format!("ns / {}", row.per);
        table.row(vec![
            row.name.to_owned(),
            row.shape.clone(),
            unit.clone(),
            shown(Column::Weft),
            shown(Column::Tokio),
            ratio(median_of(Column::Weft), median_of(Column::Tokio)),
            shown(Column::Smol),
            shown(Column::Floor),
            ratio(median_of(Column::Weft), median_of(Column::Floor)),
            shown(Column::WeftRuntimeTokioPrimitive),
            shown(Column::TokioRuntimeWeftPrimitive),
        ]);
        let range = |column: Column| {
            stats(column).map_or("—".to_owned(), |(_, min, max)| {
                format!("{} – {}", figure(min), figure(max))
            })
        };
        let mut line = vec![row.name.to_owned(), unit];
        line.extend(Column::ALL.map(range));
        spread.row(line);
    }
    Ok((table, spread))
}

/// The counted runs of each cell of `row`, all in this process.
fn in_process_runs(row: &Row, options: &Options) -> Result<Vec<Vec<Duration>>, String> {
    let mut cells: Vec<Cell> = row.cells.iter().map(|(_, factory)| factory()).collect();
    run_interleaved(row.name, &mut cells, options.runs, options.run_limit)
        .map_err(|mismatch| format!("{} computed a wrong answer: {mismatch}", row.name))
}

/// The runs of each cell of `row`, each in a fresh child process.
fn fresh_runs(row: &Row, options: &Options) -> Result<Vec<Vec<Duration>>, String> {
    let preset = if options.quick { "quick" } else { "full" };
    let mut times = vec![Vec::with_capacity(options.runs); row.cells.len()];
    for _ in 0..options.runs {
        for ((column, _), times) in row.cells.iter().zip(&mut times) {
            let args = [
                ROW_CHILD,
                preset,
                &options.scale.to_string(),
                column.name(),
                row.name,
            ]
            .map(str::to_owned);
            let fields = run_child(&args, options.run_limit)?;
            times.push(Duration::from_nanos(fields.number("elapsed_ns")? as u64));
        }
    }
    Ok(times)
}

/// Child: runs one cell of the time table once. `args` are
/// `<quick|full> <scale> <column> <row name>`; answers `elapsed_ns=…`.
pub(crate) fn row_child(args: &[String]) -> Result<String, String> {
    let [preset, scale, column, name] = args else {
        return Err(format!(
            "a row child needs <quick|full> <scale> <column> <row name>, not {args:?}"
        ));
    };
    let quick = match preset.as_str() {
        "quick" => true,
        "full" => false,
        other => return Err(format!("unknown sizes {other:?}: quick or full")),
    };
    let scale: u64 = scale
        .parse()
        .map_err(|_| format!("the scale {scale:?} is not a number"))?;
    let column = Column::named(column).ok_or_else(|| format!("unknown column {column:?}"))?;
    let row = rows(&base_sizes(quick).scaled(scale))
        .into_iter()
        .find(|row| row.name == name)
        .ok_or_else(|| format!("unknown row {name:?}"))?;
    let (_, factory) = row
        .cells
        .iter()
        .find(|(c, _)| *c == column)
        .ok_or_else(|| format!("the row {name} has no {} column", column.name()))?;
    let took = factory().run_once().map_err(|mismatch| {
        format!(
            "{name} on {} computed a wrong answer: {mismatch}",
            column.name()
        )
    })?;
    Ok(format!("elapsed_ns={}", took.as_nanos()))
}
