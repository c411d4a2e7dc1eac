//! Retry on a paused clock: the delays of every backoff (exact without
//! jitter, bounded with it), attempts, the deadline, Retry-After, the
//! per-attempt timeout, predicates, the hook, the shared budget under an
//! outage, statistics, and cancellation (dropping the call stops it).

use std::cell::{Cell, RefCell};
use std::future::IntoFuture;
use std::rc::Rc;
use std::time::{Duration, Instant};

use weft_patterns::retry::{
    AttemptFailure, Backoff, GiveUpReason, Jitter, RetryBudget, RetryCause, RetryPolicy, RetryStats,
};
use weft_runtime::{join_all, spawn, time};
use weft_tests::{paused, DropFlag};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Runs `policy` over an operation that fails `failures` times (instantly)
/// and then succeeds; returns the waits between consecutive attempts.
async fn waits_between_attempts(policy: &RetryPolicy, failures: usize) -> Vec<Duration> {
    let attempts: RefCell<Vec<Instant>> = RefCell::default();
    let result = policy
        .retry(|| {
            attempts.borrow_mut().push(time::now());
            let fail = attempts.borrow().len() <= failures;
            async move {
                if fail {
                    Err("down")
                } else {
                    Ok(())
                }
            }
        })
        .await;
    assert_eq!(result, Ok(()));
    let attempts = attempts.into_inner();
    attempts.windows(2).map(|pair| pair[1] - pair[0]).collect()
}

#[test]
fn each_backoff_gives_its_exact_delays_without_jitter() {
    paused(async {
        let exact =
            |backoff: Backoff| RetryPolicy::new(backoff.jitter(Jitter::None)).max_retries(6);
        let exponential = exact(Backoff::exponential(ms(100)).max_delay(ms(2000)));
        assert_eq!(
            waits_between_attempts(&exponential, 6).await,
            [ms(100), ms(200), ms(400), ms(800), ms(1600), ms(2000)]
        );
        let gentle = exact(Backoff::exponential(ms(100)).factor(1.5));
        assert_eq!(
            waits_between_attempts(&gentle, 3).await,
            [ms(100), ms(150), ms(225)]
        );
        let fibonacci = exact(Backoff::fibonacci(ms(100)));
        assert_eq!(
            waits_between_attempts(&fibonacci, 6).await,
            [ms(100), ms(100), ms(200), ms(300), ms(500), ms(800)]
        );
        let constant = exact(Backoff::constant(ms(250)));
        assert_eq!(waits_between_attempts(&constant, 3).await, [ms(250); 3]);
    });
}

#[test]
fn jittered_delays_stay_within_their_bounds_and_under_the_cap() {
    paused(async {
        let bounds = [ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)];
        let mut all_full = Vec::new();
        for seed in 0..100 {
            let backoff = Backoff::exponential(ms(100)).max_delay(ms(1000));
            let full = RetryPolicy::new(backoff.clone()).max_retries(6).seed(seed);
            let equal = RetryPolicy::new(backoff.jitter(Jitter::Equal))
                .max_retries(6)
                .seed(seed);
            let full_waits = waits_between_attempts(&full, 6).await;
            for (wait, bound) in full_waits.iter().zip(bounds) {
                assert!(*wait <= bound, "full jitter: {wait:?} > {bound:?}");
            }
            for (wait, bound) in waits_between_attempts(&equal, 6)
                .await
                .into_iter()
                .zip(bounds)
            {
                assert!(
                    wait >= bound / 2 && wait <= bound,
                    "equal jitter: {wait:?} vs {bound:?}"
                );
            }
            all_full.extend(full_waits);
        }
        // Jitter spreads: some delays land in the lower half of their range.
        assert!(all_full.iter().any(|w| *w < ms(50)));
    });
}

#[test]
fn decorrelated_jitter_stays_between_base_and_three_times_the_last_delay() {
    paused(async {
        for seed in 0..100 {
            let policy =
                RetryPolicy::new(Backoff::decorrelated_jitter(ms(100)).max_delay(ms(3000)))
                    .max_retries(8)
                    .seed(seed);
            let mut previous = ms(100);
            for wait in waits_between_attempts(&policy, 8).await {
                assert!(
                    wait >= ms(100) && wait <= (previous * 3).min(ms(3000)),
                    "{wait:?}"
                );
                previous = wait;
            }
        }
    });
}

