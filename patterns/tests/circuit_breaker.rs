//! The circuit breaker on a paused clock: every transition, both windows,
//! slow calls, half-open permits and maximum wait, jittered open waits,
//! predicates, events, keyed eviction, no lock across the call, and the
//! cancellation guarantee.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weft_patterns::circuit_breaker::{
    CallError, CircuitBreaker, CircuitEvent, CircuitState, KeyedCircuitBreakers, SlidingWindow,
    TransitionReason,
};
use weft_patterns::retry::{Backoff, Jitter};
use weft_runtime::{spawn, time};
use weft_tests::{paused, DropFlag};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A breaker that opens at 50 % failures over the last 10 calls (once 4
/// are in), waits `wait` (no jitter) when open, and allows 2 trial calls.
fn rate_breaker(wait: Duration) -> CircuitBreaker<&'static str> {
    CircuitBreaker::builder()
        .name("test")
        .sliding_window(SlidingWindow::Count(10))
        .minimum_calls(4)
        .failure_rate_threshold(50.0)
        .open_wait(Backoff::constant(wait).jitter(Jitter::None))
        .permitted_calls_in_half_open(2)
        .max_wait_in_half_open(secs(30))
        .build()
        .unwrap()
}

fn record(breaker: &CircuitBreaker<&'static str>, outcomes: &str) {
    for c in outcomes.chars() {
        let permit = breaker
            .try_acquire()
            .expect("the breaker lets the call through");
        match c {
            'S' => permit.success(),
            'F' => permit.failure(),
            _ => unreachable!("outcomes are S or F"),
        }
    }
}

/// The state changes a breaker reported: from, to, why.
type Transitions = Arc<Mutex<Vec<(CircuitState, CircuitState, TransitionReason)>>>;

/// Collects the state changes a breaker reports.
fn transitions() -> (Transitions, impl Fn(&CircuitEvent) + Send + Sync + 'static) {
    let seen = Transitions::default();
    let sink = seen.clone();
    let listener = move |event: &CircuitEvent| {
        if let CircuitEvent::StateChanged { from, to, reason } = *event {
            sink.lock().unwrap().push((from, to, reason));
        }
    };
    (seen, listener)
}

#[test]
fn failure_rate_trips_only_after_minimum_calls() {
    paused(async {
        let breaker = rate_breaker(secs(10));
        record(&breaker, "FFF");
        // 100 % failures, but only 3 calls of the 4 needed.
        assert_eq!(breaker.state(), CircuitState::Closed);
        assert_eq!(breaker.metrics().failure_rate, None);
        record(&breaker, "S");
        // 3 of 4 = 75 % >= 50 %.
        assert_eq!(breaker.state(), CircuitState::Open);
    });
}

#[test]
fn count_window_slides_over_the_last_n_calls() {
    paused(async {
        let breaker = CircuitBreaker::<&str>::builder()
            .sliding_window(SlidingWindow::Count(4))
            .minimum_calls(4)
            .failure_rate_threshold(75.0)
            .build()
            .unwrap();
        // Window after each step, and its failure rate:
        record(&breaker, "FFSS"); // F F S S  50 %
        record(&breaker, "S"); //    F S S S  25 %
        record(&breaker, "F"); //    S S S F  25 %
        record(&breaker, "F"); //    S S F F  50 %
        assert_eq!(breaker.metrics().failure_rate, Some(50.0));
        assert_eq!(breaker.state(), CircuitState::Closed);
        record(&breaker, "F"); //    S F F F  75 %
        assert_eq!(breaker.state(), CircuitState::Open);
    });
}

