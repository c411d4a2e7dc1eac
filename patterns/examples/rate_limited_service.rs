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

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::process::{Command, ExitCode};
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use weft_patterns::rate_limit::{Gcra, KeyedError, KeyedRateLimiter, Quota, TryAcquireError};
use weft_patterns::shutdown::{CancellationToken, Shutdown};
use weft_primitives::Event;
use weft_runtime::net::TcpListener;
use weft_runtime::streams::{open_connection, StreamReader, StreamWriter, ACCEPT_RETRY_DELAY};
use weft_runtime::{sleep, spawn, spawn_blocking, time};

/// Where `--serve` listens unless told otherwise.
const DEFAULT_ADDR: &str = "127.0.0.1:7878";
/// How long in-flight work may take to finish once shutdown begins.
const GRACE: Duration = Duration::from_millis(500);
/// The most client ids the limiter tracks at once.
const MAX_CLIENTS: usize = 10_000;

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

// ---------------------------------------------------------------------------
// The service.

/// A client's quota.
#[derive(Debug, Clone, Copy)]
struct Plan {
    per_second: u32,
    burst: u32,
}

impl Plan {
    fn for_client(id: &str) -> Self {
        if id.starts_with("partner-") {
            Plan {
                per_second: 100,
                burst: 20,
            }
        } else {
            Plan {
                per_second: 10,
                burst: 3,
            }
        }
    }

    fn quota(self) -> Quota {
        Quota::per_second(self.per_second).allow_burst(self.burst)
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} requests/s, bursts of {}",
            self.per_second, self.burst
        )
    }
}

/// What the connections share: the limiter of every client id.
struct Service {
    limiter: KeyedRateLimiter<String, Gcra>,
}

impl Service {
    fn new() -> Self {
        Self {
            limiter: KeyedRateLimiter::new(MAX_CLIENTS, |id: &String| {
                Gcra::new(Plan::for_client(id).quota())
            }),
        }
    }

    /// Serves one connection until the client leaves or shutdown comes
    /// between two requests.
    async fn serve_client(
        self: Rc<Self>,
        mut conn: LineConn,
        number: u32,
        stop: CancellationToken,
    ) {
        let Some(hello) = next_request(&mut conn, &stop).await else {
            return;
        };
        let client = match hello.strip_prefix("HELLO ").map(str::trim) {
            Some(id) if !id.is_empty() && !id.contains(' ') => id.to_string(),
            _ => {
                let _ = conn.write_line("ERR say HELLO <client-id> first").await;
                return;
            }
        };
        let plan = Plan::for_client(&client);
        log(
            "server",
            format_args!("connection #{number} is `{client}` ({plan})"),
        );
        if conn
            .write_line(&format!("WELCOME {client}: {plan}"))
            .await
            .is_err()
        {
            return;
        }

        let (mut served, mut limited) = (0, 0);
        while let Some(request) = next_request(&mut conn, &stop).await {
            let answered = match self.limiter.try_acquire(&client, 1) {
                Ok(()) => {
                    served += 1;
                    answer(&mut conn, &request).await
                }
                Err(refused) => {
                    limited += 1;
                    conn.write_line(&refusal(&refused)).await
                }
            };
            if answered.is_err() {
                break; // the client is gone
            }
        }
        log(
            "server",
            format_args!(
                "connection #{number} (`{client}`) ended: {served} served, {limited} limited"
            ),
        );
    }
}

/// Takes connections until shutdown is requested, and runs each as a task
/// of `shutdown`. Returns how many it accepted; the listener is dropped on
/// the way out, so connections are refused from then on.
///
/// (`start_server` would spawn the connection tasks itself, out of the
/// coordinator's sight; accepting here lets `shutdown` track, drain and
/// cancel them.)
async fn accept_loop(mut listener: TcpListener, service: Rc<Service>, shutdown: Shutdown) -> u32 {
    let stop = shutdown.token();
    let mut accepted = 0;
    while let Some(result) = stop.run_until_cancelled(listener.accept()).await {
        let (stream, peer) = match result {
            Ok(connection) => connection,
            Err(error) => {
                // Out of file descriptors, say: do not spin while it lasts.
                log("server", format_args!("accept failed: {error}"));
                sleep(ACCEPT_RETRY_DELAY).await;
                continue;
            }
        };
        accepted += 1;
        log("server", format_args!("connection #{accepted} from {peer}"));
        // Line-sized answers should leave at once (what `start_server` sets).
        let _ = stream.set_nodelay(true);
        let (read_half, write_half) = stream.into_split();
        let conn = LineConn {
            reader: StreamReader::new(read_half),
            writer: StreamWriter::new(write_half),
        };
        let work = service.clone().serve_client(conn, accepted, stop.clone());
        // Refused only once shutdown began, which ends this loop anyway;
        // the refused work (and its connection) is dropped.
        let _ = shutdown.spawn(format!("connection #{accepted} from {peer}"), work);
    }
    accepted
}

