//! Rate limiters: exact rates and retry-after values, first come first
//! served without a herd, the bounded line, cancellation, keyed quotas,
//! eviction and the cap on keys, and the lock-free policies from several
//! threads. Everything time-related runs on a paused clock, or on instants
//! made up by the test, so every assertion is exact and deterministic.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use weft_patterns::rate_limit::{
    AcquireError, Gcra, KeyedError, KeyedRateLimiter, Quota, RateLimiter, RatePolicy,
    SlidingWindowCounter, SlidingWindowLog, TokenBucket, TryAcquireError,
};
use weft_runtime::time;
use weft_tests::paused;

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// Acquires one token at a time, as fast as the limiter allows, and counts
/// the admissions made no later than `duration` after the start.
async fn admitted_within<P: RatePolicy>(limiter: &RateLimiter<P>, duration: Duration) -> u64 {
    let end = time::now() + duration;
    let mut admitted = 0;
    loop {
        limiter.acquire(1).await.unwrap();
        if time::now() > end {
            return admitted;
        }
        admitted += 1;
    }
}

#[test]
fn exact_limiters_admit_rate_times_duration_plus_burst() {
    paused(async {
        let minute = Duration::from_secs(60);
        let gcra = RateLimiter::new(Gcra::new(Quota::per_second(10)));
        assert_eq!(admitted_within(&gcra, minute).await, 600 + 10);

        let bigger_burst = RateLimiter::new(Gcra::new(Quota::per_second(10).allow_burst(25)));
        assert_eq!(admitted_within(&bigger_burst, minute).await, 600 + 25);

        let bucket = RateLimiter::new(TokenBucket::new(10, 1, ms(100)));
        assert_eq!(admitted_within(&bucket, minute).await, 600 + 10);

        // Refilled all at once each second: 10 at t = 0, 1 s, ..., 60 s.
        let lumpy = RateLimiter::new(TokenBucket::new(10, 10, Duration::from_secs(1)));
        assert_eq!(admitted_within(&lumpy, minute).await, 600 + 10);

        let log = RateLimiter::new(SlidingWindowLog::new(10, Duration::from_secs(1)));
        assert_eq!(admitted_within(&log, minute).await, 600 + 10);
    });
}

#[test]
fn sliding_counter_settles_at_its_documented_estimate() {
    // Window 0 admits its 10 at once. In window 1 the 10 of window 0 fade
    // out, one token per 100 ms: 9 more before the window ends. From then
    // on every window starts with `previous = 9`: one at its start, then
    // one each time another ninth of the previous window has faded
    // (k × 111.1 ms, k = 1..8, woken on the clock's next millisecond): 9
    // per window. At 60 s exactly, window 60 admits its first.
    paused(async {
        let counter = RateLimiter::new(SlidingWindowCounter::new(10, Duration::from_secs(1)));
        assert_eq!(
            admitted_within(&counter, Duration::from_secs(60)).await,
            10 + 59 * 9 + 1
        );
    });
}

/// `policy` refuses `n` at `now` with exactly `wait`, still refuses a
/// nanosecond before `now + wait` (with one nanosecond to go), and admits
/// at `now + wait`.
fn assert_exact_retry(policy: &impl RatePolicy, n: u32, now: Instant, wait: Duration) {
    assert_eq!(policy.time_until(n, now), wait);
    assert_eq!(policy.try_take(n, now), Err(wait));
    let just_before = now + wait - Duration::from_nanos(1);
    assert_eq!(
        policy.try_take(n, just_before),
        Err(Duration::from_nanos(1))
    );
    assert_eq!(policy.try_take(n, now + wait), Ok(()));
}

#[test]
fn gcra_retry_after_is_exact() {
    let t0 = Instant::now();
    let gcra = Gcra::new(Quota::per_second(2).allow_burst(3)); // one token per 500 ms
    assert_eq!(gcra.try_take(3, t0), Ok(()));
    assert_exact_retry(&gcra, 1, t0, ms(500));
    assert_exact_retry(&gcra, 2, t0 + ms(500), ms(1000));
}

#[test]
fn token_bucket_retry_after_is_exact() {
    let t0 = Instant::now();
    let bucket = TokenBucket::new(4, 2, Duration::from_secs(1));
    assert_eq!(bucket.try_take(4, t0), Ok(()));
    // 3 tokens need two refills of 2: the one at 2 s.
    assert_exact_retry(&bucket, 3, t0 + ms(300), ms(1700));
    // 1 token left; 4 need two more refills: the one at 4 s.
    assert_exact_retry(&bucket, 4, t0 + ms(2000), ms(2000));
}

