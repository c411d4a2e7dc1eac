//! Tests of the worker pool, on the paused clock (deterministic and instant).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use weft_patterns::worker_pool::{
    IntervalLimit, JobError, JobHandle, RateLimit, TrySubmitError, WorkerPool,
};
use weft_primitives::Event;
use weft_runtime::{sleep, spawn, time, yield_now};
use weft_tests::{paused, poll_once, DropFlag, WakeCounter};

type Job = Pin<Box<dyn Future<Output = u32>>>;

fn flag() -> (Rc<Cell<bool>>, DropFlag) {
    let dropped = Rc::new(Cell::new(false));
    (dropped.clone(), DropFlag(dropped))
}

/// A job that sleeps `millis`, then returns `value`.
fn job(millis: u64, value: u32) -> Job {
    Box::pin(async move {
        sleep(Duration::from_millis(millis)).await;
        value
    })
}

/// A job that holds its worker until `gate` is set.
fn gated(gate: &Arc<Event>) -> Job {
    let gate = gate.clone();
    Box::pin(async move {
        gate.wait().await;
        0
    })
}

fn pool(workers: usize, capacity: usize) -> WorkerPool<Job> {
    WorkerPool::builder()
        .workers(workers)
        .queue_capacity(capacity)
        .build()
        .unwrap()
}

fn silence_panics<R>(body: impl FnOnce() -> R) -> R {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = body();
    std::panic::set_hook(hook);
    result
}

#[test]
fn pool_and_handles_are_send_and_sync_for_send_jobs() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}
    type SendJob = Pin<Box<dyn Future<Output = u32> + Send>>;
    assert_send_sync::<WorkerPool<SendJob>>();
    assert_send::<JobHandle<u32>>();
}

#[test]
fn each_handle_gets_its_own_jobs_result() {
    paused(async {
        let pool = pool(3, 16);
        let mut handles = Vec::new();
        for n in 0..10u32 {
            // Later jobs finish first: results must still reach the right handle.
            handles.push(pool.submit(job(u64::from(100 - n), n * n)).await.unwrap());
        }
        for (n, handle) in (0..10u32).zip(handles) {
            assert_eq!(handle.await, Ok(n * n));
        }
        let stats = pool.stats();
        assert_eq!((stats.submitted, stats.completed), (10, 10));
    });
}

#[test]
fn at_most_n_jobs_run_at_once() {
    paused(async {
        let pool = Rc::new(WorkerPool::builder().workers(3).build().unwrap());
        let inside = Rc::new(Cell::new(0));
        let peak = Rc::new(Cell::new(0));
        let mut handles = Vec::new();
        for _ in 0..12 {
            let (inside, peak) = (inside.clone(), peak.clone());
            handles.push(
                pool.submit(async move {
                    inside.set(inside.get() + 1);
                    peak.set(peak.get().max(inside.get()));
                    sleep(Duration::from_millis(10)).await;
                    inside.set(inside.get() - 1);
                })
                .await
                .unwrap(),
            );
        }
        for handle in handles {
            handle.await.unwrap();
        }
        assert_eq!(peak.get(), 3);
        assert_eq!(pool.stats().running, 0);
    });
}

#[test]
fn a_panic_is_the_jobs_result_and_the_worker_lives_on() {
    silence_panics(|| {
        paused(async {
            let pool = pool(1, 4);
            let doomed = pool
                .submit(Box::pin(async { panic!("bad input") }))
                .await
                .unwrap();
            let next = pool.submit(job(5, 7)).await.unwrap();
            assert_eq!(doomed.await, Err(JobError::Panicked("bad input".into())));
            assert_eq!(next.await, Ok(7), "the single worker survived the panic");
            let stats = pool.stats();
            assert_eq!(
                (stats.completed, stats.panicked, stats.live_workers),
                (1, 1, 1)
            );
        })
    });
}

