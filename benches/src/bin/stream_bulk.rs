//! Bulk throughput of a stream echo server: weft's streams beside weft's
//! plain `TcpStream`, tokio and Python's asyncio, in one run: MiB/s, the
//! server's CPU time per MiB, and its system calls per MiB, counted two
//! ways.
//!
//! ```text
//! cargo run --release -p weft-benches --bin stream_bulk                       # 5 runs of 64 MiB
//! cargo run --release -p weft-benches --bin stream_bulk -- --mib 256 --runs 9
//! ```
//!
//! Each server is an echo server in a child process of its own, so that
//! the CPU time and system calls counted are its own:
//!
//! * **weft streams**: `Server::from_listener` (what `start_server` does on
//!   an address), a handler looping on `read_into` a 64 KiB buffer,
//!   `write`, `drain`;
//! * **weft TcpStream**: weft's runtime with `net::TcpStream` `read` /
//!   `write_all` and a 64 KiB buffer, to show what the streams layer
//!   adds;
//! * **tokio**: a current-thread runtime with `tokio::net::TcpStream`
//!   `read` / `write_all` and a 64 KiB buffer;
//! * **asyncio**: `asyncio.start_server` with a handler looping on
//!   `reader.read(65536)`, `writer.write`, `await writer.drain()`, run by
//!   `python3` (skipped if there is none).
//!
//! ```text
//!   parent (client: one connection, a writer thread and a reader thread, blocking sockets)
//!      │ 127.0.0.1                      timed run:  N MiB ──▶ echo ──▶ checked ──▶ MiB/s
//!      ├──▶ child: weft streams server              perf stat -p <child> counting ──▶ calls / MiB
//!      ├──▶ child: weft TcpStream server  traced run: strace -c -f -p <child> around
//!      ├──▶ child: tokio server                       another N MiB ──▶ calls / MiB
//!      └──▶ child: python3 asyncio server
//! ```
//!
//! The client (`weft_benches::load_client::bulk`) is the same for every
//! server: one thread writes N MiB in 64 KiB writes and shuts its side
//! down, the other reads the echo back, checks every byte and waits for
//! the end of the stream. MiB/s is N over that wall time; the server's CPU
//! time over the transfer (user and kernel, from `/proc`,
//! `weft_benches::cpu`) per MiB is its own cost, which moves far less with
//! the rest of the machine's load than the wall time does. Each round takes
//! one timed and one traced transfer from every server in turn; round 0
//! warms up and is not counted, and the table gives the median and the
//! range of the counted rounds.
//!
//! With 64 KiB reads and writes the floor is 32 calls per MiB, 16 reads
//! and 16 writes, plus the waits in `epoll_wait` when the socket runs dry.
//! How close a server gets depends on how much the socket holds when it
//! reads (a short read costs a read more), and so on timing. Two counts,
//! two trade-offs:
//!
//! * **perf** (`weft_benches::perf_stat`): the kernel's
//!   `raw_syscalls:sys_enter` tracepoint counts the server's calls during
//!   the timed transfer itself, at a few nanoseconds per call: the calls
//!   the measured run made. Needs perf and the privilege to use
//!   tracepoints.
//! * **strace** (`weft_benches::strace`): `strace -c -f` attached for a
//!   transfer of its own, never a timed one, since it slows every call of
//!   the server a great deal. The slowed server reads at another pace, so
//!   this count is of a different run shape (on the machine of the
//!   README's table, about 55 calls per MiB under strace for weft and
//!   tokio, against about 33 counted by perf); it is kept because strace
//!   runs where perf may not.
//!
//! The count moves between runs, which is why the table shows the range.
//! Where a tool is missing or may not attach, its column says so.

use std::process::ExitCode;

use weft_benches::cpu::process_cpu;
use weft_benches::echo_server::{serve_child, TokioServer, WeftServer, WeftStreamsServer};
use weft_benches::load_client::bulk;
use weft_benches::measure::median_f64;
use weft_benches::perf_stat::PerfStat;
use weft_benches::report::{figure, machine, today, Table};
use weft_benches::server_child::{Launch, ServerChild, SERVE_FLAG};
use weft_benches::strace::Strace;

/// The asyncio server's connection handler (`server_child` wraps it in
/// `asyncio.start_server`).
const ASYNCIO_HANDLER: &str = r#"
async def handle(reader, writer):
    while True:
        data = await reader.read(65536)
        if not data:
            break
        writer.write(data)
        await writer.drain()
    writer.close()
"#;

/// The servers measured, by the name the table prints, and how each is
/// started.
const SERVERS: [(&str, Launch); 4] = [
    ("weft streams", Launch::ThisBinary),
    ("weft TcpStream", Launch::ThisBinary),
    ("tokio", Launch::ThisBinary),
    (
        "asyncio",
        Launch::Asyncio {
            handler: ASYNCIO_HANDLER,
        },
    ),
];

/// What to run.
#[derive(Debug, Clone, Copy)]
struct Options {
    /// MiB streamed through the echo per transfer.
    mib: u64,
    /// Counted rounds (after one warm-up).
    runs: usize,
}

