//! A web crawler over a small HTTP/1.1 server that the example starts
//! itself on 127.0.0.1, with five patterns doing their jobs side by side:
//!
//! * a **queue** of URLs to visit (the frontier): `task_done` after each
//!   URL and `join` to know when the crawl is complete, without guessing;
//! * a **semaphore** bounding the requests in flight;
//! * a **rate limiter** (GCRA) holding the crawler to 200 requests a second;
//! * **retry** with exponential backoff and jitter, a per-attempt timeout,
//!   and the server's `Retry-After` honoured;
//! * a **circuit breaker** per section of the site
//!   (`KeyedCircuitBreakers`), so that a section that is down is left alone
//!   for a while instead of being hammered.
//!
//! ```text
//!   frontier (Queue) ──▶ dispatcher ──▶ semaphore slot ──▶ task per URL:
//!                                                          retry ─┬─ attempt: section's breaker ─▶ rate limiter ─▶ GET
//!                                                                 └─ backoff, or the server's Retry-After
//!   links found ──▶ frontier          gave up on a transient error ──▶ parked, then back in the frontier
//! ```
//!
//! The server serves a generated site of 68 pages in four sections and
//! misbehaves on purpose, the same way on every run:
//!
//! | where | fault | what deals with it |
//! |---|---|---|
//! | `/blog/1`, `/blog/5`, `/blog/9`, … | 503 with `Retry-After: 0.04` the first two times | retry, sleeping what the server asked |
//! | `/docs/2`, `/docs/8`, `/docs/14` | the first answer takes 300 ms | the 80 ms per-attempt timeout, then a retry |
//! | all of `/shop/` | 500 for 450 ms from its first request (an outage) | the `shop` breaker opens; its URLs are parked until it lets a trial call through |
//! | a few links | point to pages that do not exist (404) | not retried: reported as broken |
//!
//! A URL whose call gives up on a transient error (its breaker is open, or
//! its retries ran out) is not dropped: it is parked for as long as the
//! breaker or the server said, then put back in the frontier. The worker
//! slot is free meanwhile, for the sections that work.
//!
//! The crawler prints every page it fetched and everything the patterns
//! did (retries with their reason, timeouts, breaker transitions, parked
//! URLs), then a summary table. Counts vary a little between runs (timing,
//! jitter), but every run ends within about a second, having crawled each
//! reachable page exactly once; the program checks that and exits with an
//! error otherwise. (A breaker runs no timer: it changes state when it is
//! next used, so `open -> half-open` is logged when the next call came, not
//! when the wait ended.)
//!
//! The client speaks just enough HTTP/1.1 (a `GET` with `Host` and
//! `Connection: close`; the status line, the headers and a
//! `Content-Length` body), written below with weft's streams. The server
//! sends `Retry-After` in fractional seconds to keep the run short; real
//! servers send whole seconds (which the client reads too) or an HTTP date
//! (which it ignores, falling back to its own backoff).
//!
//! ```text
//! cargo run --release -p weft-patterns --example crawler
//! ```

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use weft_patterns::circuit_breaker::{
    CircuitBreaker, CircuitEvent, CircuitState, KeyedCircuitBreakers, Rejected,
};
use weft_patterns::rate_limit::{Gcra, Quota, RateLimiter};
use weft_patterns::retry::{Backoff, Jitter, RetryCause, RetryError, RetryEvent, RetryPolicy};
use weft_primitives::{OwnedSemaphorePermit, Queue, Semaphore};
use weft_runtime::streams::{open_connection, start_server, Server, StreamReader, StreamWriter};
use weft_runtime::{sleep, spawn, time};

// ---------------------------------------------------------------------------
// Settings: short real durations, so that the whole run takes about a second.

