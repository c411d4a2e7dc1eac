//! The echo server of weft's `echo_server` example, under load, beside a
//! tokio current-thread echo server, in one process and one run.
//!
//! ```text
//! cargo run --release -p weft-benches --bin echo_compare                 # 3 rounds of 3 s
//! cargo run --release -p weft-benches --bin echo_compare -- --quick      # CI: well under 5 s
//! cargo run --release -p weft-benches --bin echo_compare -- --seconds 5 --rounds 5 --bulk-mib 512
//! ```
//!
//! Three servers, each on its own thread with its own single-threaded
//! runtime, listening on 127.0.0.1:
//!
//! * **weft streams**: `start_server` with the example's handler
//!   (`read_into` a 64 KiB buffer, `write`, `drain`);
//! * **weft TcpStream**: an accept loop and a task per connection with
//!   `read` / `write_all` on `weft_runtime::net::TcpStream`, to show what
//!   the streams layer costs;
//! * **tokio**: the same loop on tokio's current-thread runtime and
//!   `tokio::net::TcpStream`.
//!
//! Each is driven by the same fixed load client of plain threads and
//! blocking sockets (`weft_benches::load_client`), which checks every
//! echoed byte:
//!
//! * 50 connections doing request/response with 64-byte messages for a
//!   fixed time: requests per second;
//! * one bulk connection streaming 256 MiB through while reading the echo
//!   back: MB/s (10^6 bytes of payload per second, one direction).
//!
//! The rounds are interleaved across the servers and the table gives the
//! median of each figure. On a machine with few cores the 50 client
//! threads and the kernel take most of the CPU, so the absolute rates move
//! with the machine's load; the ratios, measured side by side, are the
//! figures to read.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::process::ExitCode;
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use weft_benches::load_client::{bulk, request_response, Stop};
use weft_benches::measure::median_f64;
use weft_benches::report::{figure, machine, ratio, today, Table};
use weft_primitives::Event;

/// The request (and reply) size of the request/response load.
const MESSAGE: usize = 64;

/// Bytes one `read` asks for in every server.
const BUFFER: usize = 64 * 1024;

/// What to run.
#[derive(Debug, Clone, Copy)]
struct Options {
    duration: Duration,
    connections: usize,
    bulk_bytes: u64,
    rounds: usize,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Options {
            duration: Duration::from_secs(3),
            connections: 50,
            bulk_bytes: 256 << 20,
            rounds: 3,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| -> Result<u64, String> {
                let text = args.next().ok_or(format!("{name} needs a number"))?;
                text.parse().map_err(|e| format!("{name} {text}: {e}"))
            };
            match arg.as_str() {
                "--quick" => {
                    options.duration = Duration::from_millis(300);
                    options.bulk_bytes = 16 << 20;
                    options.rounds = 1;
                }
                "--seconds" => options.duration = Duration::from_secs(value(arg)?),
                "--connections" => options.connections = value(arg)? as usize,
                "--bulk-mib" => options.bulk_bytes = value(arg)? << 20,
                "--rounds" => options.rounds = (value(arg)? as usize).max(1),
                _ => {
                    return Err(format!(
                        "unknown argument {arg}; usage: echo_compare [--quick] [--seconds S] \
                         [--connections N] [--bulk-mib M] [--rounds R]"
                    ))
                }
            }
        }
        Ok(options)
    }
}

/// An echo server running on a thread of its own until `stop` is called.
struct RunningServer {
    name: &'static str,
    addr: SocketAddr,
    stop: Box<dyn FnOnce()>,
    thread: thread::JoinHandle<()>,
}

