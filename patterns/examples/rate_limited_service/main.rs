//! A TCP line service with a rate limit per client and a graceful shutdown
//! on Ctrl-C.
//!
//! # The protocol
//!
//! One request per line, one answer per line (try it with `nc`):
//!
//! ```text
//!   client                      server
//!   HELLO <client-id>      ──▶  WELCOME <client-id>: 10 requests/s, bursts of 3
//!   <text>                 ──▶  OK <TEXT IN UPPER CASE>
//!                               or, over quota: LIMITED retry-after-ms=<n>  (nothing done)
//!   SLOW <ms> <text>       ──▶  WORKING <ms> ms, then after <ms>: OK <TEXT IN UPPER CASE>
//!   (shutdown, between requests)  BYE shutting down
//! ```
//!
//! # Rate limiting
//!
//! A `KeyedRateLimiter` keyed by the id each client gives in its `HELLO`
//! line, so a client that reconnects keeps its quota (keying by the peer's
//! IP:port would hand every new connection a fresh one). Each id gets its
//! own GCRA limiter: ids starting with `partner-` may send 100 requests a
//! second in bursts of 20, the others 10 a second in bursts of 3. A request
//! over quota is answered at once with the exact time after which the next
//! one will be admitted; it does not wait in line, and it costs the client
//! nothing. Idle ids are forgotten by the limiter itself, and it tracks at
//! most 10 000 ids, so clients inventing ids cannot grow its memory.
//!
//! # Graceful shutdown
//!
//! Every connection runs as a task of a `Shutdown` coordinator. On Ctrl-C
//! (or SIGTERM) the service:
//!
//! 1. stops accepting: the accept loop ends and drops the listener, so new
//!    connections are refused;
//! 2. lets in-flight work finish within a grace period of 500 ms: a request
//!    being served is answered, and a connection between requests is told
//!    `BYE` and closed;
//! 3. cancels what still runs at the deadline (its task is dropped, which
//!    closes its connection);
//! 4. prints the shutdown report: what was in flight, what finished, what
//!    was cancelled.
//!
//! # Running it
//!
//! ```text
//! cargo run --release -p weft-patterns --example rate_limited_service
//! ```
//!
//! runs the demo (also `-- --demo`), which ends by itself: it starts the
//! service on a free port, then clients in the same process: a polite one,
//! a greedy one that gets limited and then waits as told, a partner whose
//! bigger quota absorbs the same burst, and two with a slow request in
//! progress. Then it sends SIGINT to its own process, exactly what Ctrl-C
//! does, and shows how each connection ends, and that a new connection is
//! refused during the drain. It exits with an error if any client saw
//! something other than expected.
//!
//! ```text
//! cargo run --release -p weft-patterns --example rate_limited_service -- --serve [ADDR]
//! ```
//!
//! serves on `ADDR` (default `127.0.0.1:7878`) until Ctrl-C; talk to it
//! with `nc 127.0.0.1 7878`.
//!
//! The files of this example, one part each: `service.rs` (the service:
//! quotas, the accept loop, one client's connection), `line_conn.rs` (a
//! connection that speaks in lines), `demo.rs` (the demo's clients and its
//! checks), and this one (the command line and the run with its shutdown).

mod demo;
mod line_conn;
mod service;

use std::fmt;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use weft_patterns::shutdown::Shutdown;
use weft_primitives::Event;
use weft_runtime::net::TcpListener;
use weft_runtime::{spawn, time};

use demo::demo;
use service::{accept_loop, Service};

/// Where `--serve` listens unless told otherwise.
const DEFAULT_ADDR: &str = "127.0.0.1:7878";
/// How long in-flight work may take to finish once shutdown begins.
const GRACE: Duration = Duration::from_millis(500);

/// What the command line asked for.
enum Mode {
    Demo,
    Serve(String),
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] | ["--demo"] => Mode::Demo,
        ["--serve"] => Mode::Serve(DEFAULT_ADDR.to_string()),
        ["--serve", addr] => Mode::Serve(addr.to_string()),
        _ => {
            eprintln!("usage: rate_limited_service [--demo | --serve [ADDR]]");
            return ExitCode::from(2);
        }
    };
    weft_runtime::run(run(mode))
}

async fn run(mode: Mode) -> ExitCode {
    let addr = match &mode {
        Mode::Demo => "127.0.0.1:0",
        Mode::Serve(addr) => addr.as_str(),
    };
    let listener = match TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {addr}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let local = listener
        .local_addr()
        .expect("a bound listener has an address");
    let shutdown = Shutdown::new();
    // Listen for Ctrl-C and SIGTERM before anything can send them.
    let mut signals = shutdown.signals().expect("install the signal handlers");
    let service = Rc::new(Service::new());
    // Set once the listener is closed (for the demo's late client).
    let listener_closed = Rc::new(Event::new());
    let acceptor = spawn({
        let (service, shutdown, closed) =
            (service.clone(), shutdown.clone(), listener_closed.clone());
        async move {
            let accepted = accept_loop(listener, service, shutdown).await;
            log(
                "server",
                format_args!("listener closed after {accepted} connection(s)"),
            );
            closed.set();
        }
    });
    log("server", format_args!("listening on {local}"));

    let demo = match mode {
        Mode::Demo => Some(spawn(demo(local, shutdown.token(), listener_closed))),
        Mode::Serve(_) => {
            println!(
                "try `nc {} {}`, then HELLO <your-name>; Ctrl-C stops the service",
                local.ip(),
                local.port()
            );
            None
        }
    };

    let trigger = signals.triggered().await;
    log(
        "server",
        format_args!(
            "{trigger}: stop accepting; in-flight work has {} to finish",
            ms(GRACE)
        ),
    );
    // Cancels the coordinator's token at once, which ends the accept loop
    // (it drops the listener), counts the connections in flight, gives them
    // the grace period, then cancels those left.
    let report = shutdown.shutdown(GRACE).await;
    acceptor.await.expect("the accept loop does not panic");
    log("server", format_args!("shutdown report: {report}"));
    let stats = service.limiter.stats();
    log(
        "server",
        format_args!(
            "rate limiter: {} requests served, {} refused; {} client id(s) tracked now, \
             {} idle one(s) forgotten",
            stats.requests.allowed, stats.requests.rejected, stats.keys, stats.evicted
        ),
    );

    match demo {
        None => ExitCode::SUCCESS,
        Some(demo) => {
            let mut checks = demo.await.expect("the demo does not panic");
            checks.expect(
                report.cancelled.len() == 1,
                "exactly one connection (the stuck one) cancelled at the deadline",
            );
            checks.verdict()
        }
    }
}

/// Prints one line of the log, stamped with the time since the first one.
fn log(who: &str, message: impl fmt::Display) {
    static START: OnceLock<Instant> = OnceLock::new();
    let at = (time::now() - *START.get_or_init(time::now)).as_millis();
    println!("{at:>4} ms  [{who:<12}] {message}");
}

fn ms(duration: Duration) -> String {
    format!("{} ms", duration.as_millis())
}