/// Requests in flight at once (the semaphore's permits).
const CONCURRENCY: usize = 4;
/// The crawler's overall request rate...
const REQUESTS_PER_SECOND: u32 = 200;
/// ...and how many requests may go at once after a quiet moment.
const RATE_BURST: u32 = 5;
/// Each attempt gets this long; then it is dropped and retried.
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(80);
/// The first backoff delay; it doubles with each retry (with full jitter)
/// up to [`RETRY_MAX_DELAY`].
const RETRY_BASE: Duration = Duration::from_millis(10);
const RETRY_MAX_DELAY: Duration = Duration::from_millis(80);
/// Attempts after the first, per call.
const MAX_RETRIES: u32 = 4;
/// A section's breaker opens after this many failures in a row...
const BREAKER_TRIP_AFTER: u32 = 3;
/// ...and stays open this long, doubling each time its trial call fails
/// (50, 100, 200 ms), before letting one trial call through.
const BREAKER_OPEN_WAIT: Duration = Duration::from_millis(50);
/// How long a URL whose call gave up is parked when neither the server nor
/// the breaker said how long to wait.
const PARK_DELAY: Duration = Duration::from_millis(50);
/// A crawl still running after this long is a bug: stop rather than hang.
const WATCHDOG: Duration = Duration::from_secs(15);

// The faults the server injects (see the table in the module docs).
const SHOP_OUTAGE: Duration = Duration::from_millis(450);
const SLOW_PAGE_DELAY: Duration = Duration::from_millis(300);
const THROTTLED_HITS: u32 = 2;
const THROTTLE_RETRY_AFTER: &str = "0.04";

fn main() -> ExitCode {
    weft_runtime::run(async {
        let site = Rc::new(FaultySite::default());
        let server = site.clone().serve().await.expect("listen on 127.0.0.1");
        let pages = reachable_pages().len();
        println!(
            "serving {pages} pages at http://{}/; crawling with at most {CONCURRENCY} requests \
             in flight, {REQUESTS_PER_SECOND} requests/s\n",
            server.local_addr()
        );

        let crawler = Crawler::new(server.local_addr());
        crawler.discover("/");
        let dispatcher = spawn(crawler.clone().dispatch());
        if time::timeout(WATCHDOG, crawler.frontier.join())
            .await
            .is_err()
        {
            eprintln!("the crawl did not finish within {WATCHDOG:?}");
            return ExitCode::FAILURE;
        }
        // Every URL was handled: let the dispatcher's loop end.
        crawler.frontier.shutdown(false);
        dispatcher.await.expect("the dispatcher does not panic");
        let took = time::now() - crawler.started;
        // Stop accepting, and let the handlers still sleeping on a slow
        // answer (that nobody waits for any more) finish, so that the
        // server's counts are complete.
        server.close();
        server.wait_closed().await;

        crawler.print_summary(&site, took);
        crawler.check_complete()
    })
}

// ---------------------------------------------------------------------------
// The site: a home page, an index per section, numbered pages. Every page
// links home, to its section's index, to the next page, and into the next
// section; every eighth page also has a link to a page that does not exist.

const SECTIONS: [(&str, u32); 4] = [("blog", 20), ("docs", 20), ("shop", 8), ("wiki", 15)];

/// The links on the page at `path`, or `None` if there is no such page.
fn links_of(path: &str) -> Option<Vec<String>> {
    if path == "/" {
        return Some(SECTIONS.iter().map(|(s, _)| format!("/{s}/")).collect());
    }
    let (section, page) = path.strip_prefix('/')?.split_once('/')?;
    let position = SECTIONS.iter().position(|(s, _)| *s == section)?;
    let count = SECTIONS[position].1;
    if page.is_empty() {
        return Some((0..count).map(|n| format!("/{section}/{n}")).collect());
    }
    let n = page_number(path).filter(|n| *n < count)?;
    let mut links = vec!["/".to_string(), format!("/{section}/")];
    if n + 1 < count {
        links.push(format!("/{section}/{}", n + 1));
    }
    let (next_section, next_count) = SECTIONS[(position + 1) % SECTIONS.len()];
    links.push(format!("/{next_section}/{}", (n * 7 + 3) % next_count));
    if n % 8 == 7 {
        links.push(format!("/{section}/{}", count + n));
    }
    Some(links)
}

/// The number of a page such as `/blog/7`.
fn page_number(path: &str) -> Option<u32> {
    path.rsplit('/').next()?.parse().ok()
}

/// The section a path belongs to: its first segment (`home` for `/`).
fn section_of(path: &str) -> &str {
    match path.trim_start_matches('/').split_once('/') {
        Some((section, _)) => section,
        None => "home",
    }
}

