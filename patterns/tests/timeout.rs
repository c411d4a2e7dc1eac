//! Timeout with fallback on a paused clock: the fallback runs on expiry
//! only, after the work has been dropped, and never on cancellation.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use weft_patterns::timeout::{timeout_at_or_else, timeout_or_else};
use weft_runtime::time;
use weft_tests::{paused, DropFlag};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Work that never finishes and raises a flag when it is dropped.
fn endless_work(dropped: &Rc<Cell<bool>>) -> impl Future<Output = &'static str> {
    let flag = DropFlag(dropped.clone());
    async move {
        let _flag = flag;
        std::future::pending().await
    }
}

#[test]
fn on_expiry_the_work_is_dropped_before_the_fallback_runs() {
    paused(async {
        let dropped = Rc::new(Cell::new(false));
        let start = time::now();
        let answer = timeout_or_else(secs(2), endless_work(&dropped), |elapsed| {
            assert!(dropped.get(), "the work is gone when the fallback starts");
            assert_eq!(elapsed.deadline(), start + secs(2));
            async { "fallback" }
        })
        .await;
        assert_eq!(answer, "fallback");
        assert_eq!(time::now() - start, secs(2));
    });
}

#[test]
fn work_that_finishes_in_time_never_calls_the_fallback_even_when_it_fails() {
    paused(async {
        let fallback_ran = Cell::new(false);
        let answer = timeout_or_else(
            secs(2),
            async {
                time::sleep(secs(1)).await;
                Err::<u32, _>("the work's own timeout error")
            },
            |_| {
                fallback_ran.set(true);
                async { Ok(0) }
            },
        )
        .await;
        assert_eq!(answer, Err("the work's own timeout error"));
        assert!(!fallback_ran.get());
    });
}

#[test]
fn dropping_the_call_drops_the_work_and_never_runs_the_fallback() {
    paused(async {
        let dropped = Rc::new(Cell::new(false));
        let fallback_ran = Rc::new(Cell::new(false));
        let ran = fallback_ran.clone();
        let guarded = timeout_or_else(secs(10), endless_work(&dropped), move |_| {
            ran.set(true);
            async { "fallback" }
        });
        // The caller gives up first (after 1 s).
        assert!(time::timeout(secs(1), guarded).await.is_err());
        assert!(dropped.get());
        // Even once the inner deadline would have passed, nothing runs.
        time::sleep(secs(60)).await;
        assert!(!fallback_ran.get());
    });
}

#[test]
fn dropping_the_call_during_the_fallback_drops_the_fallback() {
    paused(async {
        let dropped = Rc::new(Cell::new(false));
        let fallback_dropped = Rc::new(Cell::new(false));
        let flag = DropFlag(fallback_dropped.clone());
        let guarded = timeout_or_else(secs(1), endless_work(&dropped), move |_| async move {
            let _flag = flag;
            time::sleep(secs(60)).await;
            "slow fallback"
        });
        assert!(time::timeout(secs(5), guarded).await.is_err());
        assert!(dropped.get() && fallback_dropped.get());
    });
}

#[test]
fn the_clock_starts_at_the_first_poll_and_a_deadline_is_fixed() {
    paused(async {
        let start = time::now();
        let dropped = Rc::new(Cell::new(false));
        let guarded = timeout_or_else(secs(2), endless_work(&dropped), |_| async { "late" });
        time::sleep(secs(1)).await;
        // As asyncio's wait_for: timing starts when the work is awaited.
        assert_eq!(guarded.await, "late");
        assert_eq!(time::now() - start, secs(3));

        let deadline = time::now() + secs(3);
        let answer = timeout_at_or_else(deadline, endless_work(&dropped), |_| {
            std::future::ready("at")
        });
        assert_eq!(answer.await, "at");
        assert_eq!(time::now(), deadline);
    });
}
