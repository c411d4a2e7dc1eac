//! The crawler: a frontier queue, a semaphore of request slots, a rate
//! limiter, retry, and a circuit breaker per section, each doing its job
//! (see the crate docs for how they fit together).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use weft_patterns::circuit_breaker::{
    CircuitBreaker, CircuitEvent, CircuitState, KeyedCircuitBreakers, Rejected,
};
use weft_patterns::rate_limit::{Gcra, Quota, RateLimiter};
use weft_patterns::retry::{Backoff, Jitter, RetryCause, RetryError, RetryEvent, RetryPolicy};
use weft_primitives::{OwnedSemaphorePermit, Queue, Semaphore};
use weft_runtime::{sleep, spawn, time};

use crate::http::{http_get, Response};
use crate::report::{SectionTally, Tally};
use crate::site::{links_in, section_of};
use crate::{log, ms};

// Settings: short real durations, so that the whole run takes about a second.

/// Requests in flight at once (the semaphore's permits).
pub(crate) const CONCURRENCY: usize = 4;
/// The crawler's overall request rate...
pub(crate) const REQUESTS_PER_SECOND: u32 = 200;
/// ...and how many requests may go at once after a quiet moment.
pub(crate) const RATE_BURST: u32 = 5;
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

/// Why one attempt to fetch a page failed.
#[derive(Debug, Clone)]
pub(crate) enum FetchError {
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

/// The crawler's state, shared by the dispatcher and the task of each URL.
pub(crate) struct Crawler {
    pub(crate) server: SocketAddr,
    pub(crate) started: Instant,
    /// URLs to visit. Each URL is put once (see `seen`), plus once more
    /// each time it comes back from parking.
    pub(crate) frontier: Queue<String>,
    /// Every URL ever put in the frontier.
    pub(crate) seen: RefCell<HashSet<String>>,
    pub(crate) slots: Arc<Semaphore>,
    pub(crate) limiter: RateLimiter<Gcra>,
    pub(crate) retry: RetryPolicy,
    pub(crate) breakers: KeyedCircuitBreakers<String, FetchError>,
    /// Times each breaker opened, counted by its event listener (listeners
    /// must be `Send + Sync`, hence the `Arc<Mutex<..>>`).
    pub(crate) openings: Arc<Mutex<BTreeMap<String, u32>>>,
    pub(crate) tally: RefCell<Tally>,
}

impl Crawler {
    pub(crate) fn new(server: SocketAddr) -> Rc<Self> {
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
    pub(crate) fn discover(&self, url: &str) -> bool {
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
    pub(crate) async fn dispatch(self: Rc<Self>) {
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