/// Every page reachable from the home page, found by walking `links_of`:
/// what a complete crawl must fetch.
fn reachable_pages() -> BTreeSet<String> {
    let mut pages = BTreeSet::new();
    let mut to_visit = vec!["/".to_string()];
    while let Some(path) = to_visit.pop() {
        if let Some(links) = links_of(&path) {
            if pages.insert(path) {
                to_visit.extend(links);
            }
        }
    }
    pages
}

/// A page's HTML.
fn render(path: &str, links: &[String]) -> String {
    let anchors: String = links
        .iter()
        .map(|link| format!("<li><a href=\"{link}\">{link}</a></li>"))
        .collect();
    format!("<html><head><title>{path}</title></head><body><h1>{path}</h1><ul>{anchors}</ul></body></html>")
}

/// The targets of the `href` attributes in `html`.
fn links_in(html: &str) -> impl Iterator<Item = &str> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"'))
        .map(|(link, _)| link)
}

// ---------------------------------------------------------------------------
// The server: one handler task per connection (weft's `start_server`),
// which reads one request, answers it, and closes.

/// The site and its faults, with what the server counted.
#[derive(Default)]
struct FaultySite {
    /// Requests received per path, to fail only the first few.
    hits: RefCell<HashMap<String, u32>>,
    /// When the shop's outage ends (it starts with the first shop request).
    shop_down_until: Cell<Option<Instant>>,
    /// Answers sent, by status.
    answers: RefCell<BTreeMap<u16, u32>>,
    /// Answers that were held back to be slow.
    slow_answers: Cell<u32>,
}

/// An answer the server sends.
struct Reply {
    status: u16,
    reason: &'static str,
    retry_after: Option<&'static str>,
    body: String,
}

impl FaultySite {
    /// Starts serving on a port the OS picks.
    async fn serve(self: Rc<Self>) -> io::Result<Server> {
        start_server(
            move |reader, writer| self.clone().serve_connection(reader, writer),
            "127.0.0.1:0",
        )
        .await
    }

    async fn serve_connection(self: Rc<Self>, mut reader: StreamReader, mut writer: StreamWriter) {
        let reply = match read_request(&mut reader).await {
            Ok(path) => self.answer(&path).await,
            Err(error) => Reply::new(400, "Bad Request", error.to_string()),
        };
        *self.answers.borrow_mut().entry(reply.status).or_default() += 1;
        // The client may have given up already (its attempt timed out); the
        // write or the close then fails, and there is nobody to tell.
        if writer.write(&reply.to_bytes()).is_ok() {
            writer.close();
            let _ = writer.wait_closed().await;
        }
    }

    async fn answer(&self, path: &str) -> Reply {
        let hit = {
            let mut hits = self.hits.borrow_mut();
            let hit = hits.entry(path.to_string()).or_default();
            *hit += 1;
            *hit
        };
        let section = section_of(path);
        let number = page_number(path);
        if section == "shop" && self.shop_is_down() {
            return Reply::new(
                500,
                "Internal Server Error",
                "shop backend unavailable".into(),
            );
        }
        if section == "blog" && number.is_some_and(|n| n % 4 == 1) && hit <= THROTTLED_HITS {
            let mut reply = Reply::new(503, "Service Unavailable", "busy, come back later".into());
            reply.retry_after = Some(THROTTLE_RETRY_AFTER);
            return reply;
        }
        if section == "docs" && number.is_some_and(|n| n % 6 == 2) && hit == 1 {
            self.slow_answers.set(self.slow_answers.get() + 1);
            sleep(SLOW_PAGE_DELAY).await;
        }
        match links_of(path) {
            Some(links) => Reply::new(200, "OK", render(path, &links)),
            None => Reply::new(404, "Not Found", format!("no page at {path}")),
        }
    }

    /// Whether the shop is in its outage, which starts with the first
    /// request to it.
    fn shop_is_down(&self) -> bool {
        let now = time::now();
        let until = self.shop_down_until.get().unwrap_or(now + SHOP_OUTAGE);
        self.shop_down_until.set(Some(until));
        now < until
    }
}

impl Reply {
    fn new(status: u16, reason: &'static str, body: String) -> Self {
        Self {
            status,
            reason,
            retry_after: None,
            body,
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: text/html; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\n",
            self.status,
            self.reason,
            self.body.len()
        );
        if let Some(seconds) = self.retry_after {
            head.push_str(&format!("Retry-After: {seconds}\r\n"));
        }
        head.push_str("\r\n");
        [head.as_bytes(), self.body.as_bytes()].concat()
    }
}

