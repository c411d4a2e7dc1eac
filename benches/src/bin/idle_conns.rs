//! What an idle stream connection costs a server: resident memory per
//! connection with 10 000 connections open and silent, for weft's streams
//! beside tokio and Python's asyncio, in one run.
//!
//! ```text
//! cargo run --release -p weft-benches --bin idle_conns                         # 10 000 connections
//! cargo run --release -p weft-benches --bin idle_conns -- --connections 2000
//! ```
//!
//! Each server is a line-echo server in a child process of its own, so
//! that its resident set is its own:
//!
//! * **weft streams**: `start_server`, a handler looping on `readline`,
//!   `write`, `drain`;
//! * **tokio**: a current-thread runtime, a task per connection with a
//!   `BufReader<TcpStream>` looping on `read_until(b'\n')`, `write_all`;
//! * **asyncio**: `asyncio.start_server` with a `readline` / `write` /
//!   `drain` handler, run by `python3` (skipped if there is none).
//!
//! ```text
//!   parent (client: N blocking sockets, held open, silent)
//!      │ 127.0.0.1                       RSS before ─┐
//!      ├──▶ child: weft streams server               ├─ (RSS with N idle − RSS before) / N
//!      ├──▶ child: tokio server                      │
//!      └──▶ child: python3 asyncio server  RSS after ┘
//! ```
//!
//! The parent opens the connections, waits until the server holds them all
//! (its count of open file descriptors, from `/proc`) and has gone quiet,
//! reads the server's `VmRSS`, and checks that one connection still echoes.
//! Every handler has then started its first read and waits in it: the
//! figure is what a connection costs while no byte flows, runtime, task,
//! socket registration and stream buffers together (the kernel's socket
//! memory is not in the resident set). Both processes hold N sockets, so
//! the open-file limit is raised to its hard maximum first; the report
//! says what it is.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use weft_benches::memory::rss_bytes_of;
use weft_benches::report::{figure, machine, today, Table};
use weft_benches::server_child::{
    announce, exit_when_stdin_closes, Launch, ServerChild, SERVE_FLAG,
};

/// Connections opened when `--connections` is not given.
const DEFAULT_CONNECTIONS: usize = 10_000;

/// Connections the client may have opened beyond those the server has
/// accepted: well under every server's listen backlog (asyncio's default
/// is 100), so that no handshake is dropped and retried a second later.
const AHEAD: usize = 64;

/// How long a server may take to accept every connection.
const ACCEPT_LIMIT: Duration = Duration::from_secs(60);

/// The pause after the last accept, for every handler to reach its read.
const SETTLE: Duration = Duration::from_millis(500);