#[test]
fn time_window_forgets_calls_older_than_its_length() {
    paused(async {
        let (seen, listener) = transitions();
        let breaker = CircuitBreaker::<&str>::builder()
            .sliding_window(SlidingWindow::Time {
                length: secs(10),
                buckets: 10,
            })
            .minimum_calls(3)
            .failure_rate_threshold(60.0)
            .on_event(listener)
            .build()
            .unwrap();
        let start = time::now();
        record(&breaker, "FF");
        time::sleep_until(start + Duration::from_millis(9_999)).await;
        assert_eq!(breaker.metrics().buffered_calls, 2);
        // The bucket of t = 0 leaves the window when t = 10 s begins.
        time::sleep_until(start + secs(10)).await;
        assert_eq!(breaker.metrics().buffered_calls, 0);
        // Had the two old failures stayed, S would make 2 of 3 (67 %) and
        // trip; the window holds only the new call.
        record(&breaker, "S");
        assert_eq!(breaker.state(), CircuitState::Closed);
        record(&breaker, "FF");
        assert_eq!(breaker.state(), CircuitState::Open);
        let rate = 200.0 / 3.0;
        assert_eq!(
            *seen.lock().unwrap(),
            [(
                CircuitState::Closed,
                CircuitState::Open,
                TransitionReason::FailureRateExceeded { rate }
            )]
        );
    });
}

#[test]
fn consecutive_failures_trip_before_the_minimum_calls() {
    paused(async {
        let (seen, listener) = transitions();
        let breaker = CircuitBreaker::<&str>::builder()
            .consecutive_failures(3)
            .on_event(listener)
            .build()
            .unwrap();
        record(&breaker, "FFSFF");
        assert_eq!(breaker.state(), CircuitState::Closed);
        assert_eq!(breaker.metrics().consecutive_failures, 2);
        record(&breaker, "F");
        assert_eq!(breaker.state(), CircuitState::Open);
        assert_eq!(
            seen.lock().unwrap()[0].2,
            TransitionReason::ConsecutiveFailures { count: 3 }
        );
    });
}

#[test]
fn slow_calls_trip_the_breaker_even_when_they_succeed() {
    paused(async {
        let (seen, listener) = transitions();
        let breaker = CircuitBreaker::<&str>::builder()
            .sliding_window(SlidingWindow::Count(4))
            .minimum_calls(4)
            .slow_call_duration(secs(1))
            .slow_call_rate_threshold(50.0)
            .on_event(listener)
            .build()
            .unwrap();
        let slow = || async {
            time::sleep(secs(1)).await;
            Ok::<_, &str>(())
        };
        let fast = || async { Ok::<_, &str>(()) };
        breaker.call(fast()).await.unwrap();
        breaker.call(slow()).await.unwrap();
        breaker.call(fast()).await.unwrap();
        let m = breaker.metrics();
        assert_eq!((m.buffered_calls, m.slow_calls, m.failed_calls), (3, 1, 0));
        breaker.call(slow()).await.unwrap();
        assert_eq!(breaker.state(), CircuitState::Open);
        assert_eq!(
            seen.lock().unwrap()[0].2,
            TransitionReason::SlowCallRateExceeded { rate: 50.0 }
        );
    });
}

#[test]
fn rejected_call_returns_at_once_says_when_to_retry_and_never_polls_the_work() {
    paused(async {
        let breaker = rate_breaker(secs(10));
        record(&breaker, "FFFF");
        let opened = time::now();
        time::sleep(secs(4)).await;
        let polled = Cell::new(false);
        let err = breaker
            .call(async {
                polled.set(true);
                Ok::<_, &str>(())
            })
            .await
            .unwrap_err();
        assert!(!polled.get(), "a rejected call must not run its work");
        assert_eq!(time::now(), opened + secs(4), "the rejection did not wait");
        let rejected = err.rejected().unwrap();
        assert_eq!(rejected.state(), CircuitState::Open);
        assert_eq!(rejected.retry_after(), Some(secs(6)));
        assert_eq!(
            err.to_string(),
            "circuit breaker `test` is open: retry in 6s"
        );
        assert_eq!(breaker.metrics().rejected, 1);
    });
}