/// Reads a request's head and returns the path of its `GET`.
async fn read_request(reader: &mut StreamReader) -> io::Result<String> {
    let request_line = read_line(reader).await?;
    read_headers(reader).await?; // nothing in them matters to this server
    match request_line.split(' ').collect::<Vec<_>>()[..] {
        ["GET", path, version] if path.starts_with('/') && version.starts_with("HTTP/1.") => {
            Ok(path.to_string())
        }
        _ => Err(invalid_data(format!(
            "not a GET request line: {request_line:?}"
        ))),
    }
}

// ---------------------------------------------------------------------------
// The client: just enough HTTP/1.1.

/// A response, as the client read it.
struct Response {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    /// The value of header `name` (matched without regard to case).
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// `Retry-After` in seconds, whole or fractional (an HTTP date gives
    /// `None`: the caller's own backoff applies).
    fn retry_after(&self) -> Option<Duration> {
        let seconds: f64 = self.header("retry-after")?.trim().parse().ok()?;
        Duration::try_from_secs_f64(seconds).ok()
    }
}

/// `GET path` on a new connection to `server`.
async fn http_get(server: SocketAddr, path: &str) -> io::Result<Response> {
    let (mut reader, mut writer) = open_connection(server).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {server}\r\nUser-Agent: weft-crawler\r\nConnection: close\r\n\r\n"
    );
    writer.write(request.as_bytes())?;
    writer.drain().await?;

    // "HTTP/1.1 200 OK"; the reason phrase may be empty.
    let status_line = read_line(&mut reader).await?;
    let mut parts = status_line.splitn(3, ' ');
    let status = match (parts.next(), parts.next()) {
        (Some(version), Some(code)) if version.starts_with("HTTP/1.") => code.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| invalid_data(format!("bad status line {status_line:?}")))?;
    let mut response = Response {
        status,
        reason: parts.next().unwrap_or_default().to_string(),
        headers: read_headers(&mut reader).await?,
        body: String::new(),
    };
    if response.header("transfer-encoding").is_some() {
        return Err(invalid_data(
            "this minimal client does not decode chunked bodies",
        ));
    }
    let body = match response.header("content-length") {
        Some(length) => {
            let length = length
                .trim()
                .parse()
                .map_err(|_| invalid_data(format!("bad Content-Length {length:?}")))?;
            reader.readexactly(length).await?
        }
        // `Connection: close`: the body ends with the connection.
        None => reader.read_to_end().await?,
    };
    response.body = String::from_utf8(body).map_err(invalid_data)?;
    Ok(response)
}

/// One line of a message head, without its CRLF; the end of the
/// connection before it is an error.
async fn read_line(reader: &mut StreamReader) -> io::Result<String> {
    let line = reader.readline().await?;
    if !line.ends_with(b"\n") {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed in the middle of a message head",
        ));
    }
    let line = String::from_utf8(line).map_err(invalid_data)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Header lines up to the blank line that ends a message head.
async fn read_headers(reader: &mut StreamReader) -> io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader).await?;
        if line.is_empty() {
            return Ok(headers);
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid_data(format!("bad header line {line:?}")))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
}

fn invalid_data(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}

// ---------------------------------------------------------------------------
// The crawler.

/// Why one attempt to fetch a page failed.
#[derive(Debug, Clone)]
enum FetchError {
    /// The server answered with an error status.
    Status {
        code: u16,
        reason: String,
        retry_after: Option<Duration>,
    },
    /// No usable answer: refused or broken connection, malformed response.
    Io(String),
    /// The section's breaker refused the call: nothing was sent.
    Rejected(Rejected),
}

impl FetchError {
    fn from_response(response: &Response) -> Self {
        Self::Status {
            code: response.status,
            reason: response.reason.clone(),
            retry_after: response.retry_after(),
        }
    }

    /// Worth another attempt right away (after a backoff): server errors,
    /// throttling and network failures. Not a 404, and not a breaker's
    /// refusal: that URL is parked instead, which frees its worker slot.
    fn is_retryable(&self) -> bool {
        match self {
            Self::Status { code, .. } => *code >= 500 || *code == 429,
            Self::Io(_) => true,
            Self::Rejected(_) => false,
        }
    }