#[test]
fn sliding_log_retry_after_is_exact() {
    let t0 = Instant::now();
    let log = SlidingWindowLog::new(3, Duration::from_secs(1));
    for at in [0, 200, 400] {
        assert_eq!(log.try_take(1, t0 + ms(at)), Ok(()));
    }
    // Two tokens must leave the window: the second grant does at 1.2 s.
    assert_exact_retry(&log, 2, t0 + ms(500), ms(700));
}

#[test]
fn sliding_counter_retry_after_is_exact() {
    let t0 = Instant::now();
    let counter = SlidingWindowCounter::new(10, Duration::from_secs(1));
    assert_eq!(counter.try_take(10, t0), Ok(()));
    // The current window alone is full: wait for the next one (at 1 s) and
    // for a tenth of this one to fade there (100 ms).
    assert_exact_retry(&counter, 1, t0 + ms(500), ms(600));
    // Now previous = 10, current = 1: 4 more fit once half has faded.
    assert_exact_retry(&counter, 4, t0 + ms(1100), ms(400));
}

#[test]
fn policies_come_back_to_rest() {
    let t0 = Instant::now();
    let second = Duration::from_secs(1);
    let cases: [(&dyn RatePolicy, Duration); 4] = [
        (&Gcra::new(Quota::per_second(2)), ms(500)),
        (&TokenBucket::new(2, 1, second), second),
        (&SlidingWindowLog::new(2, second), second),
        // The grant must leave both the current and the previous window.
        (&SlidingWindowCounter::new(2, second), 2 * second),
    ];
    for (policy, rest_after) in cases {
        assert!(policy.is_at_rest(t0), "{policy:?} starts at rest");
        assert_eq!(policy.try_take(1, t0), Ok(()));
        assert!(!policy.is_at_rest(t0), "{policy:?} owes a token");
        assert!(!policy.is_at_rest(t0 + rest_after - Duration::from_nanos(1)));
        assert!(
            policy.is_at_rest(t0 + rest_after),
            "{policy:?} is full again"
        );
    }
}

#[test]
fn policies_answer_requests_outside_their_range_without_touching_state() {
    let t0 = Instant::now();
    let second = Duration::from_secs(1);
    let policies: [&dyn RatePolicy; 4] = [
        &Gcra::new(Quota::per_second(2)),
        &TokenBucket::new(2, 1, second),
        &SlidingWindowLog::new(2, second),
        &SlidingWindowCounter::new(2, second),
    ];
    for policy in policies {
        assert_eq!(policy.try_take(3, t0), Err(Duration::MAX), "{policy:?}");
        assert_eq!(policy.time_until(3, t0), Duration::MAX);
        assert_eq!(policy.try_take(0, t0), Ok(()));
        assert_eq!(policy.time_until(0, t0), Duration::ZERO);
        assert!(policy.is_at_rest(t0), "{policy:?} was not touched");
        assert_eq!(policy.try_take(2, t0), Ok(()));
    }
}