#[test]
fn an_error_value_is_a_completed_job() {
    paused(async {
        let pool = WorkerPool::builder().workers(1).build().unwrap();
        let handle = pool.submit(async { "x".parse::<u32>() }).await.unwrap();
        assert!(handle.await.unwrap().is_err());
        assert_eq!(pool.stats().completed, 1);
    });
}

#[test]
fn submit_waits_for_room_and_try_submit_fails_fast_handing_the_job_back() {
    paused(async {
        let pool = Rc::new(pool(1, 1));
        let gate = Arc::new(Event::new());
        let running = pool.submit(gated(&gate)).await.unwrap();
        yield_now().await; // the worker takes it
        let queued = pool.submit(job(0, 2)).await.unwrap(); // fills the queue

        match pool.try_submit(job(0, 3)) {
            Err(TrySubmitError::Full(refused)) => assert_eq!(refused.await, 3),
            other => panic!("expected Full, got {other:?}"),
        }

        let waiting = spawn({
            let pool = pool.clone();
            async move { pool.submit(job(0, 4)).await.unwrap().await }
        });
        yield_now().await;
        assert!(!waiting.is_finished(), "a full queue makes submit wait");
        gate.set();
        assert_eq!(running.await, Ok(0));
        assert_eq!(queued.await, Ok(2));
        assert_eq!(waiting.await.unwrap(), Ok(4));
    });
}

#[test]
fn a_dropped_submit_leaks_no_queue_slot_and_runs_nothing() {
    paused(async {
        let pool = pool(1, 1);
        let gate = Arc::new(Event::new());
        let running = pool.submit(gated(&gate)).await.unwrap();
        yield_now().await;
        let queued = pool.submit(job(0, 1)).await.unwrap();

        // A submitter waits for room, then gives up.
        let (dropped, flag) = flag();
        let ran = Rc::new(Cell::new(false));
        let abandoned: Job = Box::pin({
            let ran = ran.clone();
            async move {
                let _flag = flag;
                ran.set(true);
                99
            }
        });
        let mut submit = Box::pin(pool.submit(abandoned));
        assert!(poll_once(submit.as_mut(), &WakeCounter::new()).is_pending());
        drop(submit);
        assert!(dropped.get(), "the job was dropped with it");

        // The queue still has exactly its one slot.
        assert!(matches!(
            pool.try_submit(job(0, 2)),
            Err(TrySubmitError::Full(_))
        ));
        gate.set();
        assert_eq!(running.await, Ok(0));
        assert_eq!(queued.await, Ok(1));
        let after = pool.try_submit(job(0, 3)).unwrap();
        assert_eq!(after.await, Ok(3));
        assert!(!ran.get(), "the abandoned job never ran");
        let stats = pool.stats();
        assert_eq!(
            (stats.submitted, stats.completed, stats.cancelled),
            (3, 3, 0)
        );
    });
}

#[test]
fn a_dropped_waiting_submitter_hands_its_turn_to_the_next() {
    paused(async {
        let pool = Rc::new(pool(1, 1));
        let gate = Arc::new(Event::new());
        let _running = pool.submit(gated(&gate)).await.unwrap();
        yield_now().await;
        let _queued = pool.submit(job(0, 1)).await.unwrap();

        let mut first = Box::pin(pool.submit(job(0, 10)));
        assert!(poll_once(first.as_mut(), &WakeCounter::new()).is_pending());
        let second = spawn({
            let pool = pool.clone();
            async move { pool.submit(job(0, 20)).await.unwrap().await }
        });
        yield_now().await;
        drop(first); // gives up while queued ahead of `second`
        gate.set();
        assert_eq!(second.await.unwrap(), Ok(20));
    });
}

#[test]
fn a_dropped_handle_detaches_the_job() {
    paused(async {
        let pool = WorkerPool::builder().workers(1).build().unwrap();
        let ran = Rc::new(Cell::new(false));
        let handle = pool
            .submit({
                let ran = ran.clone();
                async move {
                    sleep(Duration::from_millis(10)).await;
                    ran.set(true);
                }
            })
            .await
            .unwrap();
        drop(handle);
        pool.join().await;
        assert!(ran.get(), "the job ran to its end without its handle");
        assert_eq!(pool.stats().completed, 1);
    });
}