    /// The server answered, and asking again will not change its answer: a
    /// 404 (or a redirect, which this client does not follow).
    fn is_permanent(&self) -> bool {
        matches!(self, Self::Status { .. }) && !self.is_retryable()
    }

    /// How long the server (`Retry-After`) or the breaker asked us to wait.
    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            Self::Io(_) => None,
            Self::Rejected(rejected) => rejected.retry_after(),
        }
    }

    /// What a breaker counts as a failure: the section is broken. A 404 is
    /// an answer (a success for the breaker).
    fn is_outage(&self) -> bool {
        matches!(self, Self::Status { code, .. } if *code >= 500) || matches!(self, Self::Io(_))
    }

    /// A 503 that says when to come back is the server pacing us, not an
    /// outage: the breaker ignores it.
    fn is_throttling(&self) -> bool {
        matches!(
            self,
            Self::Status {
                code: 503,
                retry_after: Some(_),
                ..
            }
        )
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status {
                code,
                reason,
                retry_after,
            } => {
                write!(f, "{code} {reason}")?;
                match retry_after {
                    Some(after) => write!(f, " (Retry-After {})", ms(*after)),
                    None => Ok(()),
                }
            }
            Self::Io(error) => write!(f, "connection error: {error}"),
            Self::Rejected(rejected) => rejected.fmt(f),
        }
    }
}

/// What the crawler counted, for the summary.
#[derive(Default)]
struct Tally {
    /// Pages fetched, with how many times each (the check wants 1).
    crawled: BTreeMap<String, u32>,
    /// Links to pages that do not exist.
    broken: Vec<String>,
    sections: BTreeMap<String, SectionTally>,
    /// Times the dispatcher had a URL but no free slot.
    slot_waits: u32,
    in_flight: usize,
    max_in_flight: usize,
    /// Retries whose delay the server chose.
    server_paced_retries: u32,
}

#[derive(Default)]
struct SectionTally {
    pages: u32,
    /// Requests sent (attempts the breaker let through).
    requests: u32,
    retries: u32,
    timeouts: u32,
    parked: u32,
}

/// The crawler's state, shared by the dispatcher and the task of each URL.
struct Crawler {
    server: SocketAddr,
    started: Instant,
    /// URLs to visit. Each URL is put once (see `seen`), plus once more
    /// each time it comes back from parking.
    frontier: Queue<String>,
    /// Every URL ever put in the frontier.
    seen: RefCell<HashSet<String>>,
    slots: Arc<Semaphore>,
    limiter: RateLimiter<Gcra>,
    retry: RetryPolicy,
    breakers: KeyedCircuitBreakers<String, FetchError>,
    /// Times each breaker opened, counted by its event listener (listeners
    /// must be `Send + Sync`, hence the `Arc<Mutex<..>>`).
    openings: Arc<Mutex<BTreeMap<String, u32>>>,
    tally: RefCell<Tally>,
}

impl Crawler {
    fn new(server: SocketAddr) -> Rc<Self> {
        let started = time::now();
        let openings = Arc::new(Mutex::new(BTreeMap::new()));
        let breakers = KeyedCircuitBreakers::new(16, Duration::from_secs(60), {
            let openings = openings.clone();
            move |section: &String| section_breaker(section, started, openings.clone())
        })
        .expect("valid settings");
        Rc::new(Self {
            server,
            started,
            frontier: Queue::new(0),
            seen: RefCell::default(),
            slots: Arc::new(Semaphore::new(CONCURRENCY)),
            limiter: RateLimiter::new(Gcra::new(
                Quota::per_second(REQUESTS_PER_SECOND).allow_burst(RATE_BURST),
            )),
            retry: RetryPolicy::new(Backoff::exponential(RETRY_BASE).max_delay(RETRY_MAX_DELAY))
                .max_retries(MAX_RETRIES)
                .attempt_timeout(ATTEMPT_TIMEOUT),
            breakers,
            openings,
            tally: RefCell::default(),
        })
    }

    /// Puts `url` in the frontier unless it was seen before; returns whether
    /// it was new.
    fn discover(&self, url: &str) -> bool {
        let new = self.seen.borrow_mut().insert(url.to_string());
        if new {
            self.frontier
                .put_nowait(url.to_string())
                .expect("the frontier is unbounded and open until the crawl is done");
        }
        new
    }