#[test]
fn open_becomes_half_open_then_closes_when_trials_pass() {
    paused(async {
        let (seen, listener) = transitions();
        let breaker = CircuitBreaker::<&str>::builder()
            .consecutive_failures(1)
            .open_wait(Backoff::constant(secs(10)).jitter(Jitter::None))
            .permitted_calls_in_half_open(2)
            .on_event(listener)
            .build()
            .unwrap();
        record(&breaker, "F");
        time::sleep(Duration::from_millis(9_999)).await;
        assert_eq!(breaker.state(), CircuitState::Open);
        time::sleep(Duration::from_millis(1)).await;
        assert_eq!(breaker.state(), CircuitState::HalfOpen);
        record(&breaker, "S");
        assert_eq!(breaker.state(), CircuitState::HalfOpen);
        record(&breaker, "S");
        assert_eq!(breaker.state(), CircuitState::Closed);
        use CircuitState::*;
        assert_eq!(
            *seen.lock().unwrap(),
            [
                (
                    Closed,
                    Open,
                    TransitionReason::ConsecutiveFailures { count: 1 }
                ),
                (Open, HalfOpen, TransitionReason::OpenWaitElapsed),
                (HalfOpen, Closed, TransitionReason::TrialCallsPassed),
            ]
        );
    });
}

#[test]
fn failed_trials_reopen_with_a_longer_wait_which_restarts_after_closing() {
    paused(async {
        let (seen, listener) = transitions();
        let breaker = CircuitBreaker::<&str>::builder()
            .consecutive_failures(1)
            .open_wait(Backoff::exponential(secs(10)).jitter(Jitter::None))
            .permitted_calls_in_half_open(1)
            .on_event(listener)
            .build()
            .unwrap();
        let retry_after = |b: &CircuitBreaker<&str>| b.try_acquire().unwrap_err().retry_after();
        record(&breaker, "F");
        assert_eq!(retry_after(&breaker), Some(secs(10)));
        time::sleep(secs(10)).await;
        record(&breaker, "F"); // the trial fails
        assert_eq!(retry_after(&breaker), Some(secs(20)));
        time::sleep(secs(20)).await;
        record(&breaker, "F");
        assert_eq!(retry_after(&breaker), Some(secs(40)));
        time::sleep(secs(40)).await;
        record(&breaker, "S"); // the trial passes
        assert_eq!(breaker.state(), CircuitState::Closed);
        record(&breaker, "F");
        assert_eq!(retry_after(&breaker), Some(secs(10)));
        let reopen = seen.lock().unwrap()[2];
        assert_eq!(
            reopen,
            (
                CircuitState::HalfOpen,
                CircuitState::Open,
                TransitionReason::FailureRateExceeded { rate: 100.0 }
            )
        );
    });
}

#[test]
fn half_open_enforces_its_permitted_calls() {
    paused(async {
        let breaker = rate_breaker(secs(10));
        record(&breaker, "FFFF");
        time::sleep(secs(10)).await;
        let first = breaker.try_acquire().unwrap();
        let second = breaker.try_acquire().unwrap();
        time::sleep(secs(3)).await;
        let refused = breaker.try_acquire().unwrap_err();
        assert_eq!(refused.state(), CircuitState::HalfOpen);
        // At the latest when the 30 s maximum wait ends.
        assert_eq!(refused.retry_after(), Some(secs(27)));
        assert_eq!(
            refused.to_string(),
            "circuit breaker `test` is half-open and its trial calls are taken: retry within 27s"
        );
        first.success();
        // One trial ended, one runs: still no room (the verdict needs both).
        assert!(breaker.try_acquire().is_err());
        second.success();
        assert_eq!(breaker.state(), CircuitState::Closed);
    });
}

#[test]
fn half_open_verdict_comes_as_soon_as_it_is_certain() {
    paused(async {
        let breaker = CircuitBreaker::<&str>::builder()
            .consecutive_failures(1)
            .open_wait(Backoff::constant(secs(1)).jitter(Jitter::None))
            .permitted_calls_in_half_open(4)
            .failure_rate_threshold(50.0)
            .build()
            .unwrap();
        record(&breaker, "F");
        time::sleep(secs(1)).await;
        // Two failures are 50 % of the 4 trials whatever the other two do.
        record(&breaker, "SF");
        assert_eq!(breaker.state(), CircuitState::HalfOpen);
        record(&breaker, "F");
        assert_eq!(breaker.state(), CircuitState::Open);
        time::sleep(secs(1)).await;
        // Three successes: even a failing fourth makes only 25 %.
        record(&breaker, "SSS");
        assert_eq!(breaker.state(), CircuitState::Closed);
    });
}