const USAGE: &str = "usage: stream_bulk [--mib N] [--runs N]";

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Options { mib: 64, runs: 5 };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let mut value = || -> Result<u64, String> {
                let text = args.next().ok_or(format!("{flag} needs a number"))?;
                text.parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("{flag} needs a positive number, not {text:?}"))
            };
            match flag.as_str() {
                "--mib" => options.mib = value()?,
                "--runs" => options.runs = value()? as usize,
                _ => return Err(format!("unknown argument {flag:?}; {USAGE}")),
            }
        }
        Ok(options)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.as_slice() {
        [flag, server] if flag == SERVE_FLAG => Err(serve(server)),
        _ => Options::parse(&args).and_then(run),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("stream_bulk: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The child side: serves echo with the server called `name` until stdin
/// closes; returns only on failure, with the reason.
fn serve(name: &str) -> String {
    match name {
        "weft streams" => serve_child::<WeftStreamsServer>(),
        "weft TcpStream" => serve_child::<WeftServer>(),
        "tokio" => serve_child::<TokioServer>(),
        _ => format!("no server called {name:?}"),
    }
}

/// One server's figures over the counted rounds.
#[derive(Debug, Default)]
struct Samples {
    mib_per_second: Vec<f64>,
    /// Server CPU time in µs per MiB, over the timed transfers.
    cpu_per_mib: Vec<f64>,
    /// Counted by perf during the timed transfers.
    perf_calls_per_mib: Vec<f64>,
    /// Counted by strace during transfers of their own.
    strace_calls_per_mib: Vec<f64>,
}

/// Measures every server, round after round, and prints the table.
fn run(options: Options) -> Result<(), String> {
    let mut servers = Vec::new();
    let mut missing = Vec::new();
    for (name, launch) in SERVERS {
        match ServerChild::start(name, launch)? {
            Some(server) => servers.push(server),
            None => missing.push(name),
        }
    }
    let bytes = options.mib << 20;
    let mut samples: Vec<Samples> = servers.iter().map(|_| Samples::default()).collect();
    let (mut perf_works, mut strace_works) = (true, true);
    for round in 0..=options.runs {
        eprintln!(
            "stream_bulk: round {round} of {}{} ...",
            options.runs,
            if round == 0 { " (warm-up)" } else { "" }
        );
        for (server, samples) in servers.iter().zip(&mut samples) {
            let counter = perf_works.then(|| PerfStat::attach(server.pid())).flatten();
            perf_works = counter.is_some();
            let cpu_before = server_cpu(server)?;
            let timed =
                bulk(server.addr(), bytes).map_err(|e| format!("{}: {e}", server.name()))?;
            let cpu = server_cpu(server)? - cpu_before;
            let perf_calls = counter.and_then(PerfStat::finish);
            let strace_calls = if strace_works {
                traced_calls(server, bytes)?
            } else {
                None
            };
            strace_works = strace_calls.is_some();
            if round > 0 {
                let per_mib = |calls: u64| calls as f64 / options.mib as f64;
                samples
                    .mib_per_second
                    .push(options.mib as f64 / timed.elapsed.as_secs_f64());
                samples
                    .cpu_per_mib
                    .push(cpu.as_secs_f64() * 1e6 / options.mib as f64);
                samples.perf_calls_per_mib.extend(perf_calls.map(per_mib));
                samples
                    .strace_calls_per_mib
                    .extend(strace_calls.map(per_mib));
            }
        }
    }
    let mut table = Table::new(&[
        "server",
        "MiB/s (higher is better)",
        "server CPU µs / MiB",
        "system calls / MiB, perf (lower is better)",
        "system calls / MiB, strace",
    ]);
    for (server, samples) in servers.iter().zip(&samples) {
        let counted = |calls: &[f64], tool: &str| {
            if calls.is_empty() {
                format!("n/a (no {tool})")
            } else {
                median_and_range(calls)
            }
        };
        table.row(vec![
            server.name().to_owned(),
            median_and_range(&samples.mib_per_second),
            median_and_range(&samples.cpu_per_mib),
            counted(&samples.perf_calls_per_mib, "perf"),
            counted(&samples.strace_calls_per_mib, "strace"),
        ]);
    }
    for name in missing {
        table.row(vec![name.to_owned(), "n/a (no python3)".to_owned()]);
    }
    for server in servers {
        server.stop()?;
    }
    print!(
        "## Bulk echo through a stream server: MiB/s, server CPU and system calls per MiB\n\n\
         {}, {}. One connection streaming {} MiB through the echo per transfer; \
         median (min – max) of {} rounds, interleaved across the servers, after one \
         warm-up. Server CPU time over the timed transfer. System calls of the \
         server: perf counts them during the timed \
         transfer (raw_syscalls:sys_enter); strace -c -f during a separate transfer \
         of the same size, slowed by it.\n\n{}",
        machine(),
        today(),
        options.mib,
        options.runs,
        table.to_markdown()
    );
    Ok(())
}

/// The CPU time `server` has used so far.
fn server_cpu(server: &ServerChild) -> Result<std::time::Duration, String> {
    process_cpu(server.pid())
        .map_err(|e| format!("reading the {} server's CPU time: {e}", server.name()))
}

/// Streams `bytes` through `server` with strace attached to it: the calls
/// it made; `None` if strace is missing or cannot attach.
fn traced_calls(server: &ServerChild, bytes: u64) -> Result<Option<u64>, String> {
    let Some(tracer) = Strace::attach(server.pid()) else {
        return Ok(None);
    };
    let transfer = bulk(server.addr(), bytes);
    let calls = tracer.finish();
    transfer.map_err(|e| format!("{} (traced): {e}", server.name()))?;
    Ok(calls)
}

/// `median (min – max)` of `samples`.
fn median_and_range(samples: &[f64]) -> String {
    let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
    let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!(
        "{} ({} – {})",
        figure(median_f64(samples)),
        figure(min),
        figure(max)
    )
}