#[test]
fn cancelling_a_queued_job_resolves_its_handle_at_once() {
    paused(async {
        let pool = pool(1, 4);
        let gate = Arc::new(Event::new());
        let running = pool.submit(gated(&gate)).await.unwrap();
        yield_now().await;
        let (dropped, flag) = flag();
        let queued = pool
            .submit(Box::pin(async move {
                let _flag = flag;
                1
            }))
            .await
            .unwrap();
        assert!(queued.cancel());
        assert!(queued.is_finished());
        assert_eq!(queued.await, Err(JobError::Cancelled));
        assert_eq!(pool.stats().cancelled, 1);
        assert!(!dropped.get(), "still in the queue, unrun");

        gate.set();
        assert_eq!(running.await, Ok(0));
        pool.join().await; // the worker skipped it
        assert!(dropped.get());
        let stats = pool.stats();
        assert_eq!(
            (stats.submitted, stats.completed, stats.cancelled),
            (2, 1, 1)
        );
    });
}

#[test]
fn cancelling_a_running_job_drops_it_and_keeps_the_worker() {
    paused(async {
        let pool = pool(1, 4);
        let (dropped, flag) = flag();
        let running = pool
            .submit(Box::pin(async move {
                let _flag = flag;
                sleep(Duration::from_secs(3600)).await;
                1
            }))
            .await
            .unwrap();
        let next = pool.submit(job(10, 2)).await.unwrap();
        sleep(Duration::from_millis(5)).await;
        assert_eq!(pool.stats().running, 1);
        assert!(running.cancel());
        assert_eq!(running.await, Err(JobError::Cancelled));
        assert!(dropped.get(), "its destructors ran");
        assert_eq!(next.await, Ok(2));
        let stats = pool.stats();
        assert_eq!((stats.completed, stats.cancelled, stats.running), (1, 1, 0));
    });
}

#[test]
fn cancelling_a_finished_job_changes_nothing() {
    paused(async {
        let pool = pool(1, 4);
        let handle = pool.submit(job(1, 5)).await.unwrap();
        pool.join().await;
        assert!(!handle.cancel());
        assert_eq!(handle.await, Ok(5));
    });
}

#[test]
fn the_shutdown_deadline_cancels_exactly_the_unfinished_jobs() {
    paused(async {
        let pool = pool(2, 16);
        // Two workers; durations in ms. With a 320 ms deadline:
        //   worker A: j0 0-100, j2 100-250, j3 250-290, j4 290-690 (cut)
        //   worker B: j1 0-300, j5 300-350 (cut)
        //   j6 is still queued at the deadline (skipped)
        let plan = [100, 300, 150, 40, 400, 50, 10];
        let mut flags = Vec::new();
        let mut handles = Vec::new();
        for (n, millis) in (0..).zip(plan) {
            let (dropped, flag) = flag();
            flags.push(dropped);
            handles.push(
                pool.submit(Box::pin(async move {
                    let _flag = flag;
                    sleep(Duration::from_millis(millis)).await;
                    n
                }))
                .await
                .unwrap(),
            );
        }
        let report = pool.shutdown(Duration::from_millis(320)).await;
        assert!(report.deadline_reached);
        assert_eq!(report.elapsed, Duration::from_millis(320));
        let totals = report.totals;
        assert_eq!(
            (totals.submitted, totals.completed, totals.cancelled),
            (7, 4, 3)
        );
        assert!(flags.iter().all(|f| f.get()), "all dropped");
        let mut results = Vec::new();
        for handle in handles {
            results.push(handle.await);
        }
        let cancelled = Err(JobError::Cancelled);
        assert_eq!(
            results,
            [
                Ok(0),
                Ok(1),
                Ok(2),
                Ok(3),
                cancelled.clone(),
                cancelled.clone(),
                cancelled
            ]
        );
        assert_eq!(pool.stats().live_workers, 0);
        assert_eq!(
            report.to_string(),
            "7 job(s): 4 completed, 0 panicked, 0 rate-limited, 3 cancelled (deadline reached) in 320ms"
        );
    });
}