#[test]
fn limiters_can_be_shared_between_threads() {
    // Outside a runtime the limiters read the real clock; with one token an
    // hour, nothing comes back while the test runs.
    let hour = Duration::from_secs(3600);
    let limiter = Arc::new(RateLimiter::new(TokenBucket::new(100, 1, hour)));
    let keyed = Arc::new(KeyedRateLimiter::new(10, |_: &usize| {
        Gcra::new(Quota::per_hour(25))
    }));
    let threads: Vec<_> = (0..4)
        .map(|thread| {
            let (limiter, keyed) = (limiter.clone(), keyed.clone());
            std::thread::spawn(move || {
                for _ in 0..100 {
                    let _ = limiter.try_acquire(1);
                    let _ = keyed.try_acquire(&(thread % 2), 1);
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    let stats = limiter.stats();
    assert_eq!((stats.allowed, stats.rejected), (100, 300));
    let stats = keyed.stats();
    assert_eq!((stats.requests.allowed, stats.requests.rejected), (50, 350));
    assert_eq!(stats.keys, 2);
}

#[test]
fn a_policy_at_rest_behaves_like_a_new_one() {
    // The same requests, after a quiet spell, to a used policy and to a new
    // one: the same answers, to the nanosecond. (A token bucket keeps its
    // refill grid, so it is only never *more* generous; see its docs.)
    let t0 = Instant::now();
    let second = Duration::from_secs(1);
    let pairs: [(Box<dyn RatePolicy>, Box<dyn RatePolicy>); 3] = [
        (
            Box::new(Gcra::new(Quota::per_second(4))),
            Box::new(Gcra::new(Quota::per_second(4))),
        ),
        (
            Box::new(SlidingWindowLog::new(4, second)),
            Box::new(SlidingWindowLog::new(4, second)),
        ),
        (
            Box::new(SlidingWindowCounter::new(4, second)),
            Box::new(SlidingWindowCounter::new(4, second)),
        ),
    ];
    for (used, fresh) in pairs {
        assert_eq!(used.try_take(3, t0), Ok(()));
        let quiet = t0 + ms(2_345);
        assert!(used.is_at_rest(quiet));
        let mut at = quiet;
        for step in 0..200u64 {
            at += ms(step * 37 % 190);
            let n = u32::try_from(step % 4 + 1).unwrap();
            assert_eq!(used.try_take(n, at), fresh.try_take(n, at), "{used:?}");
        }
    }
}

#[test]
fn requests_larger_than_the_capacity_fail_at_once() {
    paused(async {
        let limiter = RateLimiter::new(Gcra::new(Quota::per_second(10)));
        let refused = limiter.try_acquire(11).unwrap_err();
        assert_eq!(
            refused,
            TryAcquireError::ExceedsCapacity {
                requested: 11,
                capacity: 10
            }
        );
        assert_eq!(refused.retry_after(), None);
        assert!(refused.to_string().contains("never succeed"));
        let start = time::now();
        assert_eq!(
            limiter.acquire(11).await,
            Err(AcquireError::ExceedsCapacity {
                requested: 11,
                capacity: 10
            })
        );
        assert_eq!(time::now(), start);
        // Nothing was taken: the whole burst is still there.
        assert_eq!(limiter.try_acquire(10), Ok(()));
        let stats = limiter.stats();
        assert_eq!((stats.allowed, stats.rejected), (1, 2));
    });
}

/// Who was admitted when (relative to the test's start), in order.
type AdmissionLog = Rc<RefCell<Vec<(char, Duration)>>>;

/// Spawns a task that acquires `n` tokens and records `label` and the time
/// since `start` in `log` once admitted.
fn spawn_acquire<P: RatePolicy + 'static>(
    limiter: &Rc<RateLimiter<P>>,
    label: char,
    n: u32,
    start: Instant,
    log: &AdmissionLog,
) -> weft_runtime::JoinHandle<()> {
    let (limiter, log) = (limiter.clone(), log.clone());
    weft_runtime::spawn(async move {
        limiter.acquire(n).await.unwrap();
        log.borrow_mut().push((label, time::now() - start));
    })
}

#[test]
fn waiters_are_served_in_arrival_order_and_nobody_barges() {
    paused(async {
        // One token per 100 ms, bursts of 4.
        let limiter = Rc::new(RateLimiter::new(Gcra::new(
            Quota::per_second(10).allow_burst(4),
        )));
        limiter.try_acquire(4).unwrap();
        let log = AdmissionLog::default();
        let start = time::now();
        let tasks = [('A', 3), ('B', 1), ('C', 2), ('D', 1)]
            .map(|(label, n)| spawn_acquire(&limiter, label, n, start, &log));
        time::sleep(ms(150)).await;
        // 1.5 tokens are back, but A (first in line) wants 3: a newcomer
        // asking for 1 must not overtake the line. It is told when the
        // policy could serve the line and it together (capped at the burst:
        // 4 tokens, at 400 ms).
        assert_eq!(
            limiter.try_acquire(1),
            Err(TryAcquireError::RateLimited {
                requested: 1,
                retry_after: ms(250)
            })
        );
        assert_eq!(limiter.stats().waiting, 4);
        // Nor may a newcomer that is willing to wait: it joins the line.
        let late = spawn_acquire(&limiter, 'E', 1, start, &log);
        for task in tasks.into_iter().chain([late]) {
            task.await.unwrap();
        }
        assert_eq!(
            *log.borrow(),
            [
                ('A', ms(300)),
                ('B', ms(400)),
                ('C', ms(600)),
                ('D', ms(700)),
                ('E', ms(800))
            ]
        );
    });
}

/// Counts the polls of the future it wraps.
struct CountPolls<F> {
    inner: Pin<Box<F>>,
    polls: Rc<Cell<usize>>,
}

impl<F: Future> Future for CountPolls<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        this.polls.set(this.polls.get() + 1);
        this.inner.as_mut().poll(cx)
    }
}

#[test]
fn waiters_do_not_wake_as_a_herd() {
    const WAITERS: u32 = 50;
    paused(async {
        let limiter = Rc::new(RateLimiter::new(Gcra::new(
            Quota::per_second(10).allow_burst(1),
        )));
        limiter.try_acquire(1).unwrap();
        let polls = Rc::new(Cell::new(0));
        let start = time::now();
        let tasks: Vec<_> = (0..WAITERS)
            .map(|_| {
                let limiter = limiter.clone();
                let counted = CountPolls {
                    inner: Box::pin(async move { limiter.acquire(1).await }),
                    polls: polls.clone(),
                };
                weft_runtime::spawn(async move {
                    counted.await.unwrap();
                    time::now() - start
                })
            })
            .collect();
        let mut admitted_at = Vec::new();
        for task in tasks {
            admitted_at.push(task.await.unwrap());
        }
        let expected: Vec<_> = (1..=u64::from(WAITERS)).map(|i| ms(100 * i)).collect();
        assert_eq!(admitted_at, expected);
        // Each waiter runs at most three times: on arrival, when it reaches
        // the head, and when its own timer fires. A herd (every waiter
        // retrying at each release) would need about WAITERS² / 2 polls.
        let polls = polls.get();
        assert!(polls <= 3 * WAITERS as usize, "{polls} polls");
    });
}

#[test]
fn a_full_line_refuses_at_once() {
    paused(async {
        let limiter =
            Rc::new(RateLimiter::new(Gcra::new(Quota::per_second(1))).with_max_waiters(2));
        limiter.acquire(1).await.unwrap();
        let log = AdmissionLog::default();
        let start = time::now();
        let first = spawn_acquire(&limiter, 'A', 1, start, &log);
        let second = spawn_acquire(&limiter, 'B', 1, start, &log);
        time::sleep(ms(10)).await;
        assert_eq!(limiter.stats().waiting, 2);

        let asked = time::now();
        let refused = limiter.acquire(1).await.unwrap_err();
        assert_eq!(
            refused,
            AcquireError::QueueFull {
                requested: 1,
                max_waiters: 2
            }
        );
        assert!(refused.to_string().contains("queue is full"));
        assert_eq!(time::now(), asked, "refused without waiting");

        first.await.unwrap();
        // A place came free: the next request may wait again.
        let third = spawn_acquire(&limiter, 'C', 1, start, &log);
        second.await.unwrap();
        third.await.unwrap();
        assert_eq!(
            *log.borrow(),
            [('A', ms(1000)), ('B', ms(2000)), ('C', ms(3000))]
        );
        let stats = limiter.stats();
        assert_eq!((stats.allowed, stats.rejected, stats.waited), (4, 1, 3));
    });
}

/// Runs `arrivals` (label, tokens) in order against a fresh limiter whose
/// capacity has just been used up, aborts the waiters labelled in `abort`
/// after `abort_after`, and returns when each of the others was admitted.
fn admissions<P: RatePolicy + 'static>(
    policy: P,
    arrivals: &[(char, u32)],
    abort: &[char],
    abort_after: Duration,
) -> Vec<(char, Duration)> {
    paused(async {
        let limiter = Rc::new(RateLimiter::new(policy));
        limiter.try_acquire(limiter.capacity()).unwrap();
        let log = AdmissionLog::default();
        let start = time::now();
        let tasks: Vec<_> = arrivals
            .iter()
            .map(|&(label, n)| (label, spawn_acquire(&limiter, label, n, start, &log)))
            .collect();
        time::sleep(abort_after).await;
        for (label, task) in &tasks {
            if abort.contains(label) {
                task.abort();
            }
        }
        for (label, task) in tasks {
            let outcome = task.await;
            assert_eq!(outcome.is_err(), abort.contains(&label), "waiter {label}");
        }
        let stats = limiter.stats();
        assert_eq!(stats.waiting, 0, "nobody left in line");
        assert_eq!(stats.cancelled, abort.len() as u64);
        let admitted = log.borrow().clone();
        admitted
    })
}

/// One policy of each kind, each refilling at most one token per 100 ms.
fn one_of_each() -> (Gcra, TokenBucket, SlidingWindowLog, SlidingWindowCounter) {
    (
        Gcra::new(Quota::per_second(10).allow_burst(3)),
        TokenBucket::new(3, 1, ms(100)),
        SlidingWindowLog::new(3, ms(300)),
        SlidingWindowCounter::new(3, ms(300)),
    )
}

/// Checks, for every kind of policy, that cancelling the waiters in `abort`
/// leaves the others admitted exactly as if the cancelled ones had never
/// come: no capacity left unused, none handed out extra.
fn assert_cancelled_waiters_leave_no_trace(arrivals: &[(char, u32)], abort: &[char]) {
    let abort_after = ms(50);
    let survivors: Vec<_> = arrivals
        .iter()
        .copied()
        .filter(|(label, _)| !abort.contains(label))
        .collect();
    macro_rules! check {
        ($make:expr) => {
            let with_cancellation = admissions($make, arrivals, abort, abort_after);
            let never_came = admissions($make, &survivors, &[], abort_after);
            assert_eq!(with_cancellation, never_came, "{:?}", $make);
            assert_eq!(with_cancellation.len(), survivors.len());
        };
    }
    check!(one_of_each().0);
    check!(one_of_each().1);
    check!(one_of_each().2);
    check!(one_of_each().3);
}

#[test]
fn cancelling_the_head_hands_its_turn_to_the_next() {
    assert_cancelled_waiters_leave_no_trace(&[('A', 1), ('B', 1), ('C', 2)], &['A']);
    // A head waiting for many tokens, dropped: the next, wanting fewer, is
    // served as soon as its own tokens are there.
    assert_cancelled_waiters_leave_no_trace(&[('A', 3), ('B', 1)], &['A']);
}

#[test]
fn cancelling_a_waiter_in_the_middle_leaves_no_hole() {
    assert_cancelled_waiters_leave_no_trace(&[('A', 1), ('B', 2), ('C', 1), ('D', 1)], &['B']);
    assert_cancelled_waiters_leave_no_trace(&[('A', 1), ('B', 1), ('C', 1), ('D', 2)], &['B', 'C']);
}

#[test]
fn cancelled_head_took_nothing_and_gives_nothing_extra() {
    paused(async {
        let limiter = RateLimiter::new(Gcra::new(Quota::per_second(10).allow_burst(1)));
        limiter.try_acquire(1).unwrap();
        // Dropped half-way through its wait.
        assert!(time::timeout(ms(50), limiter.acquire(1)).await.is_err());
        time::sleep(ms(50)).await;
        // Exactly the one token due at 100 ms: not consumed by the dropped
        // waiter, not doubled either.
        assert_eq!(limiter.try_acquire(1), Ok(()));
        assert!(limiter.try_acquire(1).is_err());
        let stats = limiter.stats();
        assert_eq!((stats.cancelled, stats.waiting, stats.waited), (1, 0, 0));
    });
}

#[test]
fn statistics_add_up() {
    paused(async {
        let limiter =
            Rc::new(RateLimiter::new(TokenBucket::new(2, 1, ms(100))).with_max_waiters(2));
        limiter.acquire(2).await.unwrap(); // allowed
        assert!(limiter.try_acquire(1).is_err()); // rejected
        let log = AdmissionLog::default();
        let start = time::now();
        let waited = spawn_acquire(&limiter, 'A', 1, start, &log);
        let dropped = spawn_acquire(&limiter, 'B', 2, start, &log);
        time::sleep(ms(1)).await;
        assert!(limiter.acquire(1).await.is_err()); // rejected: line full
        assert_eq!(limiter.stats().waiting, 2);
        dropped.abort();
        waited.await.unwrap();
        assert!(dropped.await.is_err());
        let stats = limiter.stats();
        assert_eq!(stats.allowed, 2);
        assert_eq!(stats.rejected, 2);
        assert_eq!(stats.waited, 1);
        assert_eq!(stats.cancelled, 1);
        assert_eq!(stats.waiting, 0);
        assert_eq!(stats.total_wait, ms(100));
    });
}

#[test]
fn keyed_quotas_differ_per_key() {
    paused(async {
        let limiter = KeyedRateLimiter::new(100, |client: &&str| match *client {
            "partner" => Gcra::new(Quota::per_second(5)),
            _ => Gcra::new(Quota::per_second(1)),
        });
        let admitted = |client: &'static str| {
            (0..10)
                .filter(|_| limiter.try_acquire(&client, 1).is_ok())
                .count()
        };
        assert_eq!(admitted("partner"), 5);
        assert_eq!(admitted("guest"), 1);
        assert_eq!(admitted("other"), 1);
        match limiter.try_acquire(&"guest", 1) {
            Err(KeyedError::Limited(TryAcquireError::RateLimited { retry_after, .. })) => {
                assert_eq!(retry_after, Duration::from_secs(1));
            }
            other => panic!("expected a rate limit, got {other:?}"),
        }
        // Each key has its own line: "partner" does not wait behind "guest".
        let start = time::now();
        limiter.acquire(&"guest", 1).await.unwrap();
        assert_eq!(time::now() - start, Duration::from_secs(1));
        limiter.acquire(&"partner", 5).await.unwrap();
        assert_eq!(time::now() - start, Duration::from_secs(1));
    });
}