#[test]
fn a_hung_trial_call_cannot_keep_the_breaker_half_open() {
    paused(async {
        let (seen, listener) = transitions();
        let breaker = Arc::new(
            CircuitBreaker::<&str>::builder()
                .consecutive_failures(1)
                .open_wait(Backoff::constant(secs(10)).jitter(Jitter::None))
                .permitted_calls_in_half_open(1)
                .max_wait_in_half_open(secs(5))
                .on_event(listener)
                .build()
                .unwrap(),
        );
        record_arc(&breaker, false);
        time::sleep(secs(10)).await;
        let hung = spawn({
            let breaker = breaker.clone();
            async move {
                breaker
                    .call(async {
                        time::sleep(secs(3600)).await;
                        Ok::<_, &str>(())
                    })
                    .await
            }
        });
        time::sleep(Duration::from_millis(4_999)).await;
        assert_eq!(breaker.state(), CircuitState::HalfOpen);
        time::sleep(Duration::from_millis(1)).await;
        assert_eq!(breaker.state(), CircuitState::Open);
        assert_eq!(
            seen.lock().unwrap()[2].2,
            TransitionReason::HalfOpenTimedOut
        );
        // The wait grew (constant backoff: same 10 s) and counts from the timeout.
        assert_eq!(
            breaker.try_acquire().unwrap_err().retry_after(),
            Some(secs(10))
        );
        // The hung call finally succeeds: too late to close the breaker.
        hung.await.unwrap().unwrap();
        assert_ne!(breaker.state(), CircuitState::Closed);
        assert_eq!(breaker.metrics().successes, 1);
    });
}

fn record_arc(breaker: &Arc<CircuitBreaker<&'static str>>, success: bool) {
    let permit = breaker.try_acquire().unwrap();
    if success {
        permit.success();
    } else {
        permit.failure();
    }
}

#[test]
fn jittered_open_waits_stay_within_their_bounds() {
    paused(async {
        let mut full = Vec::new();
        let mut equal = Vec::new();
        for seed in 0..200 {
            for (jitter, waits) in [(Jitter::Full, &mut full), (Jitter::Equal, &mut equal)] {
                let breaker = CircuitBreaker::<&str>::builder()
                    .consecutive_failures(1)
                    .open_wait(
                        Backoff::exponential(secs(10))
                            .max_delay(secs(15))
                            .jitter(jitter),
                    )
                    .permitted_calls_in_half_open(1)
                    .seed(seed)
                    .build()
                    .unwrap();
                record(&breaker, "F");
                let first = breaker.try_acquire().unwrap_err().retry_after().unwrap();
                // Reopen once: the second wait is capped at 15 s before jitter.
                time::sleep(first).await;
                record(&breaker, "F");
                let second = breaker.try_acquire().unwrap_err().retry_after().unwrap();
                waits.push((first, second));
            }
        }
        for &(first, second) in &full {
            assert!(
                first <= secs(10) && second <= secs(15),
                "{first:?} {second:?}"
            );
        }
        for &(first, second) in &equal {
            assert!((secs(5)..=secs(10)).contains(&first), "{first:?}");
            assert!(
                (Duration::from_millis(7_500)..=secs(15)).contains(&second),
                "{second:?}"
            );
        }
        // Spread, not one value for everybody.
        assert!(full.iter().any(|w| w.0 < secs(3)) && full.iter().any(|w| w.0 > secs(7)));
        // The same seed gives the same waits.
        assert_eq!(full[7], {
            let breaker = CircuitBreaker::<&str>::builder()
                .consecutive_failures(1)
                .open_wait(Backoff::exponential(secs(10)).max_delay(secs(15)))
                .permitted_calls_in_half_open(1)
                .seed(7)
                .build()
                .unwrap();
            record(&breaker, "F");
            let first = breaker.try_acquire().unwrap_err().retry_after().unwrap();
            time::sleep(first).await;
            record(&breaker, "F");
            (
                first,
                breaker.try_acquire().unwrap_err().retry_after().unwrap(),
            )
        });
    });
}

#[derive(Debug, PartialEq)]
enum HttpError {
    Server(u16),
    Client(u16),
    Cancelled,
}

