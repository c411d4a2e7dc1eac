//! What the crawler counts as it goes, the summary it prints at the end,
//! and the check that the crawl was complete.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::sync::PoisonError;
use std::time::Duration;

use weft_patterns::circuit_breaker::CircuitState;

use crate::crawler::{Crawler, CONCURRENCY, RATE_BURST, REQUESTS_PER_SECOND};
use crate::ms;
use crate::site::{reachable_pages, FaultySite};

/// What the crawler counted, for the summary.
#[derive(Default)]
pub(crate) struct Tally {
    /// Pages fetched, with how many times each (the check wants 1).
    pub(crate) crawled: BTreeMap<String, u32>,
    /// Links to pages that do not exist.
    pub(crate) broken: Vec<String>,
    pub(crate) sections: BTreeMap<String, SectionTally>,
    /// Times the dispatcher had a URL but no free slot.
    pub(crate) slot_waits: u32,
    pub(crate) in_flight: usize,
    pub(crate) max_in_flight: usize,
    /// Retries whose delay the server chose.
    pub(crate) server_paced_retries: u32,
}

#[derive(Default)]
pub(crate) struct SectionTally {
    pub(crate) pages: u32,
    /// Requests sent (attempts the breaker let through).
    pub(crate) requests: u32,
    pub(crate) retries: u32,
    pub(crate) timeouts: u32,
    pub(crate) parked: u32,
}

impl Crawler {
    pub(crate) fn print_summary(&self, site: &FaultySite, took: Duration) {
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
    pub(crate) fn check_complete(&self) -> ExitCode {
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
