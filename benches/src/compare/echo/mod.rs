//! tcp_echo: the same echo server on weft, tokio and smol, each in a child
//! process, driven by one fixed load client of plain threads and blocking
//! sockets, so that only the server differs.
//!
//! ```text
//!   parent (load client: a thread per connection, blocking sockets)
//!      │ 127.0.0.1
//!      ├──▶ child: echo server on weft    ┐ CPU time from /proc/<pid>/task/*/schedstat,
//!      ├──▶ child: echo server on tokio   ├ system calls from strace -c -f -p <pid>
//!      └──▶ child: echo server on smol    ┘
//! ```
//!
//! Three loads, each run `runs` times per server, interleaved across the
//! servers after one warm-up round:
//!
//! * 50 connections, each sending a 64-byte message and waiting for its
//!   echo before the next, for a fixed time: requests per second, and the
//!   server's CPU time per request;
//! * the same over 1 connection (pure latency: every request is a round
//!   trip through both processes);
//! * bulk: one connection sending a large block while reading the echo
//!   back: MB/s and server CPU per MiB.
//!
//! The client checks every echoed byte, so a server that drops or mangles
//! data fails the report. On a shared 2-core machine the kernel and the
//! client take most of the CPU, so the wall-clock rates move with the
//! machine's load; CPU per request and system calls per request are the
//! server's own cost and the figures to compare.
//!
//! The servers are `crate::echo_server`'s; the system-call counts come
//! from a separate, short run under strace (`crate::strace`).

use std::time::Duration;

use crate::cpu::process_cpu;
use crate::load_client::{bulk, request_response, BulkOutcome, RequestOutcome, Stop};
use crate::measure::median_f64;
use crate::report::{figure, ratio, Table};
use crate::server_child::{Launch, ServerChild};
use crate::strace::Strace;

use super::run_child::RUNTIMES;
use super::Options;

/// The request (and reply) size of the request/response loads.
const MESSAGE: usize = 64;

/// Connections of the many-connections load.
const MANY: usize = 50;

const MIB: f64 = 1024.0 * 1024.0;

/// The pause before each measurement, for the server to go idle.
const SETTLE: Duration = Duration::from_millis(20);

/// The CPU time `server` has used so far.
fn server_cpu(server: &ServerChild) -> Result<Duration, String> {
    process_cpu(server.pid())
        .map_err(|e| format!("reading the {} server's CPU time: {e}", server.name()))
}

/// One load the table reports.
#[derive(Debug, Clone, Copy)]
enum Load {
    /// `connections` connections of 64-byte request/response.
    Requests { connections: usize },
    /// One connection streaming `bytes` through the echo.
    Bulk { bytes: u64 },
}

impl Load {
    /// Runs the load against `server`: (work units per second, server CPU
    /// per work unit in µs). A unit is a request, or a MiB for bulk.
    fn measure(self, server: &ServerChild, options: &Options) -> Result<(f64, f64), String> {
        // Let the server finish with the previous load's connections (the
        // client closed them) before its CPU time is read.
        std::thread::sleep(SETTLE);
        let cpu_before = server_cpu(server)?;
        let (units, seconds) = match self {
            Load::Requests { connections } => {
                let stop = Stop::After(Duration::from_millis(options.sizes.echo_millis));
                let RequestOutcome { requests, elapsed } =
                    request_response(server.addr(), connections, MESSAGE, stop)?;
                (requests as f64, elapsed.as_secs_f64())
            }
            Load::Bulk { bytes } => {
                let BulkOutcome { elapsed } = bulk(server.addr(), bytes)?;
                (bytes as f64 / MIB, elapsed.as_secs_f64())
            }
        };
        let cpu = (server_cpu(server)? - cpu_before).as_secs_f64();
        Ok((units / seconds, cpu * 1e6 / units))
    }

    /// Runs a short fixed load under strace: system calls per unit.
    fn syscalls(self, server: &ServerChild, options: &Options) -> Result<Option<f64>, String> {
        let Some(tracer) = Strace::attach(server.pid()) else {
            return Ok(None);
        };
        let units = match self {
            Load::Requests { connections } => {
                let per_connection = options.sizes.traced_requests;
                let stop = Stop::Requests(per_connection);
                request_response(server.addr(), connections, MESSAGE, stop)?;
                (per_connection * connections as u64) as f64
            }
            Load::Bulk { bytes } => {
                // A sixteenth of the timed size: strace slows every call.
                let bytes = (bytes / 16).max(1 << 20);
                bulk(server.addr(), bytes)?;
                bytes as f64 / MIB
            }
        };
        Ok(tracer.finish().map(|calls| calls as f64 / units))
    }

    fn label(self) -> String {
        match self {
            Load::Requests { connections: 1 } => {
                format!("1 connection, {MESSAGE}-byte request/response")
            }
            Load::Requests { connections } => {
                format!("{connections} connections, {MESSAGE}-byte request/response")
            }
            Load::Bulk { .. } => "bulk, 1 connection".to_owned(),
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Load::Requests { .. } => "request",
            Load::Bulk { .. } => "MiB",
        }
    }
}

/// Runs every load against every server and returns the table.
pub(crate) fn echo_table(options: &Options) -> Result<Table, String> {
    let loads = [
        Load::Requests { connections: MANY },
        Load::Requests { connections: 1 },
        Load::Bulk {
            bytes: options.sizes.bulk_bytes,
        },
    ];
    let servers = RUNTIMES
        .iter()
        .map(|runtime| {
            ServerChild::start(runtime, Launch::ThisBinary)?
                .ok_or_else(|| format!("no {runtime} server"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut table = Table::new(&["tcp_echo", "weft", "tokio", "weft / tokio", "smol"]);
    for load in loads {
        eprintln!("running tcp_echo: {} ...", load.label());
        let mut rates = vec![Vec::new(); servers.len()];
        let mut cpus = vec![Vec::new(); servers.len()];
        for round in 0..=options.runs {
            for (i, server) in servers.iter().enumerate() {
                let (rate, cpu) = load.measure(server, options)?;
                // Round 0 warms up the servers and the kernel's socket caches.
                if round > 0 {
                    rates[i].push(rate);
                    cpus[i].push(cpu);
                }
            }
        }
        let syscalls = servers
            .iter()
            .map(|server| load.syscalls(server, options))
            .collect::<Result<Vec<_>, _>>()?;
        let rate_unit = match load {
            Load::Requests { .. } => "requests/s",
            Load::Bulk { .. } => "MiB/s",
        };
        let medians = |samples: &[Vec<f64>]| samples.iter().map(|s| Some(median_f64(s))).collect();
        push_row(
            &mut table,
            format!("{}: {rate_unit} (higher is better)", load.label()),
            medians(&rates),
        );
        push_row(
            &mut table,
            format!("{}: server CPU µs / {}", load.label(), load.unit()),
            medians(&cpus),
        );
        push_row(
            &mut table,
            format!(
                "{}: server syscalls / {} (strace)",
                load.label(),
                load.unit()
            ),
            syscalls,
        );
    }
    for server in servers {
        server.stop()?;
    }
    Ok(table)
}

/// A row of figures for weft, tokio and smol, with weft / tokio.
fn push_row(table: &mut Table, label: String, figures: Vec<Option<f64>>) {
    let shown = |f: Option<f64>| f.map_or("n/a (no strace)".to_owned(), figure);
    table.row(vec![
        label,
        shown(figures[0]),
        shown(figures[1]),
        ratio(figures[0], figures[1]),
        shown(figures[2]),
    ]);
}