#[test]
fn predicates_choose_which_errors_count() {
    paused(async {
        let breaker = CircuitBreaker::<HttpError>::builder()
            .sliding_window(SlidingWindow::Count(10))
            .minimum_calls(2)
            .failure_rate_threshold(50.0)
            .record_error_if(|e| matches!(e, HttpError::Server(_)))
            .ignore_error_if(|e| *e == HttpError::Cancelled)
            .build()
            .unwrap();
        for error in [
            HttpError::Client(404),
            HttpError::Cancelled,
            HttpError::Client(400),
        ] {
            let err = breaker
                .call(async { Err::<(), _>(error) })
                .await
                .unwrap_err();
            assert!(
                matches!(err, CallError::Failed(_)),
                "the error comes back: {err:?}"
            );
        }
        let m = breaker.metrics();
        // Client errors are successes for the breaker; the cancellation is ignored.
        assert_eq!(
            (m.buffered_calls, m.failed_calls, m.successes, m.ignored),
            (2, 0, 2, 1)
        );
        assert_eq!(breaker.state(), CircuitState::Closed);
        let _ = breaker
            .call(async { Err::<(), _>(HttpError::Server(503)) })
            .await;
        let _ = breaker
            .call(async { Err::<(), _>(HttpError::Server(502)) })
            .await;
        assert_eq!(breaker.state(), CircuitState::Open);
    });
}

#[test]
fn forced_open_disabled_and_reset() {
    paused(async {
        let (seen, listener) = transitions();
        let breaker = CircuitBreaker::<&str>::builder()
            .name("db")
            .consecutive_failures(1)
            .on_event(listener)
            .build()
            .unwrap();
        breaker.force_open();
        let refused = breaker.try_acquire().unwrap_err();
        assert_eq!(refused.state(), CircuitState::ForcedOpen);
        assert_eq!(refused.retry_after(), None);
        assert_eq!(
            refused.to_string(),
            "circuit breaker `db` is forced open: calls are refused until it is reset"
        );
        // Time does not end a forced opening.
        time::sleep(secs(86_400)).await;
        assert_eq!(breaker.state(), CircuitState::ForcedOpen);

        breaker.disable();
        record(&breaker, "FFFF");
        assert_eq!(breaker.state(), CircuitState::Disabled);
        assert_eq!(breaker.metrics().buffered_calls, 0);

        breaker.reset();
        assert_eq!(breaker.state(), CircuitState::Closed);
        record(&breaker, "F");
        assert_eq!(breaker.state(), CircuitState::Open);
        breaker.reset();
        assert_eq!(breaker.state(), CircuitState::Closed);
        use CircuitState::*;
        let manual = TransitionReason::Manual;
        let seen = seen.lock().unwrap();
        assert_eq!(
            seen[..3],
            [
                (Closed, ForcedOpen, manual),
                (ForcedOpen, Disabled, manual),
                (Disabled, Closed, manual)
            ]
        );
        assert_eq!(seen[4], (Open, Closed, manual));
    });
}

#[test]
fn outcomes_granted_before_a_state_change_do_not_count_after_it() {
    paused(async {
        let breaker = rate_breaker(secs(10));
        let early = breaker.try_acquire().unwrap();
        breaker.reset();
        early.failure();
        let m = breaker.metrics();
        assert_eq!((m.buffered_calls, m.failures), (0, 1));
    });
}

#[test]
fn events_report_every_call_and_listeners_may_use_the_breaker() {
    paused(async {
        let events = Arc::new(Mutex::new(Vec::new()));
        let breaker = Arc::new_cyclic(|weak: &std::sync::Weak<CircuitBreaker<&'static str>>| {
            let weak = weak.clone();
            let events = events.clone();
            CircuitBreaker::builder()
                .consecutive_failures(1)
                .open_wait(Backoff::constant(secs(5)).jitter(Jitter::None))
                .on_event(move |event: &CircuitEvent| {
                    // Looking at the breaker from a listener must not deadlock.
                    let state = weak.upgrade().map(|b| b.state());
                    events.lock().unwrap().push((event.to_string(), state));
                })
                .build()
                .unwrap()
        });
        breaker.call(async { Ok::<_, &str>(()) }).await.unwrap();
        let _ = breaker.call(async { Err::<(), _>("boom") }).await;
        let _ = breaker.call(async { Ok::<_, &str>(()) }).await;
        let seen: Vec<String> = events.lock().unwrap().iter().map(|e| e.0.clone()).collect();
        assert_eq!(
            seen,
            [
                "call succeeded in 0ns",
                "call failed in 0ns",
                "closed -> open (1 failures in a row)",
                "call rejected (open), retry in 5s",
            ]
        );
        assert_eq!(events.lock().unwrap()[2].1, Some(CircuitState::Open));
    });
}