#[test]
fn idle_keys_are_evicted_a_few_per_call() {
    paused(async {
        let limiter = KeyedRateLimiter::new(1000, |_: &u32| Gcra::new(Quota::per_second(10)));
        for key in 0..10 {
            limiter.try_acquire(&key, 1).unwrap();
        }
        // Every key owes 100 ms: calls sweep, but nobody is evicted.
        for _ in 0..40 {
            let _ = limiter.try_acquire(&99, 1);
        }
        assert_eq!(limiter.len(), 11);
        time::sleep(ms(100)).await;
        // Now all are idle; each call moves the hand two steps (a second
        // chance for recently used keys, then eviction).
        for _ in 0..11 {
            let _ = limiter.try_acquire(&99, 1);
        }
        assert_eq!(limiter.len(), 1, "only the key in use is left");
        assert!(limiter.contains_key(&99));
        let stats = limiter.stats();
        assert_eq!((stats.keys, stats.evicted), (1, 10));
    });
}

#[test]
fn evict_idle_empties_the_table_of_idle_keys_in_one_pass() {
    paused(async {
        let limiter = KeyedRateLimiter::new(1000, |_: &u32| {
            SlidingWindowLog::new(5, Duration::from_secs(1))
        });
        for key in 0..20 {
            limiter.try_acquire(&key, 1).unwrap();
        }
        assert_eq!(limiter.evict_idle(), 0, "every window still counts a grant");
        time::sleep(Duration::from_secs(1)).await;
        assert_eq!(limiter.evict_idle(), 20);
        assert!(limiter.is_empty());
    });
}