/// The next request line, or `None` when the connection should end: the
/// client left, sent something unreadable (it is told why), or shutdown
/// was requested (it is told `BYE`).
async fn next_request(conn: &mut LineConn, stop: &CancellationToken) -> Option<String> {
    match stop.run_until_cancelled(conn.read_line()).await {
        Some(Ok(line)) => line,
        Some(Err(error)) => {
            let _ = conn.write_line(&format!("ERR {error}")).await;
            None
        }
        None => {
            let _ = conn.write_line("BYE shutting down").await;
            None
        }
    }
}

/// Serves a request the limiter admitted.
async fn answer(conn: &mut LineConn, request: &str) -> io::Result<()> {
    let Some(slow) = request.strip_prefix("SLOW ") else {
        return conn
            .write_line(&format!("OK {}", request.to_uppercase()))
            .await;
    };
    let parsed = slow
        .split_once(' ')
        .and_then(|(millis, text)| Some((millis.parse().ok()?, text)));
    let Some((millis, text)) = parsed else {
        return conn.write_line("ERR usage: SLOW <ms> <text>").await;
    };
    conn.write_line(&format!("WORKING {millis} ms")).await?;
    sleep(Duration::from_millis(millis)).await;
    conn.write_line(&format!("OK {}", text.to_uppercase()))
        .await
}

/// The answer to a request over quota: when to come back, in whole
/// milliseconds rounded up (so that coming back then always works).
fn refusal(refused: &KeyedError<TryAcquireError>) -> String {
    match refused.limited().and_then(TryAcquireError::retry_after) {
        Some(after) => format!(
            "LIMITED retry-after-ms={}",
            after.as_micros().div_ceil(1000)
        ),
        None => format!("ERR {refused}"),
    }
}

/// A connection that speaks in lines, for the server and its clients.
struct LineConn {
    reader: StreamReader,
    writer: StreamWriter,
}

impl LineConn {
    /// The next line without its line ending, or `None` at the end of the
    /// stream. A line longer than the reader's limit is an error.
    async fn read_line(&mut self) -> io::Result<Option<String>> {
        let line = self.reader.readline().await?;
        if line.is_empty() {
            return Ok(None);
        }
        let line = String::from_utf8_lossy(&line);
        Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
    }

    async fn write_line(&mut self, line: &str) -> io::Result<()> {
        self.writer.write(format!("{line}\n").as_bytes())?;
        self.writer.drain().await
    }
}

// ---------------------------------------------------------------------------
// The demo: clients in the same process, then Ctrl-C.

/// Runs the demo's clients against the service at `server`, sends SIGINT
/// to this process half-way, and checks what each client saw.
async fn demo(
    server: SocketAddr,
    shutdown: CancellationToken,
    listener_closed: Rc<Event>,
) -> Checks {
    let mut checks = Checks::default();

    // A polite client and two bursty ones, side by side.
    let polite = spawn(polite(server));
    let greedy = spawn(greedy(server));
    let partner = spawn(burst(server, "partner-acme", 8));
    let (greedy_limited, greedy_served_later) = greedy.await.expect("greedy client");
    let (_, partner_limited, _) = partner.await.expect("partner client");
    let (polite, polite_limited) = polite.await.expect("polite client");
    checks.expect(polite_limited == 0, "the polite client was never limited");
    checks.expect(greedy_limited > 0, "the greedy client was limited");
    checks.expect(
        greedy_served_later,
        "the greedy client was served once it waited as told",
    );
    checks.expect(
        partner_limited == 0,
        "the partner's bigger quota absorbed the same burst",
    );

    // Two clients with a request in progress when shutdown comes: one that
    // finishes within the grace period, one that would take a minute.
    let mut straggler = Client::connect(server, "straggler").await;
    let working = straggler.ask("SLOW 200 almost done").await;
    let mut stuck = Client::connect(server, "stuck").await;
    let stuck_working = stuck.ask("SLOW 60000 the report of the century").await;
    checks.expect(
        working.starts_with("WORKING") && stuck_working.starts_with("WORKING"),
        "both slow requests were being served",
    );

    interrupt_this_process(&shutdown).await;

    // How each connection ends.
    let late = spawn(late_client(server, listener_closed));
    let polite = spawn(polite.rest());
    let straggler = spawn(straggler.rest());
    let stuck = spawn(stuck.rest());
    checks.expect(
        late.await.expect("late client"),
        "a new connection was refused during the drain",
    );
    checks.expect(
        polite.await.expect("polite client") == ["BYE shutting down"],
        "the idle polite client was told BYE",
    );
    checks.expect(
        straggler.await.expect("straggler") == ["OK ALMOST DONE", "BYE shutting down"],
        "the straggler's request was answered within the grace period, then BYE",
    );
    checks.expect(
        stuck.await.expect("stuck client").is_empty(),
        "the stuck request was cancelled at the deadline: closed without an answer",
    );
    checks
}