#[test]
fn no_lock_is_held_across_the_call() {
    paused(async {
        let breaker = Arc::new(rate_breaker(secs(10)));
        // A call that calls through the same breaker.
        let nested = breaker
            .call(async {
                let inner = breaker.call(async { Ok::<_, &str>(20) }).await.unwrap();
                Ok::<_, &str>(inner + 1)
            })
            .await;
        assert_eq!(nested, Ok(21));
        // A slow call does not hold up a fast one.
        let slow = spawn({
            let breaker = breaker.clone();
            async move {
                breaker
                    .call(async {
                        time::sleep(secs(60)).await;
                        Ok::<_, &str>("slow")
                    })
                    .await
            }
        });
        let start = time::now();
        time::sleep(secs(1)).await;
        assert_eq!(
            breaker.call(async { Ok::<_, &str>("fast") }).await,
            Ok("fast")
        );
        assert_eq!(time::now() - start, secs(1));
        assert_eq!(slow.await.unwrap(), Ok("slow"));
    });
}

#[test]
fn a_dropped_call_counts_as_neither_and_releases_its_trial_slot() {
    paused(async {
        let breaker = rate_breaker(secs(10));
        // Closed: the window does not see it.
        let dropped = Rc::new(Cell::new(false));
        let flag = DropFlag(dropped.clone());
        let cut = time::timeout(
            secs(1),
            breaker.call(async move {
                let _flag = flag;
                std::future::pending::<Result<(), &str>>().await
            }),
        )
        .await;
        assert!(cut.is_err());
        assert!(dropped.get(), "the work was dropped with the call");
        let m = breaker.metrics();
        assert_eq!(
            (m.cancelled, m.buffered_calls, m.successes, m.failures),
            (1, 0, 0, 0)
        );

        // Half-open: the slot comes back at once.
        record(&breaker, "FFFF");
        time::sleep(secs(10)).await;
        let first = breaker.try_acquire().unwrap();
        let cut = time::timeout(
            secs(1),
            breaker.call(std::future::pending::<Result<(), &str>>()),
        )
        .await;
        assert!(cut.is_err());
        let again = breaker
            .try_acquire()
            .expect("the dropped trial's slot is free again");
        drop(first); // cancelled too: its slot returns as well
        breaker.try_acquire().unwrap().success();
        again.success();
        assert_eq!(breaker.state(), CircuitState::Closed);
    });
}

#[test]
fn invalid_settings_are_refused_with_the_value_given() {
    let err = CircuitBreaker::<()>::builder()
        .sliding_window(SlidingWindow::Count(0))
        .build()
        .unwrap_err();
    assert_eq!(err.setting(), "CircuitBreakerBuilder::sliding_window");
    assert_eq!(err.value(), "Count(0)");
    let err = CircuitBreaker::<()>::builder()
        .permitted_calls_in_half_open(0)
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid CircuitBreakerBuilder::permitted_calls_in_half_open = 0: must be at least 1"
    );
    let err = CircuitBreaker::<()>::builder()
        .slow_call_rate_threshold(f64::NAN)
        .build()
        .unwrap_err();
    assert_eq!(err.value(), "NaN");
}

fn hosts(max_keys: usize) -> KeyedCircuitBreakers<&'static str, &'static str> {
    KeyedCircuitBreakers::new(max_keys, secs(60), |host: &&'static str| {
        CircuitBreaker::builder()
            .name(*host)
            .consecutive_failures(1)
            .open_wait(Backoff::constant(secs(30)).jitter(Jitter::None))
            .build()
            .unwrap()
    })
    .unwrap()
}