#[test]
fn a_shutdown_within_the_grace_period_cancels_nothing() {
    paused(async {
        let pool = pool(2, 16);
        let handles: Vec<_> = [
            pool.submit(job(100, 1)).await.unwrap(),
            pool.submit(job(200, 2)).await.unwrap(),
            pool.submit(job(300, 3)).await.unwrap(),
        ]
        .into();
        let report = pool.shutdown(Duration::from_secs(5)).await;
        assert!(!report.deadline_reached);
        assert_eq!(report.elapsed, Duration::from_millis(400));
        assert_eq!((report.totals.completed, report.totals.cancelled), (3, 0));
        for (n, handle) in (1..).zip(handles) {
            assert_eq!(handle.await, Ok(n));
        }
    });
}

#[test]
fn shutdown_hands_back_the_jobs_of_blocked_and_late_submitters() {
    paused(async {
        let pool = Rc::new(pool(1, 1));
        let gate = Arc::new(Event::new());
        let running = pool.submit(gated(&gate)).await.unwrap();
        yield_now().await;
        let _queued = pool.submit(job(0, 1)).await.unwrap();
        let blocked = spawn({
            let pool = pool.clone();
            async move {
                match pool.submit(job(0, 42)).await {
                    Err(closed) => closed.into_inner().await,
                    Ok(_) => panic!("the pool was shut down"),
                }
            }
        });
        yield_now().await;
        let shutdown = spawn({
            let pool = pool.clone();
            async move { pool.shutdown(Duration::from_secs(1)).await }
        });
        yield_now().await;
        assert!(pool.is_closed());
        assert_eq!(blocked.await.unwrap(), 42, "handed back, unrun");
        match pool.try_submit(job(0, 5)) {
            Err(TrySubmitError::Closed(refused)) => assert_eq!(refused.await, 5),
            other => panic!("expected Closed, got {other:?}"),
        }
        gate.set();
        assert_eq!(running.await, Ok(0));
        let report = shutdown.await.unwrap();
        assert_eq!((report.totals.submitted, report.totals.completed), (2, 2));
    });
}

#[test]
fn a_dropped_shutdown_leaves_the_pool_closed_and_the_jobs_running() {
    paused(async {
        let pool = pool(1, 4);
        let slow = pool.submit(job(5_000, 1)).await.unwrap();
        let gave_up = time::timeout(
            Duration::from_secs(1),
            pool.shutdown(Duration::from_secs(2)),
        )
        .await;
        assert!(gave_up.is_err());
        assert!(pool.is_closed());
        // The two-second deadline was never enforced: the job completes.
        assert_eq!(slow.await, Ok(1));
        let report = pool.shutdown(Duration::ZERO).await;
        assert_eq!((report.totals.completed, report.totals.cancelled), (1, 0));
    });
}

#[test]
fn dropping_the_pool_lets_the_queued_jobs_finish() {
    paused(async {
        let pool = pool(1, 4);
        let first = pool.submit(job(10, 1)).await.unwrap();
        let second = pool.submit(job(10, 2)).await.unwrap();
        drop(pool);
        assert_eq!(first.await, Ok(1));
        assert_eq!(second.await, Ok(2));
    });
}

#[test]
fn smaller_priorities_run_first_then_submission_order() {
    paused(async {
        let pool = pool(1, 16);
        let gate = Arc::new(Event::new());
        let _blocker = pool.submit(gated(&gate)).await.unwrap();
        yield_now().await;
        let order = Rc::new(RefCell::new(Vec::new()));
        let mut handles = Vec::new();
        for (name, priority) in [(1, 5), (2, 1), (3, 3), (4, 1), (5, 5)] {
            let order = order.clone();
            let job: Job = Box::pin(async move {
                order.borrow_mut().push(name);
                name
            });
            handles.push(pool.submit_with_priority(priority, job).await.unwrap());
        }
        gate.set();
        pool.join().await;
        assert_eq!(*order.borrow(), [2, 4, 3, 1, 5]);
    });
}