    /// Takes URLs off the frontier until it is shut down, and crawls each
    /// in a task of its own once a slot is free.
    async fn dispatch(self: Rc<Self>) {
        let mut urls = self.frontier.items();
        while let Some(url) = urls.next().await {
            let slot = match self.slots.clone().try_acquire_owned() {
                Ok(slot) => slot,
                Err(_) => {
                    self.tally.borrow_mut().slot_waits += 1;
                    self.slots
                        .clone()
                        .acquire_owned()
                        .await
                        .expect("the semaphore is never closed")
                }
            };
            spawn(self.clone().crawl(url, slot));
        }
    }

    /// Fetches one URL and settles it: crawled, broken, or parked.
    async fn crawl(self: Rc<Self>, url: String, _slot: OwnedSemaphorePermit) {
        {
            let mut tally = self.tally.borrow_mut();
            tally.in_flight += 1;
            tally.max_in_flight = tally.max_in_flight.max(tally.in_flight);
        }
        let rate_wait = Cell::new(Duration::ZERO);
        let outcome = self.fetch(&url, &rate_wait).await;
        self.tally.borrow_mut().in_flight -= 1;
        match outcome {
            Ok(page) => self.crawled(&url, &page, rate_wait.get()),
            Err(gave_up) => self.gave_up(url, gave_up),
        }
    }

    /// One call under the retry policy; each attempt asks the section's
    /// breaker, then the rate limiter, then sends the request. The time
    /// spent in the rate limiter's line is added to `rate_wait`.
    async fn fetch(
        &self,
        url: &str,
        rate_wait: &Cell<Duration>,
    ) -> Result<Response, RetryError<FetchError>> {
        let breaker = self
            .breakers
            .breaker(&section_of(url).to_string())
            .expect("a handful of sections, far below the cap");
        let (crawler, breaker) = (self, &*breaker);
        self.retry
            .retry(move || crawler.attempt(breaker, url, rate_wait))
            .when(FetchError::is_retryable)
            .retry_after(FetchError::retry_after)
            .on_retry(|event| self.log_retry(url, event))
            .await
    }

    /// One attempt: see `fetch`.
    async fn attempt(
        &self,
        breaker: &CircuitBreaker<FetchError>,
        url: &str,
        rate_wait: &Cell<Duration>,
    ) -> Result<Response, FetchError> {
        // The breaker first: a refused call costs no token and sends nothing.
        let permit = breaker.try_acquire().map_err(FetchError::Rejected)?;
        let queued = time::now();
        self.limiter
            .acquire(1)
            .await
            .expect("one token at a time, and at most CONCURRENCY in line");
        rate_wait.set(rate_wait.get() + (time::now() - queued));
        self.section(url).requests += 1;
        let result = match http_get(self.server, url).await {
            Ok(response) if response.status == 200 => Ok(response),
            Ok(response) => Err(FetchError::from_response(&response)),
            Err(error) => Err(FetchError::Io(error.to_string())),
        };
        // If the attempt timeout drops this future before here, the permit
        // is dropped unrecorded: the breaker counts the call as cancelled.
        permit.record(&result);
        result
    }

    fn log_retry(&self, url: &str, event: &RetryEvent<'_, Response, FetchError>) {
        let mut tally = self.tally.borrow_mut();
        let delay = ms(event.delay);
        let attempt = event.attempt;
        let (tag, what) = match &event.cause {
            RetryCause::TimedOut => {
                tally
                    .sections
                    .entry(section_of(url).into())
                    .or_default()
                    .timeouts += 1;
                (
                    "timeout",
                    format!(
                        "got no answer within {} and was dropped",
                        ms(ATTEMPT_TIMEOUT)
                    ),
                )
            }
            RetryCause::Error(error) => ("retry", format!("got {error}")),
            RetryCause::Value(_) => ("retry", "got an answer to retry".to_string()),
        };
        let paced = matches!(&event.cause, RetryCause::Error(e) if e.retry_after().is_some());
        let why = if paced {
            tally.server_paced_retries += 1;
            "as the server asked"
        } else {
            "backoff"
        };
        tally
            .sections
            .entry(section_of(url).into())
            .or_default()
            .retries += 1;
        drop(tally);
        self.log(
            tag,
            format_args!("{url}: attempt {attempt} {what}; retrying in {delay} ({why})"),
        );
    }