#[test]
fn keyed_breakers_are_one_per_key() {
    paused(async {
        let hosts = hosts(10);
        let a = hosts.breaker(&"a").unwrap();
        a.try_acquire().unwrap().failure();
        assert_eq!(hosts.breaker(&"a").unwrap().state(), CircuitState::Open);
        assert_eq!(hosts.breaker(&"b").unwrap().state(), CircuitState::Closed);
        assert_eq!(hosts.breaker(&"b").unwrap().name(), "b");
        assert!(Arc::ptr_eq(&a, &hosts.get(&"a").unwrap()));
        assert_eq!(hosts.len(), 2);
        assert!(hosts.remove(&"a").is_some());
        assert!(hosts.get(&"a").is_none());
    });
}

#[test]
fn keyed_breakers_evict_idle_keys_but_not_held_ones() {
    paused(async {
        let hosts = hosts(10);
        drop(hosts.breaker(&"idle").unwrap());
        let held = hosts.breaker(&"held").unwrap();
        hosts
            .breaker(&"open")
            .unwrap()
            .try_acquire()
            .unwrap()
            .failure();
        time::sleep(secs(59)).await;
        assert_eq!(hosts.evict_idle(), 0);
        time::sleep(secs(1)).await;
        // Idle for 60 s: "idle" goes, and so does "open", whose open wait
        // ended at 30 s; "held" is in use and stays.
        assert_eq!(hosts.evict_idle(), 2);
        assert!(hosts.get(&"idle").is_none() && hosts.get(&"open").is_none());
        assert!(hosts.get(&"held").is_some());
        drop(held);
        time::sleep(secs(60)).await;
        // Eviction also happens lazily on use.
        hosts.breaker(&"new").unwrap();
        assert!(hosts.get(&"held").is_none());
        assert_eq!(hosts.len(), 1);
    });
}

#[test]
fn keyed_breakers_at_capacity_evict_the_least_recently_used_forgettable_one() {
    paused(async {
        let hosts = hosts(2);
        drop(hosts.breaker(&"a").unwrap());
        time::sleep(secs(1)).await;
        drop(hosts.breaker(&"b").unwrap());
        time::sleep(secs(1)).await;
        drop(hosts.breaker(&"a").unwrap()); // a is now more recent than b
        hosts.breaker(&"c").unwrap();
        assert!(hosts.get(&"b").is_none(), "b was the least recently used");
        assert!(hosts.get(&"a").is_some() && hosts.get(&"c").is_some());

        // An open breaker whose wait still runs, and a held one, stay.
        hosts
            .breaker(&"a")
            .unwrap()
            .try_acquire()
            .unwrap()
            .failure();
        let c = hosts.breaker(&"c").unwrap();
        let err = hosts.breaker(&"d").unwrap_err();
        assert_eq!(err.max_keys(), 2);
        assert_eq!(
            err.to_string(),
            "all 2 keyed circuit breakers are in use or protecting a failing key; none can be evicted for a new key"
        );
        drop(c);
        assert!(hosts.breaker(&"d").is_ok());
        assert!(hosts.get(&"c").is_none());
        assert_eq!(hosts.get(&"a").unwrap().state(), CircuitState::Open);
    });
}

#[test]
fn keyed_breakers_never_forget_a_forced_open_one() {
    paused(async {
        let hosts = hosts(1);
        hosts.breaker(&"maintenance").unwrap().force_open();
        time::sleep(secs(3600)).await;
        assert_eq!(hosts.evict_idle(), 0);
        assert!(hosts.breaker(&"other").is_err());
    });
}

#[test]
fn keyed_breakers_keep_an_open_breaker_until_its_wait_ends() {
    paused(async {
        let hosts = KeyedCircuitBreakers::new(10, secs(60), |_: &u32| {
            CircuitBreaker::<()>::builder()
                .consecutive_failures(1)
                .open_wait(Backoff::constant(secs(300)).jitter(Jitter::None))
                .build()
                .unwrap()
        })
        .unwrap();
        hosts.breaker(&1).unwrap().try_acquire().unwrap().failure();
        time::sleep(secs(299)).await;
        // Forgetting it now would give the failing host a fresh, closed breaker.
        assert_eq!(hosts.evict_idle(), 0);
        time::sleep(secs(1)).await;
        assert_eq!(hosts.evict_idle(), 1);
    });
}