#[test]
fn the_same_seed_gives_the_same_delays_and_calls_differ() {
    paused(async {
        let a = RetryPolicy::new(Backoff::exponential(ms(100)))
            .max_retries(5)
            .seed(3);
        let b = RetryPolicy::new(Backoff::exponential(ms(100)))
            .max_retries(5)
            .seed(3);
        let first_of_a = waits_between_attempts(&a, 5).await;
        assert_eq!(first_of_a, waits_between_attempts(&b, 5).await);
        // A second call of the same policy draws a different stream.
        assert_ne!(first_of_a, waits_between_attempts(&a, 5).await);
    });
}

#[test]
fn max_retries_bounds_the_attempts() {
    paused(async {
        let policy = RetryPolicy::new(Backoff::constant(ms(10))).max_retries(3);
        let attempts = Cell::new(0);
        let err = policy
            .retry(|| {
                attempts.set(attempts.get() + 1);
                async { Err::<(), _>("down") }
            })
            .await
            .unwrap_err();
        assert_eq!(attempts.get(), 4);
        assert_eq!(err.attempts(), 4);
        assert_eq!(err.reason(), GiveUpReason::RetriesExhausted);
        assert_eq!(err.last_failure(), &AttemptFailure::Error("down"));
        let never = RetryPolicy::default().max_retries(0);
        let err = never
            .retry(|| async { Err::<(), _>("down") })
            .await
            .unwrap_err();
        assert_eq!(err.attempts(), 1);
    });
}

#[test]
fn the_deadline_is_never_overshot_by_a_sleep() {
    paused(async {
        let policy = RetryPolicy::new(Backoff::constant(ms(300)).jitter(Jitter::None))
            .max_retries(100)
            .deadline(ms(1000));
        let start = time::now();
        let attempts = RefCell::new(Vec::new());
        let err = policy
            .retry(|| {
                attempts.borrow_mut().push(time::now() - start);
                async { Err::<(), _>("down") }
            })
            .await
            .unwrap_err();
        // A fourth sleep would end at 1200 ms: the call gives up at 900 ms.
        assert_eq!(*attempts.borrow(), [ms(0), ms(300), ms(600), ms(900)]);
        assert_eq!(err.reason(), GiveUpReason::DeadlineReached);
        assert_eq!(err.elapsed(), ms(900));
        assert_eq!(time::now() - start, ms(900));
    });
}

#[test]
fn the_deadline_cuts_a_running_attempt() {
    paused(async {
        let policy = RetryPolicy::new(Backoff::constant(ms(300)).jitter(Jitter::None))
            .max_retries(100)
            .deadline(ms(1000));
        let start = time::now();
        let err = policy
            .retry(|| async {
                time::sleep(ms(400)).await;
                Err::<(), _>("slow failure")
            })
            .await
            .unwrap_err();
        // 0..400 fails, sleep to 700, the second attempt is cut at 1000.
        assert_eq!(time::now() - start, ms(1000));
        assert_eq!(err.reason(), GiveUpReason::DeadlineReached);
        assert_eq!(err.last_failure(), &AttemptFailure::TimedOut);
        assert_eq!(err.attempts(), 2);
        assert_eq!(
            err.to_string(),
            "gave up after 2 attempts (the deadline would be passed): the last attempt timed out"
        );
    });
}

#[derive(Debug, PartialEq)]
struct Unavailable {
    retry_after: Option<Duration>,
}

#[test]
fn a_retry_after_hint_overrides_the_next_delay() {
    paused(async {
        let policy = RetryPolicy::new(Backoff::constant(ms(100)).jitter(Jitter::None))
            .max_retries(3)
            .deadline(Duration::from_secs(60));
        let hints = RefCell::new(vec![None, Some(Duration::from_secs(5))]);
        let attempts = RefCell::new(Vec::new());
        let start = time::now();
        let result = policy
            .retry(|| {
                attempts.borrow_mut().push(time::now() - start);
                let hint = hints.borrow_mut().pop();
                async move {
                    match hint {
                        Some(retry_after) => Err(Unavailable { retry_after }),
                        None => Ok("served"),
                    }
                }
            })
            .retry_after(|e| e.retry_after)
            .await;
        assert_eq!(result, Ok("served"));
        // The hint (5 s) replaced the backoff (100 ms), even above max_delay;
        // with no hint the backoff applies again.
        assert_eq!(*attempts.borrow(), [ms(0), ms(5000), ms(5100)]);

        // A hint that would overshoot the deadline ends the call now.
        let start = time::now();
        let err = policy
            .retry(|| async {
                Err::<(), _>(Unavailable {
                    retry_after: Some(Duration::from_secs(61)),
                })
            })
            .retry_after(|e| e.retry_after)
            .await
            .unwrap_err();
        assert_eq!(err.reason(), GiveUpReason::DeadlineReached);
        assert_eq!(time::now(), start);
    });
}