#[test]
fn the_key_cap_holds_under_a_key_cycling_attack() {
    const MAX_KEYS: usize = 64;
    paused(async {
        let limiter = KeyedRateLimiter::new(MAX_KEYS, |_: &String| Gcra::new(Quota::per_second(1)));
        limiter.try_acquire(&"client".to_string(), 1).unwrap();
        // Ten thousand new keys in the same instant: each uses a token, so
        // none is idle, and only the room left is taken.
        let mut refused = 0;
        for i in 0..10_000 {
            match limiter.try_acquire(&format!("attacker-{i}"), 1) {
                Ok(()) => {}
                Err(KeyedError::TooManyKeys { max_keys }) => {
                    assert_eq!(max_keys, MAX_KEYS);
                    refused += 1;
                }
                Err(other) => panic!("unexpected {other}"),
            }
            assert!(limiter.len() <= MAX_KEYS);
        }
        assert_eq!(refused, 10_000 - (MAX_KEYS - 1));
        assert!(
            limiter.contains_key(&"client".to_string()),
            "tracked keys keep working"
        );
        let message = limiter
            .try_acquire(&"late".to_string(), 1)
            .unwrap_err()
            .to_string();
        assert!(message.contains("64 keys"), "{message}");

        // A second later every key is idle again. The attack goes on: new
        // keys replace idle ones (each new key inspects up to eight), until
        // the table is full of the new keys, in use; the table never grows.
        time::sleep(Duration::from_secs(1)).await;
        let mut admitted = 0;
        for i in 0..10_000 {
            if limiter.try_acquire(&format!("second-wave-{i}"), 1).is_ok() {
                admitted += 1;
            }
            assert!(limiter.len() <= MAX_KEYS);
        }
        assert_eq!(admitted, MAX_KEYS);
        let stats = limiter.stats();
        assert_eq!(stats.keys, MAX_KEYS);
        assert_eq!(stats.evicted, MAX_KEYS as u64);
        assert_eq!(
            stats.keys_refused,
            (10_000 - (MAX_KEYS as u64 - 1)) + 1 + (10_000 - MAX_KEYS as u64)
        );
    });
}