    fn crawled(&self, url: &str, page: &Response, rate_wait: Duration) {
        let links: Vec<&str> = links_in(&page.body)
            .filter(|link| link.starts_with('/'))
            .collect();
        let new = links.iter().filter(|link| self.discover(link)).count();
        {
            let mut tally = self.tally.borrow_mut();
            *tally.crawled.entry(url.to_string()).or_default() += 1;
            tally
                .sections
                .entry(section_of(url).into())
                .or_default()
                .pages += 1;
        }
        self.log(
            "ok",
            format_args!(
                "{url}: {} links, {new} new; {} in the rate limiter's line",
                links.len(),
                ms(rate_wait)
            ),
        );
        self.done();
    }

    /// Settles a URL whose call gave up: a broken link if the page is not
    /// there, otherwise parked for as long as the breaker or the server
    /// said, then put back in the frontier.
    fn gave_up(self: Rc<Self>, url: String, gave_up: RetryError<FetchError>) {
        let attempts = gave_up.attempts();
        let summary = gave_up.to_string();
        let last = gave_up.into_error();
        let why = match &last {
            Some(error) if error.is_permanent() => {
                self.log("broken", format_args!("{url}: {summary}"));
                self.tally.borrow_mut().broken.push(url);
                self.done();
                return;
            }
            Some(FetchError::Rejected(rejected)) => format!(
                "attempt {attempts} refused, breaker `{}` is {}{}",
                rejected.breaker_name(),
                rejected.state(),
                match rejected.state() {
                    CircuitState::HalfOpen => " and its trial call is under way",
                    _ => "",
                }
            ),
            _ => summary,
        };
        let delay = last
            .as_ref()
            .and_then(FetchError::retry_after)
            .unwrap_or(PARK_DELAY);
        self.log("parked", format_args!("{url} for {}: {why}", ms(delay)));
        self.section(&url).parked += 1;
        spawn(async move {
            sleep(delay).await;
            // Put back before marking the first visit done, so that the
            // frontier's count of unfinished URLs never touches zero (which
            // would release `join` early).
            self.frontier
                .put_nowait(url)
                .expect("the frontier is unbounded and open until the crawl is done");
            self.done();
        });
    }

    /// Marks one URL taken from the frontier as handled.
    fn done(&self) {
        self.frontier
            .task_done()
            .expect("one task_done per URL taken");
    }