#[test]
fn the_per_attempt_timeout_drops_a_hung_attempt_and_retries() {
    paused(async {
        let policy = RetryPolicy::new(Backoff::constant(ms(100)).jitter(Jitter::None))
            .attempt_timeout(Duration::from_secs(1));
        let hung_dropped = Rc::new(Cell::new(false));
        let attempts = Cell::new(0);
        let causes = RefCell::new(Vec::new());
        let start = time::now();
        let result = policy
            .retry(|| {
                attempts.set(attempts.get() + 1);
                let first = attempts.get() == 1;
                let flag = DropFlag(hung_dropped.clone());
                async move {
                    let _flag = flag;
                    if first {
                        std::future::pending::<()>().await;
                    }
                    Ok::<_, ()>("answer")
                }
            })
            .on_retry(|event| {
                causes
                    .borrow_mut()
                    .push(matches!(event.cause, RetryCause::TimedOut));
            })
            .await;
        assert_eq!(result, Ok("answer"));
        assert!(hung_dropped.get());
        assert_eq!(*causes.borrow(), [true]);
        assert_eq!(time::now() - start, ms(1100));
        assert_eq!(policy.stats().attempt_timeouts, 1);
    });
}

#[test]
fn predicates_on_errors_and_on_values() {
    paused(async {
        let policy = RetryPolicy::new(Backoff::constant(ms(10))).max_retries(3);
        // An error the predicate refuses ends the call at once.
        let attempts = Cell::new(0);
        let err = policy
            .retry(|| {
                attempts.set(attempts.get() + 1);
                async { Err::<(), u16>(404) }
            })
            .when(|status| *status >= 500)
            .await
            .unwrap_err();
        assert_eq!(
            (attempts.get(), err.reason()),
            (1, GiveUpReason::NotRetryable)
        );
        assert_eq!(err.into_error(), Some(404));

        // Values can be retried too; when retries run out, the last one comes back.
        let pages = RefCell::new(vec!["full", "", ""]);
        let page = policy
            .retry(|| {
                let page = pages.borrow_mut().pop().unwrap();
                async move { Ok::<_, ()>(page) }
            })
            .when_value(|page| page.is_empty())
            .await;
        assert_eq!(page, Ok("full"));
        let empty = policy
            .retry(|| async { Ok::<_, ()>("") })
            .when_value(|page| page.is_empty())
            .await;
        assert_eq!(empty, Ok(""));
    });
}

#[test]
fn the_hook_sees_every_retry() {
    paused(async {
        let policy =
            RetryPolicy::new(Backoff::exponential(ms(100)).jitter(Jitter::None)).max_retries(5);
        let seen = RefCell::new(Vec::new());
        let calls = Cell::new(0);
        let result = policy
            .retry(|| {
                calls.set(calls.get() + 1);
                let outcome = if calls.get() < 3 {
                    Err(calls.get())
                } else {
                    Ok(())
                };
                async move { outcome }
            })
            .on_retry(|event| {
                let RetryCause::Error(code) = event.cause else {
                    panic!("the attempts failed with errors");
                };
                seen.borrow_mut()
                    .push((event.attempt, *code, event.delay, event.elapsed));
            })
            .await;
        assert_eq!(result, Ok(()));
        assert_eq!(
            *seen.borrow(),
            [(1, 1, ms(100), ms(0)), (2, 2, ms(200), ms(100))]
        );
    });
}