impl RunningServer {
    /// Starts `serve` on a new thread; `serve` binds, sends its address,
    /// and returns when `stop` fires.
    fn start<S>(name: &'static str, stop: Box<dyn FnOnce()>, serve: S) -> Result<Self, String>
    where
        S: FnOnce(mpsc::Sender<Result<SocketAddr, String>>) + Send + 'static,
    {
        let (addr_tx, addr_rx) = mpsc::channel();
        let thread = thread::spawn(move || serve(addr_tx));
        let addr = addr_rx
            .recv()
            .map_err(|_| format!("{name}: the server thread died before listening"))??;
        Ok(Self {
            name,
            addr,
            stop,
            thread,
        })
    }

    fn shut_down(self) -> Result<(), String> {
        (self.stop)();
        self.thread
            .join()
            .map_err(|_| format!("{}: the server thread panicked", self.name))
    }
}

/// weft's runtime on this thread: binds with `bind`, reports the address,
/// then runs `serve` until `stop` is set.
fn run_weft<B, S>(stop: Arc<Event>, addr_tx: mpsc::Sender<Result<SocketAddr, String>>, bind: B)
where
    B: Future<Output = std::io::Result<(SocketAddr, S)>>,
    S: Future<Output = ()>,
{
    weft_runtime::run(async move {
        match bind.await {
            Ok((addr, serve)) => {
                let _ = addr_tx.send(Ok(addr));
                let serve = pin!(serve);
                let stopped = pin!(stop.wait());
                weft_runtime::select2(serve, stopped).await;
            }
            Err(e) => {
                let _ = addr_tx.send(Err(format!("bind: {e}")));
            }
        }
    });
}

/// The `echo_server` example's handler: `read_into`, `write`, `drain`.
async fn weft_streams_echo(
    mut reader: weft_runtime::StreamReader,
    mut writer: weft_runtime::StreamWriter,
) {
    let mut buf = vec![0; BUFFER];
    while let Ok(n @ 1..) = reader.read_into(&mut buf).await {
        if writer.write(&buf[..n]).is_err() || writer.drain().await.is_err() {
            return;
        }
    }
}

fn weft_streams_server() -> Result<RunningServer, String> {
    let stop = Arc::new(Event::new());
    let event = stop.clone();
    RunningServer::start(
        "weft streams",
        Box::new(move || stop.set()),
        move |addr_tx| {
            run_weft(event, addr_tx, async {
                let server = weft_runtime::start_server(weft_streams_echo, "127.0.0.1:0").await?;
                // The server is accepting already; keep it alive until stopped.
                Ok((server.local_addr(), async move {
                    server.serve_forever().await;
                }))
            })
        },
    )
}

fn weft_tcp_server() -> Result<RunningServer, String> {
    use weft_runtime::net::{TcpListener, TcpStream};

    async fn echo(mut stream: TcpStream) {
        let mut buf = vec![0; BUFFER];
        while let Ok(n @ 1..) = stream.read(&mut buf).await {
            if stream.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }

    let stop = Arc::new(Event::new());
    let event = stop.clone();
    RunningServer::start(
        "weft TcpStream",
        Box::new(move || stop.set()),
        move |addr_tx| {
            run_weft(event, addr_tx, async {
                let mut listener = TcpListener::bind("127.0.0.1:0").await?;
                Ok((listener.local_addr()?, async move {
                    while let Ok((stream, _)) = listener.accept().await {
                        let _ = stream.set_nodelay(true);
                        drop(weft_runtime::spawn(echo(stream)));
                    }
                }))
            })
        },
    )
}

fn tokio_server() -> Result<RunningServer, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    async fn echo(mut stream: TcpStream) {
        let mut buf = vec![0; BUFFER];
        while let Ok(n @ 1..) = stream.read(&mut buf).await {
            if stream.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let stop = Box::new(move || {
        // Fails only if the server thread already ended.
        let _ = stop_tx.send(());
    });
    RunningServer::start("tokio", stop, move |addr_tx| {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                let _ = addr_tx.send(Err(format!("tokio runtime: {e}")));
                return;
            }
        };
        runtime.block_on(async move {
            let listener = match TcpListener::bind("127.0.0.1:0").await {
                Ok(listener) => listener,
                Err(e) => {
                    let _ = addr_tx.send(Err(format!("bind: {e}")));
                    return;
                }
            };
            let _ = addr_tx.send(listener.local_addr().map_err(|e| e.to_string()));
            let accept_loop = async {
                while let Ok((stream, _)) = listener.accept().await {
                    let _ = stream.set_nodelay(true);
                    drop(tokio::spawn(echo(stream)));
                }
            };
            tokio::select! {
                _ = accept_loop => {}
                _ = stop_rx => {}
            }
        });
    })
}

/// The figures of one server over all rounds.
#[derive(Debug, Default)]
struct Samples {
    requests_per_second: Vec<f64>,
    megabytes_per_second: Vec<f64>,
}

fn measure_round(
    server: &RunningServer,
    options: &Options,
    samples: &mut Samples,
) -> Result<(), String> {
    let load = request_response(
        server.addr,
        options.connections,
        MESSAGE,
        Stop::After(options.duration),
    )
    .map_err(|e| format!("{}: {e}", server.name))?;
    samples
        .requests_per_second
        .push(load.requests as f64 / load.elapsed.as_secs_f64());
    let streamed =
        bulk(server.addr, options.bulk_bytes).map_err(|e| format!("{}: {e}", server.name))?;
    samples
        .megabytes_per_second
        .push(options.bulk_bytes as f64 / 1e6 / streamed.elapsed.as_secs_f64());
    Ok(())
}

fn run(options: &Options) -> Result<String, String> {
    let servers = [weft_streams_server()?, weft_tcp_server()?, tokio_server()?];
    let mut samples: Vec<Samples> = servers.iter().map(|_| Samples::default()).collect();
    for _ in 0..options.rounds {
        for (server, samples) in servers.iter().zip(&mut samples) {
            measure_round(server, options, samples)?;
        }
    }
    let names: Vec<&str> = servers.iter().map(|s| s.name).collect();
    for server in servers {
        server.shut_down()?;
    }

    let medians: Vec<(f64, f64)> = samples
        .iter()
        .map(|s| {
            (
                median_f64(&s.requests_per_second),
                median_f64(&s.megabytes_per_second),
            )
        })
        .collect();
    let requests_header = format!("requests/s ({} conns, {MESSAGE} B)", options.connections);
    let bulk_header = format!("MB/s (1 conn, {} MiB)", options.bulk_bytes >> 20);
    let mut table = Table::new(&["server", &requests_header, &bulk_header]);
    for (name, (requests, megabytes)) in names.iter().zip(&medians) {
        table.row(vec![
            (*name).to_owned(),
            figure(*requests),
            figure(*megabytes),
        ]);
    }
    let tokio = medians[2];
    for (name, (requests, megabytes)) in names.iter().zip(&medians).take(2) {
        table.row(vec![
            format!("{name} / tokio"),
            ratio(Some(*requests), Some(tokio.0)),
            ratio(Some(*megabytes), Some(tokio.1)),
        ]);
    }
    Ok(format!(
        "## TCP echo: weft vs tokio (current-thread)\n\n{}, {}. Median of {} round(s) of {:?} \
         per server; every echoed byte checked. Ratios above 1 mean weft is faster.\n\n{}",
        machine(),
        today(),
        options.rounds,
        options.duration,
        table.to_markdown()
    ))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = Options::parse(&args).and_then(|options| run(&options));
    match result {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("echo_compare: {message}");
            ExitCode::FAILURE
        }
    }
}