    fn section(&self, url: &str) -> std::cell::RefMut<'_, SectionTally> {
        std::cell::RefMut::map(self.tally.borrow_mut(), |tally| {
            tally.sections.entry(section_of(url).into()).or_default()
        })
    }

    fn log(&self, tag: &str, message: impl fmt::Display) {
        log(self.started, tag, message);
    }

    fn print_summary(&self, site: &FaultySite, took: Duration) {
        let tally = self.tally.borrow();
        let openings = self.openings.lock().unwrap_or_else(PoisonError::into_inner);

        println!("\n== summary: crawl finished in {}\n", ms(took));
        println!(
            "{:<6} {:>5} {:>8} {:>7} {:>8} {:>6}   {:<9} {:>6} {:>8}",
            "section",
            "pages",
            "requests",
            "retries",
            "timeouts",
            "parked",
            "breaker",
            "opened",
            "rejected"
        );
        for (section, s) in &tally.sections {
            let metrics = self.breakers.get(section).map(|breaker| breaker.metrics());
            println!(
                "{section:<7} {:>5} {:>8} {:>7} {:>8} {:>6}   {:<9} {:>6} {:>8}",
                s.pages,
                s.requests,
                s.retries,
                s.timeouts,
                s.parked,
                metrics
                    .map_or(CircuitState::Closed, |m| m.state)
                    .to_string(),
                openings.get(section).copied().unwrap_or(0),
                metrics.map_or(0, |m| m.rejected),
            );
        }

        let reachable = reachable_pages().len();
        let limiter = self.limiter.stats();
        let retry = self.retry.stats();
        let answers: Vec<String> = site
            .answers
            .borrow()
            .iter()
            .map(|(status, count)| format!("{status} x{count}"))
            .collect();
        println!();
        println!(
            "pages          {} of {reachable} reachable pages crawled; {} broken links ({})",
            tally.crawled.len(),
            tally.broken.len(),
            tally.broken.join(", ")
        );
        println!(
            "queue          {} URLs discovered, {} put back after parking; join() returned \
             when every one was handled",
            self.seen.borrow().len(),
            tally.sections.values().map(|s| s.parked).sum::<u32>()
        );
        println!(
            "semaphore      at most {} requests in flight (limit {CONCURRENCY}); the dispatcher \
             waited for a free slot {} times",
            tally.max_in_flight, tally.slot_waits
        );
        println!(
            "rate limiter   {} requests admitted at {REQUESTS_PER_SECOND}/s (burst {RATE_BURST}): \
             {} had to wait, {} of waiting in all",
            limiter.allowed,
            limiter.waited,
            ms(limiter.total_wait)
        );
        println!(
            "retry          {} calls: {} succeeded at once, {} after retrying, {} gave up; \
             {} retries ({} paced by Retry-After), {} attempts timed out",
            retry.calls,
            retry.succeeded_first_try,
            retry.succeeded_after_retries,
            retry.gave_up,
            retry.retries,
            tally.server_paced_retries,
            retry.attempt_timeouts
        );
        println!(
            "server         {} answers ({}); {} held back to be slow, which the crawler \
             stopped waiting for",
            site.answers.borrow().values().sum::<u32>(),
            answers.join(", "),
            site.slow_answers.get()
        );
    }

    /// Whether every reachable page was crawled exactly once, and only the
    /// links to missing pages were reported broken.
    fn check_complete(&self) -> ExitCode {
        let tally = self.tally.borrow();
        let reachable = reachable_pages();
        let crawled: BTreeSet<String> = tally.crawled.keys().cloned().collect();
        let twice: Vec<&String> = tally
            .crawled
            .iter()
            .filter(|(_, times)| **times != 1)
            .map(|(url, _)| url)
            .collect();
        let broken_expected = self.seen.borrow().len() - reachable.len();
        if crawled == reachable && twice.is_empty() && tally.broken.len() == broken_expected {
            println!("\ncheck          every reachable page was crawled exactly once");
            ExitCode::SUCCESS
        } else {
            eprintln!(
                "\ncheck FAILED: missing {:?}, unexpected {:?}, fetched more than once {twice:?}, \
                 {} broken links where {broken_expected} were expected",
                reachable.difference(&crawled).collect::<Vec<_>>(),
                crawled.difference(&reachable).collect::<Vec<_>>(),
                tally.broken.len()
            );
            ExitCode::FAILURE
        }
    }
}

/// A section's breaker: it opens after a few failures in a row, waits with
/// backoff, and tries one trial call. It reports its state changes.
fn section_breaker(
    section: &str,
    started: Instant,
    openings: Arc<Mutex<BTreeMap<String, u32>>>,
) -> CircuitBreaker<FetchError> {
    let name = section.to_string();
    CircuitBreaker::builder()
        .name(section)
        .consecutive_failures(BREAKER_TRIP_AFTER)
        .open_wait(
            Backoff::exponential(BREAKER_OPEN_WAIT)
                .max_delay(BREAKER_OPEN_WAIT * 4)
                .jitter(Jitter::None),
        )
        .permitted_calls_in_half_open(1)
        .max_wait_in_half_open(BREAKER_OPEN_WAIT)
        .record_error_if(FetchError::is_outage)
        .ignore_error_if(FetchError::is_throttling)
        .on_event(move |event| {
            if let CircuitEvent::StateChanged { from, to, reason } = event {
                if *to == CircuitState::Open {
                    let mut openings = openings.lock().unwrap_or_else(PoisonError::into_inner);
                    *openings.entry(name.clone()).or_default() += 1;
                }
                log(
                    started,
                    "breaker",
                    format_args!("`{name}`: {from} -> {to} ({reason})"),
                );
            }
        })
        .build()
        .expect("valid settings")
}

/// Prints one line of the crawl's log, stamped with the time since `started`.
fn log(started: Instant, tag: &str, message: impl fmt::Display) {
    let at = (time::now() - started).as_millis();
    println!("{at:>4} ms  {tag:<8} {message}");
}

/// A duration in whole milliseconds, for the log.
fn ms(duration: Duration) -> String {
    format!("{} ms", duration.as_millis())
}
