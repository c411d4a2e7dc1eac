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
//! `Content-Length` body), written in `http.rs` with weft's streams. The server
//! sends `Retry-After` in fractional seconds to keep the run short; real
//! servers send whole seconds (which the client reads too) or an HTTP date
//! (which it ignores, falling back to its own backoff).
//!
//! ```text
//! cargo run --release -p weft-patterns --example crawler
//! ```
//!
//! The files of this example, one part each: `site.rs` (the generated site
//! and the faulty server), `http.rs` (the HTTP plumbing of both ends),
//! `crawler.rs` (the crawler and its patterns), `report.rs` (what it
//! counts, the summary and the final check), and this one (the run).

mod crawler;
mod http;
mod report;
mod site;

use std::fmt;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use weft_runtime::{spawn, time};

use crawler::{Crawler, CONCURRENCY, REQUESTS_PER_SECOND};
use site::{reachable_pages, FaultySite};

/// A crawl still running after this long is a bug: stop rather than hang.
const WATCHDOG: Duration = Duration::from_secs(15);

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

/// Prints one line of the crawl's log, stamped with the time since `started`.
fn log(started: Instant, tag: &str, message: impl fmt::Display) {
    let at = (time::now() - started).as_millis();
    println!("{at:>4} ms  {tag:<8} {message}");
}

/// A duration in whole milliseconds, for the log.
fn ms(duration: Duration) -> String {
    format!("{} ms", duration.as_millis())
}
