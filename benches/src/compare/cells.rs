//! The vocabulary of the time table: its columns, a row and its cells,
//! and the macros that write a row's cells once for every column.
//!
//! A row lists its cells as *factories*: a cell's runtime is built only
//! when its row starts (or in the child process that runs it) and dropped
//! when the row ends, so no runtime idles in the background of another's
//! measurement.
//!
//! The primitive workloads fill the five runtime columns from one
//! description, through `matrix_cells!`: the workload body is written
//! once with a runtime type `R` and a primitive type `P`, and the macro
//! instantiates it for each (runtime, primitive) pair. `floor_cell!` adds
//! the row's floor (see `crate::floor`).

use crate::measure::Cell;

/// The columns of the time table, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    /// weft's runtime with weft's primitives.
    Weft,
    /// tokio's current-thread runtime with tokio's primitives.
    Tokio,
    /// smol's `LocalExecutor` with async-lock / async-channel.
    Smol,
    /// The same work with no runtime (`crate::floor`).
    Floor,
    /// weft's runtime with the tokio column's primitive.
    WeftRuntimeTokioPrimitive,
    /// tokio's runtime with weft's primitive.
    TokioRuntimeWeftPrimitive,
}

impl Column {
    /// Every column, in the order a round runs them.
    pub(crate) const ALL: [Column; 6] = [
        Column::Weft,
        Column::Tokio,
        Column::Smol,
        Column::Floor,
        Column::WeftRuntimeTokioPrimitive,
        Column::TokioRuntimeWeftPrimitive,
    ];

    /// The name `--column` selects the column by (and a child is asked
    /// for it by).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Column::Weft => "weft",
            Column::Tokio => "tokio",
            Column::Smol => "smol",
            Column::Floor => "floor",
            Column::WeftRuntimeTokioPrimitive => "weft-rt",
            Column::TokioRuntimeWeftPrimitive => "tokio-rt",
        }
    }

    /// The column called `name`.
    pub(crate) fn named(name: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|column| column.name() == name)
    }
}

/// Builds one cell when its row starts.
pub(crate) type CellFactory = Box<dyn Fn() -> Cell>;

/// One line of the time table.
pub(crate) struct Row {
    pub(crate) name: &'static str,
    pub(crate) shape: String,
    /// What one operation is, for the "ns per …" unit.
    pub(crate) per: &'static str,
    /// Operations per run: a cell's figure is its median run over this.
    pub(crate) operations: u64,
    pub(crate) cells: Vec<(Column, CellFactory)>,
}

/// One cell on runtime `$runtime` whose body sees the runtime as `$rt` (of
/// type `$R`).
macro_rules! cell {
    ($runtime:ty, |$rt:ident: $R:ident| $body:expr) => {{
        type $R = $runtime;
        Box::new(move || $crate::measure::Cell::new::<$R>(move |$rt: &$R| $body))
            as $crate::compare::cells::CellFactory
    }};
}

/// The floor cell of a row: `$body` runs with no runtime.
macro_rules! floor_cell {
    ($body:expr) => {
        (
            $crate::compare::cells::Column::Floor,
            Box::new(move || $crate::measure::Cell::without_runtime(move || $body))
                as $crate::compare::cells::CellFactory,
        )
    };
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

/// All five runtime cells of a primitive workload: the body sees the
/// runtime as `$rt: $R` and the primitive type as `$P`.
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