#[test]
fn a_limited_key_is_never_evicted_into_a_fresh_burst() {
    paused(async {
        // One token a second, bursts of 3.
        let limiter = KeyedRateLimiter::new(8, |_: &String| {
            Gcra::new(Quota::per_second(1).allow_burst(3))
        });
        let victim = "greedy".to_string();
        limiter.try_acquire(&victim, 3).unwrap(); // owes 3 s
        for i in 0..7 {
            limiter.try_acquire(&format!("filler-{i}"), 1).unwrap();
        }
        time::sleep(ms(2_500)).await;
        // The fillers are idle; the greedy key still owes 500 ms. Cycling
        // keys evicts the fillers, over and over, never the greedy key.
        for i in 0..1_000 {
            limiter
                .try_acquire(&format!("cycler-{i}"), 1)
                .unwrap_or_else(|error| {
                    assert!(matches!(error, KeyedError::TooManyKeys { .. }));
                });
            assert!(limiter.contains_key(&victim));
        }
        // A fresh limiter would grant a whole burst of 3 now; this one still
        // remembers the debt.
        assert_eq!(
            limiter.try_acquire(&victim, 3),
            Err(KeyedError::Limited(TryAcquireError::RateLimited {
                requested: 3,
                retry_after: ms(500)
            }))
        );
        assert!(limiter.stats().evicted > 0);
    });
}