#[test]
fn the_interval_limit_spaces_job_starts() {
    paused(async {
        let pool = WorkerPool::builder()
            .workers(3)
            .rate_limit(IntervalLimit::new(Duration::from_millis(50)))
            .build()
            .unwrap();
        let start = time::now();
        let mut handles = Vec::new();
        for _ in 0..6 {
            handles.push(pool.submit(async { time::now() }).await.unwrap());
        }
        let mut started = Vec::new();
        for handle in handles {
            started.push((handle.await.unwrap() - start).as_millis());
        }
        assert_eq!(started, [0, 50, 100, 150, 200, 250]);
    });
}

#[test]
fn a_dropped_rate_limit_wait_gives_its_reservation_back() {
    paused(async {
        let limit = IntervalLimit::new(Duration::from_secs(1));
        let start = time::now();
        limit.until_ready().await.unwrap(); // takes the slot at 0 s
        let mut waiting = limit.until_ready(); // reserves 1 s
        assert!(poll_once(waiting.as_mut(), &WakeCounter::new()).is_pending());
        drop(waiting); // the latest reservation: given back
        limit.until_ready().await.unwrap();
        assert_eq!(time::now() - start, Duration::from_secs(1));
    });
}

#[test]
fn a_job_waiting_for_the_rate_limit_can_be_cancelled() {
    paused(async {
        let pool = WorkerPool::builder()
            .workers(2)
            .rate_limit(IntervalLimit::new(Duration::from_secs(10)))
            .build()
            .unwrap();
        let first = pool.submit(job(0, 1)).await.unwrap();
        let second = pool.submit(job(0, 2)).await.unwrap(); // waits 10 s for its start
        assert_eq!(first.await, Ok(1));
        assert!(second.cancel());
        assert_eq!(second.await, Err(JobError::Cancelled));
        // The cancelled wait gave its slot back: the next job takes that
        // 10 s slot rather than the one after it.
        let start = time::now();
        let third = pool
            .submit(Box::pin(
                async move { (time::now() - start).as_secs() as u32 },
            ))
            .await
            .unwrap();
        assert_eq!(third.await, Ok(10));
    });
}

#[test]
fn a_job_refused_by_the_rate_limiter_fails_unrun() {
    use weft_patterns::rate_limit::{Gcra, Quota, RateLimiter};

    paused(async {
        // One token per second, and nobody may wait in the limiter's line.
        let limiter = RateLimiter::new(Gcra::new(Quota::per_second(1))).with_max_waiters(0);
        let pool = WorkerPool::builder()
            .workers(1)
            .rate_limit(limiter)
            .build()
            .unwrap();
        let first = pool.submit(job(0, 1)).await.unwrap();
        let ran = Rc::new(Cell::new(false));
        let second = pool
            .submit(Box::pin({
                let ran = ran.clone();
                async move {
                    ran.set(true);
                    2
                }
            }))
            .await
            .unwrap();
        assert_eq!(first.await, Ok(1));
        match second.await {
            Err(JobError::RateLimited(reason)) => assert!(!reason.is_empty()),
            other => panic!("expected RateLimited, got {other:?}"),
        }
        assert!(!ran.get());
        drop(pool.submit(job(0, 3)).await.unwrap()); // detached, refused too
        let report = pool.shutdown(Duration::from_secs(5)).await;
        assert_eq!(report.totals.rate_limited, 2);
        assert_eq!(report.totals.completed, 1);
    });
}

#[test]
fn invalid_settings_are_errors() {
    paused(async {
        let no_workers = WorkerPool::<Job>::builder().workers(0).build().unwrap_err();
        assert_eq!(
            no_workers.to_string(),
            "a worker pool needs at least one worker"
        );
        let unbounded = WorkerPool::<Job>::builder()
            .queue_capacity(0)
            .build()
            .unwrap_err();
        assert!(unbounded.to_string().contains("bounded"));
    });
}