#[test]
fn the_budget_caps_retries_across_callers_during_an_outage() {
    paused(async {
        // 10 % of first attempts, no reserve.
        let budget = RetryBudget::new(Duration::from_secs(10), 0, 10).unwrap();
        let policy = RetryPolicy::new(Backoff::constant(ms(100)).jitter(Jitter::None))
            .max_retries(3)
            .budget(budget.clone());
        let attempts = Rc::new(Cell::new(0));
        let callers: Vec<_> = (0..100)
            .map(|_| {
                let (policy, attempts) = (policy.clone(), attempts.clone());
                spawn(async move {
                    policy
                        .retry(|| {
                            attempts.set(attempts.get() + 1);
                            async {
                                time::sleep(ms(10)).await;
                                Err::<(), _>("outage")
                            }
                        })
                        .await
                        .unwrap_err()
                        .reason()
                })
            })
            .collect();
        let reasons: Vec<GiveUpReason> = join_all(callers)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        // Without the budget: 400 attempts. With it: 100 first attempts and
        // 10 retries (10 % of 100).
        assert_eq!(attempts.get(), 110);
        let stats = policy.stats();
        assert_eq!((stats.retries, stats.budget_denials), (10, 100));
        assert!(reasons.iter().all(|r| *r == GiveUpReason::BudgetExhausted));
        assert_eq!(budget.available(), 0);
        // Ten seconds later the outage's traffic has left the window.
        time::sleep(Duration::from_secs(10)).await;
        budget.deposit();
        assert_eq!(budget.available(), 0);
        for _ in 0..9 {
            budget.deposit();
        }
        assert_eq!(budget.available(), 1);
    });
}

#[test]
fn the_budget_reserve_allows_a_few_retries_per_second() {
    paused(async {
        let budget = RetryBudget::new(Duration::from_secs(2), 3, 0).unwrap();
        assert_eq!(budget.available(), 6);
        for _ in 0..6 {
            assert!(budget.try_withdraw());
        }
        assert!(!budget.try_withdraw());
    });
}

#[test]
fn dropping_the_call_stops_it_at_once() {
    paused(async {
        let policy =
            RetryPolicy::new(Backoff::constant(Duration::from_secs(1)).jitter(Jitter::None))
                .max_retries(10);
        let attempts = Cell::new(0);
        // Dropped during the backoff sleep after the second attempt.
        let cut = time::timeout(
            ms(1500),
            policy
                .retry(|| {
                    attempts.set(attempts.get() + 1);
                    async { Err::<(), _>("down") }
                })
                .into_future(),
        )
        .await;
        assert!(cut.is_err());
        assert_eq!(attempts.get(), 2);
        time::sleep(Duration::from_secs(60)).await;
        assert_eq!(attempts.get(), 2, "no attempt after the drop");

        // Dropped during an attempt: the attempt itself is dropped.
        let attempt_dropped = Rc::new(Cell::new(false));
        let cut = time::timeout(
            ms(500),
            policy
                .retry(|| {
                    let flag = DropFlag(attempt_dropped.clone());
                    async move {
                        let _flag = flag;
                        std::future::pending::<Result<(), ()>>().await
                    }
                })
                .into_future(),
        )
        .await;
        assert!(cut.is_err());
        assert!(attempt_dropped.get());

        let stats = policy.stats();
        assert_eq!(
            stats,
            RetryStats {
                calls: 2,
                cancelled: 2,
                retries: 1,
                ..RetryStats::default()
            }
        );
    });
}

#[test]
fn statistics_add_up() {
    paused(async {
        let policy = RetryPolicy::new(Backoff::constant(ms(1))).max_retries(1);
        let _ = policy.retry(|| async { Ok::<_, ()>(()) }).await;
        let flaky = Cell::new(true);
        let _ = policy
            .retry(|| {
                let fail = flaky.replace(false);
                async move {
                    if fail {
                        Err(())
                    } else {
                        Ok(())
                    }
                }
            })
            .await;
        let _ = policy.retry(|| async { Err::<(), _>(()) }).await;
        let clone = policy.clone();
        let _ = clone.retry(|| async { Ok::<_, ()>(()) }).await;
        let stats = policy.stats();
        assert_eq!(stats.calls, 4);
        assert_eq!(
            (
                stats.succeeded_first_try,
                stats.succeeded_after_retries,
                stats.gave_up,
                stats.cancelled
            ),
            (2, 1, 1, 0)
        );
        assert_eq!(stats.retries, 2);
    });
}

#[test]
fn an_invalid_budget_is_refused() {
    let err = RetryBudget::new(Duration::ZERO, 1, 10).unwrap_err();
    assert_eq!(err.value(), "0ns");
}