/// The asyncio server's connection handler (`server_child` wraps it in
/// `asyncio.start_server`).
const ASYNCIO_HANDLER: &str = r#"
async def handle(reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(line)
        await writer.drain()
    writer.close()
"#;

/// The servers measured, by the name the table prints.
const SERVERS: [&str; 3] = ["weft streams", "tokio BufReader", "asyncio"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.as_slice() {
        [flag, server] if flag == SERVE_FLAG => serve(server),
        _ => parse_connections(&args).and_then(run),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("idle_conns: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_connections(args: &[String]) -> Result<usize, String> {
    match args {
        [] => Ok(DEFAULT_CONNECTIONS),
        [flag, n] if flag == "--connections" => n
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("--connections needs a positive number, not {n:?}")),
        _ => Err(format!(
            "unknown arguments {args:?}; usage: idle_conns [--connections N]"
        )),
    }
}

/// Measures every server and prints the table.
fn run(connections: usize) -> Result<(), String> {
    let limit = raise_open_file_limit()?;
    // The client's sockets, the server's, and a few more for each process.
    let connections = if connections as u64 + 64 > limit {
        let fitting = limit.saturating_sub(64) as usize;
        eprintln!(
            "note: the open-file limit is {limit}: measuring {fitting} connections, not {connections}"
        );
        fitting
    } else {
        connections
    };
    let mut table = Table::new(&[
        "server",
        "RSS before, MiB",
        "RSS with idle connections, MiB",
        "bytes per idle connection",
    ]);
    for name in SERVERS {
        eprintln!("idle_conns: {name}, {connections} connections ...");
        let launch = if name == "asyncio" {
            Launch::Asyncio {
                handler: ASYNCIO_HANDLER,
            }
        } else {
            Launch::ThisBinary
        };
        let Some(server) = ServerChild::start(name, launch)? else {
            table.row(vec![name.to_owned(), "n/a (no python3)".to_owned()]);
            continue;
        };
        let measured = measure(&server, connections);
        server.stop()?;
        let (before, after) = measured?;
        table.row(vec![
            name.to_owned(),
            figure(before as f64 / MIB),
            figure(after as f64 / MIB),
            figure((after as f64 - before as f64) / connections as f64),
        ]);
    }
    print!(
        "## Idle connections: server RSS per connection\n\n{}, {}. {connections} idle \
         connections per server, each handler waiting in its first read; open-file \
         limit {limit}. Lower is better.\n\n{}",
        machine(),
        today(),
        table.to_markdown()
    );
    Ok(())
}

const MIB: f64 = 1024.0 * 1024.0;

/// Opens `connections` silent connections to `server` and returns its
/// resident set before and with them, in bytes.
fn measure(server: &ServerChild, connections: usize) -> Result<(u64, u64), String> {
    std::thread::sleep(SETTLE);
    let base_fds = open_fds(server)?;
    let before = rss(server)?;
    let mut clients = Vec::with_capacity(connections);
    for opened in 0..connections {
        if opened % AHEAD == 0 {
            wait_for_fds(server, base_fds + opened.saturating_sub(AHEAD))?;
        }
        let client = TcpStream::connect(server.addr())
            .map_err(|e| format!("connection {opened} to {}: {e}", server.name()))?;
        clients.push(client);
    }
    wait_for_fds(server, base_fds + connections)?;
    std::thread::sleep(SETTLE);
    let after = rss(server)?;
    check_echo(&mut clients[0]).map_err(|e| format!("{}: {e}", server.name()))?;
    Ok((before, after))
}

/// Sends one line on `client` and checks that it comes back.
fn check_echo(client: &mut TcpStream) -> Result<(), String> {
    const LINE: &[u8] = b"still there?\n";
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    client
        .write_all(LINE)
        .map_err(|e| format!("echo check: write: {e}"))?;
    let mut echo = [0; LINE.len()];
    client
        .read_exact(&mut echo)
        .map_err(|e| format!("echo check: read: {e}"))?;
    if echo != LINE {
        return Err(format!("echo check: sent {LINE:?}, got {echo:?}"));
    }
    Ok(())
}

fn rss(server: &ServerChild) -> Result<u64, String> {
    rss_bytes_of(server.pid())
        .ok_or_else(|| format!("no VmRSS in /proc for the {} server", server.name()))
}

/// File descriptors the server has open: its listener, its runtime's, and
/// one per accepted connection.
fn open_fds(server: &ServerChild) -> Result<usize, String> {
    std::fs::read_dir(format!("/proc/{}/fd", server.pid()))
        .map(Iterator::count)
        .map_err(|e| format!("counting the {} server's open files: {e}", server.name()))
}

/// Waits until the server has at least `fds` files open.
fn wait_for_fds(server: &ServerChild, fds: usize) -> Result<(), String> {
    let deadline = Instant::now() + ACCEPT_LIMIT;
    while open_fds(server)? < fds {
        if Instant::now() > deadline {
            return Err(format!(
                "the {} server did not accept its connections within {ACCEPT_LIMIT:?}",
                server.name()
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

/// Raises this process's soft limit on open files to the hard limit (the
/// servers inherit it) and returns it.
fn raise_open_file_limit() -> Result<u64, String> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes one `rlimit` through the valid pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(format!(
            "getrlimit(NOFILE): {}",
            std::io::Error::last_os_error()
        ));
    }
    limit.rlim_cur = limit.rlim_max;
    // SAFETY: `setrlimit` reads one `rlimit` through the valid pointer.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(format!(
            "setrlimit(NOFILE, {}): {}",
            limit.rlim_max,
            std::io::Error::last_os_error()
        ));
    }
    Ok(limit.rlim_cur)
}

/// The child side: serves line echo with the server called `name`, prints
/// `port=N`, and exits when its stdin closes.
fn serve(name: &str) -> Result<(), String> {
    exit_when_stdin_closes();
    let served = match name {
        "weft streams" => serve_weft(),
        "tokio BufReader" => serve_tokio(),
        _ => return Err(format!("no server called {name:?}")),
    };
    served.map_err(|e| format!("{name} server: {e}"))
}

fn serve_weft() -> std::io::Result<()> {
    use weft_runtime::streams::{start_server, StreamReader, StreamWriter};

    async fn line_echo(mut reader: StreamReader, mut writer: StreamWriter) {
        while let Ok(line) = reader.readline().await {
            if line.is_empty() || writer.write(&line).is_err() || writer.drain().await.is_err() {
                return;
            }
        }
    }

    weft_runtime::run(async {
        let server = start_server(line_echo, "127.0.0.1:0").await?;
        announce(server.local_addr())?;
        server.serve_forever().await;
        Ok(())
    })
}

fn serve_tokio() -> std::io::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::{TcpListener, TcpStream};

    async fn line_echo(stream: TcpStream) {
        let mut stream = BufReader::new(stream);
        let mut line = Vec::new();
        loop {
            line.clear();
            match stream.read_until(b'\n', &mut line).await {
                Ok(1..) => {}
                _ => return,
            }
            if stream.get_mut().write_all(&line).await.is_err() {
                return;
            }
        }
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        announce(listener.local_addr()?)?;
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            drop(tokio::spawn(line_echo(stream)));
        }
    })
}