/// Five requests, 150 ms apart: well within 10 a second. Returns the client
/// still connected, and how many requests were limited.
async fn polite(server: SocketAddr) -> (Client, usize) {
    let mut client = Client::connect(server, "polite").await;
    let mut limited = 0;
    for n in 1..=5 {
        if client
            .ask(&format!("hello number {n}"))
            .await
            .starts_with("LIMITED")
        {
            limited += 1;
        }
        sleep(Duration::from_millis(150)).await;
    }
    (client, limited)
}

/// A burst of eight requests, then, if limited, one more after waiting as
/// told. Returns how many were limited, and whether the last one was served.
async fn greedy(server: SocketAddr) -> (usize, bool) {
    let (mut client, limited, retry_after) = burst(server, "greedy", 8).await;
    let Some(after) = retry_after else {
        return (limited, false);
    };
    log(
        "greedy",
        format_args!("waiting {} as the server said", ms(after)),
    );
    sleep(after).await;
    let reply = client.ask("now, politely").await;
    (limited, reply.starts_with("OK"))
}

/// `count` requests sent at once, then the answers read. Returns the
/// client, how many were limited, and the last `retry-after` it was told.
async fn burst(
    server: SocketAddr,
    name: &'static str,
    count: u32,
) -> (Client, usize, Option<Duration>) {
    let mut client = Client::connect(server, name).await;
    for n in 1..=count {
        client.send(&format!("request {n}")).await;
    }
    let mut limited = 0;
    let mut retry_after = None;
    for _ in 0..count {
        let reply = client.recv().await.expect("an answer per request");
        if let Some(millis) = reply.strip_prefix("LIMITED retry-after-ms=") {
            limited += 1;
            retry_after = millis.parse().ok().map(Duration::from_millis);
        }
    }
    (client, limited, retry_after)
}

/// Waits until the service closed its listener, then tries to connect.
/// Returns whether the connection was refused.
async fn late_client(server: SocketAddr, listener_closed: Rc<Event>) -> bool {
    listener_closed.wait().await;
    match open_connection(server).await {
        Err(error) => {
            log("late", format_args!("cannot connect: {error}"));
            error.kind() == io::ErrorKind::ConnectionRefused
        }
        Ok(_) => {
            log("late", "connected, though the service stopped accepting");
            false
        }
    }
}

/// Sends SIGINT to this process, what Ctrl-C in a terminal does, with the
/// `kill` command (the standard library cannot send signals). Should that
/// fail, requests shutdown through the token instead, so the demo still
/// ends.
async fn interrupt_this_process(shutdown: &CancellationToken) {
    let pid = std::process::id().to_string();
    log("demo", format_args!("kill -INT {pid}  (Ctrl-C)"));
    let sent = spawn_blocking(move || Command::new("kill").args(["-INT", &pid]).status())
        .await
        .expect("running kill does not panic");
    match sent {
        Ok(status) if status.success() => {}
        failed => {
            log(
                "demo",
                format_args!("kill failed ({failed:?}): cancelling the shutdown token instead"),
            );
            shutdown.cancel();
        }
    }
}

/// A demo client: a connection that logs what it says and hears.
struct Client {
    name: &'static str,
    conn: LineConn,
}

impl Client {
    /// Connects and says hello.
    async fn connect(server: SocketAddr, name: &'static str) -> Self {
        let (reader, writer) = open_connection(server)
            .await
            .expect("the demo's service is listening");
        let mut client = Client {
            name,
            conn: LineConn { reader, writer },
        };
        client.ask(&format!("HELLO {name}")).await;
        client
    }

    async fn send(&mut self, line: &str) {
        log(self.name, format_args!("> {line}"));
        self.conn
            .write_line(line)
            .await
            .expect("the service reads while it runs");
    }

    /// The next line from the server, or `None` once it closed the
    /// connection.
    async fn recv(&mut self) -> Option<String> {
        let line = self.conn.read_line().await.unwrap_or(None);
        match &line {
            Some(line) => log(self.name, format_args!("< {line}")),
            None => log(self.name, "< (connection closed by the server)"),
        }
        line
    }

    async fn ask(&mut self, line: &str) -> String {
        self.send(line).await;
        self.recv().await.expect("an answer")
    }

    /// Everything the server still sends, until it closes the connection.
    async fn rest(mut self) -> Vec<String> {
        let mut lines = Vec::new();
        while let Some(line) = self.recv().await {
            lines.push(line);
        }
        lines
    }
}

/// What the demo expected, and what it got.
#[derive(Default)]
struct Checks {
    failed: Vec<&'static str>,
}

impl Checks {
    fn expect(&mut self, ok: bool, what: &'static str) {
        if !ok {
            self.failed.push(what);
        }
    }

    fn verdict(self) -> ExitCode {
        if self.failed.is_empty() {
            println!("\ndemo: every client saw what it should");
            ExitCode::SUCCESS
        } else {
            eprintln!("\ndemo FAILED, expected:");
            for what in self.failed {
                eprintln!("  - {what}");
            }
            ExitCode::FAILURE
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