#[test]
fn keyed_waiters_per_key_are_bounded_and_cancel_safe() {
    paused(async {
        let limiter = Rc::new(
            KeyedRateLimiter::new(10, |_: &char| Gcra::new(Quota::per_second(1)))
                .with_max_waiters(1),
        );
        limiter.try_acquire(&'a', 1).unwrap();
        let waiter = {
            let limiter = limiter.clone();
            weft_runtime::spawn(async move { limiter.acquire(&'a', 1).await })
        };
        time::sleep(ms(10)).await;
        assert_eq!(
            limiter.acquire(&'a', 1).await,
            Err(KeyedError::Limited(AcquireError::QueueFull {
                requested: 1,
                max_waiters: 1
            }))
        );
        // Another key has its own line.
        limiter.acquire(&'b', 1).await.unwrap();
        assert!(waiter.await.unwrap().is_ok());

        // Drop a waiter half-way: the line empties and, once idle, the key
        // can go.
        assert!(limiter.try_acquire(&'a', 1).is_err(), "'a' owes its token");
        assert!(time::timeout(ms(300), limiter.acquire(&'a', 1))
            .await
            .is_err());
        let stats = limiter.stats();
        assert_eq!((stats.requests.waiting, stats.requests.cancelled), (0, 1));
        time::sleep(Duration::from_secs(1)).await;
        assert_eq!(limiter.evict_idle(), 2);
    });
}

/// `threads` OS threads call `try_take(1)` on `policy` at the same instant,
/// `attempts` times each; returns how many were admitted.
fn admitted_from_threads<P: RatePolicy + Send + Sync + 'static>(
    policy: &Arc<P>,
    at: Instant,
    threads: usize,
    attempts: usize,
) -> usize {
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (policy, start) = (Arc::clone(policy), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                (0..attempts)
                    .filter(|_| policy.try_take(1, at).is_ok())
                    .count()
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).sum()
}

#[test]
fn lock_free_policies_admit_exactly_the_limit_from_many_threads() {
    let t0 = Instant::now();
    let second = Duration::from_secs(1);
    let gcra = Arc::new(Gcra::new(Quota::per_second(1000)));
    // Exactly the burst, then exactly one second's worth more a second
    // later, then nothing more at that instant.
    assert_eq!(admitted_from_threads(&gcra, t0, 8, 500), 1000);
    assert_eq!(admitted_from_threads(&gcra, t0 + second, 8, 500), 1000);
    assert_eq!(admitted_from_threads(&gcra, t0 + second, 8, 500), 0);

    let bucket = Arc::new(TokenBucket::new(1000, 100, ms(100)));
    assert_eq!(admitted_from_threads(&bucket, t0, 8, 500), 1000);
    assert_eq!(admitted_from_threads(&bucket, t0 + ms(250), 8, 500), 200);
}
