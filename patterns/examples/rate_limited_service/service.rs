//! The service: a quota per client id, the accept loop that hands every
//! connection to the shutdown coordinator, and one client's connection,
//! request by request.

use std::fmt;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use weft_patterns::rate_limit::{Gcra, KeyedError, KeyedRateLimiter, Quota, TryAcquireError};
use weft_patterns::shutdown::{CancellationToken, Shutdown};
use weft_runtime::net::TcpListener;
use weft_runtime::sleep;
use weft_runtime::streams::{StreamReader, StreamWriter, ACCEPT_RETRY_DELAY};

use crate::line_conn::LineConn;
use crate::log;

/// The most client ids the limiter tracks at once.
const MAX_CLIENTS: usize = 10_000;

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
pub(crate) struct Service {
    pub(crate) limiter: KeyedRateLimiter<String, Gcra>,
}

impl Service {
    pub(crate) fn new() -> Self {
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
pub(crate) async fn accept_loop(
    mut listener: TcpListener,
    service: Rc<Service>,
    shutdown: Shutdown,
) -> u32 {
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
