//! The demo: clients in the same process (polite, greedy, a partner, two
//! with a slow request), then Ctrl-C, and the check of what each saw.

use std::io;
use std::net::SocketAddr;
use std::process::{Command, ExitCode};
use std::rc::Rc;
use std::time::Duration;

use weft_patterns::shutdown::CancellationToken;
use weft_primitives::Event;
use weft_runtime::streams::open_connection;
use weft_runtime::{sleep, spawn, spawn_blocking};

use crate::line_conn::LineConn;
use crate::{log, ms};

/// Runs the demo's clients against the service at `server`, sends SIGINT
/// to this process half-way, and checks what each client saw.
pub(crate) async fn demo(
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
pub(crate) struct Checks {
    failed: Vec<&'static str>,
}

impl Checks {
    pub(crate) fn expect(&mut self, ok: bool, what: &'static str) {
        if !ok {
            self.failed.push(what);
        }
    }

    pub(crate) fn verdict(self) -> ExitCode {
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
