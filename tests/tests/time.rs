//! Timers: sleep ordering, timeouts (expiring or not, the inner future
//! dropped on expiry), lazy registration and cancellation, the paused clock
//! on long durations, interval schedules and missed ticks, and a hundred
//! thousand early-finishing timeouts that must leave no timer behind.
//!
//! Almost every test runs on a paused clock, so instants are exact and the
//! results the same on every run; the few on the real clock assert only
//! orderings and "never early", never how long something took.

use std::cell::{Cell, RefCell};
use std::future::{pending, poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use weft_primitives::Event;
use weft_runtime::time::{self, MissedTickBehavior};
use weft_runtime::{spawn, Builder, Handle, Runtime};
use weft_tests::pending_with_flag;

fn paused() -> Runtime {
    Builder::new().start_paused(true).build()
}

fn live_timers() -> usize {
    Handle::current().metrics().live_timers
}

fn timers_fired() -> u64 {
    Handle::current().metrics().timers_fired
}

/// Polls `fut` exactly once, inside the runtime.
async fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(std::pin::Pin::new(&mut *fut).poll(cx))).await
}

#[test]
fn sleeps_wake_in_deadline_order_at_their_exact_instants() {
    paused().block_on(async {
        let start = time::now();
        let woke = Rc::new(RefCell::new(Vec::new()));
        let delays_ms = [700, 5, 64, 3_600_000, 0, 4_096, 65, 1];
        let handles: Vec<_> = delays_ms
            .iter()
            .map(|&ms| {
                let woke = woke.clone();
                spawn(async move {
                    time::sleep(Duration::from_millis(ms)).await;
                    woke.borrow_mut().push((ms, time::now() - start));
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
        let mut expected: Vec<_> = delays_ms
            .iter()
            .map(|&ms| (ms, Duration::from_millis(ms)))
            .collect();
        expected.sort_unstable();
        assert_eq!(*woke.borrow(), expected);
        assert_eq!(live_timers(), 0);
        assert_eq!(
            timers_fired(),
            7,
            "the zero-length sleep never joined the wheel"
        );
    });
}

/// On the real clock only "never early" can be asserted: a machine that
/// stalls past every deadline before the first poll wakes them in poll
/// order. The order itself is proven on the paused clock
/// (`sleeps_wake_in_deadline_order_at_their_exact_instants`).
#[test]
fn real_clock_sleeps_never_wake_early() {
    weft_runtime::run(async {
        let base = time::now();
        let woke = Rc::new(RefCell::new(Vec::new()));
        let handles: Vec<_> = [9u64, 3, 6, 1]
            .into_iter()
            .map(|ms| {
                let woke = woke.clone();
                spawn(async move {
                    let deadline = base + Duration::from_millis(ms);
                    time::sleep_until(deadline).await;
                    assert!(time::now() >= deadline, "woke before its deadline");
                    woke.borrow_mut().push(ms);
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
        let mut woke = woke.borrow().clone();
        woke.sort_unstable();
        assert_eq!(woke, [1, 3, 6, 9]);
    });
}

#[test]
fn timers_join_the_wheel_at_first_poll_and_leave_on_drop() {
    paused().block_on(async {
        let mut nap = time::sleep(Duration::from_secs(1));
        assert_eq!(live_timers(), 0, "creating a Sleep is free");
        assert!(poll_once(&mut nap).await.is_pending());
        assert_eq!(live_timers(), 1);
        assert!(poll_once(&mut nap).await.is_pending());
        assert_eq!(live_timers(), 1, "a re-poll does not register twice");
        drop(nap);
        assert_eq!(live_timers(), 0, "dropping cancels at once");
        assert_eq!(timers_fired(), 0);
    });
}

#[test]
fn sleep_reset_moves_the_deadline_both_ways() {
    paused().block_on(async {
        let start = time::now();
        let mut nap = time::sleep(Duration::from_secs(5));
        assert!(poll_once(&mut nap).await.is_pending());
        nap.reset(start + Duration::from_secs(8));
        (&mut nap).await;
        assert_eq!(time::now(), start + Duration::from_secs(8));
        assert!(nap.is_elapsed());
        // A completed Sleep can be reset and awaited again.
        nap.reset(start + Duration::from_secs(20));
        assert!(!nap.is_elapsed());
        assert!(poll_once(&mut nap).await.is_pending());
        nap.reset(start + Duration::from_secs(12));
        (&mut nap).await;
        assert_eq!(time::now(), start + Duration::from_secs(12));
        assert_eq!(live_timers(), 0);
    });
}

#[test]
fn a_sleep_reset_away_and_back_before_its_next_poll_keeps_its_deadline() {
    paused().block_on(async {
        let start = time::now();
        let mut early = time::sleep(Duration::from_secs(2));
        let mut nap = time::sleep(Duration::from_secs(5));
        assert!(poll_once(&mut early).await.is_pending());
        assert!(poll_once(&mut nap).await.is_pending());
        nap.reset(start + Duration::from_secs(1));
        nap.reset(start + Duration::from_secs(5));
        // Resetting a sleep to the deadline it has changes nothing.
        nap.reset(start + Duration::from_secs(5));
        assert!(poll_once(&mut nap).await.is_pending());
        assert_eq!(live_timers(), 2);
        (&mut early).await;
        assert_eq!(time::now(), start + Duration::from_secs(2));
        assert!(!nap.is_elapsed());
        (&mut nap).await;
        assert_eq!(time::now(), start + Duration::from_secs(5));
        // Reset, then dropped before the entry moved: it still leaves.
        let mut moved = time::sleep(Duration::from_secs(1));
        assert!(poll_once(&mut moved).await.is_pending());
        moved.reset(start + Duration::from_secs(60));
        drop(moved);
        assert_eq!(live_timers(), 0);
    });
}

#[test]
#[cfg(target_pointer_width = "64")]
fn a_sleep_is_three_words() {
    // A sleeping task carries its `Sleep` in its future: with 100 000
    // sleepers, every word here is 800 kB.
    assert_eq!(
        std::mem::size_of::<time::Sleep>(),
        3 * std::mem::size_of::<usize>()
    );
}

#[test]
fn a_deadline_passed_before_the_first_poll_still_completes() {
    Runtime::new().block_on(async {
        // Long passed: complete at the first poll, without a timer.
        let mut passed = time::sleep_until(time::now() - Duration::from_secs(1));
        assert!(poll_once(&mut passed).await.is_ready());
        assert_eq!(live_timers(), 0);
        // Passed only after the runtime last looked at its clock: it may
        // take a turn of the event loop, but it completes, and not early.
        let deadline = time::now() + Duration::from_millis(2);
        while Instant::now() < deadline {
            std::hint::spin_loop();
        }
        time::sleep_until(deadline).await;
        assert!(Instant::now() >= deadline);
        // Reset to a deadline already passed: completes too.
        let mut nap = time::sleep(Duration::from_secs(60));
        assert!(poll_once(&mut nap).await.is_pending());
        nap.reset(time::now());
        (&mut nap).await;
        assert_eq!(live_timers(), 0);
    });
}

#[test]
fn spurious_polls_before_the_timer_fires_stay_pending() {
    Runtime::new().block_on(async {
        let deadline = time::now() + Duration::from_millis(30);
        let mut nap = time::sleep_until(deadline);
        for _ in 0..5 {
            assert!(poll_once(&mut nap).await.is_pending());
            weft_runtime::yield_now().await;
        }
        assert!(Instant::now() < deadline);
        assert_eq!(live_timers(), 1);
        // Polled over and over as fast as the loop turns: never ready early.
        poll_fn(|cx| {
            let ready = std::pin::Pin::new(&mut nap).poll(cx);
            if ready.is_pending() {
                cx.waker().wake_by_ref();
            }
            ready
        })
        .await;
        assert!(Instant::now() >= deadline);
        assert_eq!(live_timers(), 0);
    });
}

#[test]
fn timeout_expires_exactly_and_drops_the_inner_future_at_once() {
    paused().block_on(async {
        let start = time::now();
        let dropped = Rc::new(Cell::new(false));
        let mut guarded = pin!(time::timeout(
            Duration::from_secs(30),
            pending_with_flag(&dropped)
        ));
        let err = guarded.as_mut().await.unwrap_err();
        // The Timeout itself is still alive: the inner future was dropped
        // when the deadline passed, not when the Timeout goes away.
        assert!(dropped.get());
        assert_eq!(time::now() - start, Duration::from_secs(30));
        assert_eq!(err.deadline(), start + Duration::from_secs(30));
        assert_eq!(
            err.to_string(),
            "deadline elapsed before the future completed (it was dropped)"
        );
        assert_eq!(live_timers(), 0);
    });
}

#[test]
fn timeout_that_does_not_expire_returns_the_value_and_frees_its_timer() {
    paused().block_on(async {
        let start = time::now();
        let work = async {
            time::sleep(Duration::from_secs(1)).await;
            "done"
        };
        assert_eq!(
            time::timeout(Duration::from_secs(30), work).await,
            Ok("done")
        );
        assert_eq!(time::now() - start, Duration::from_secs(1));
        assert_eq!(
            live_timers(),
            0,
            "the 30 s timer left the wheel with the value"
        );
    });
}

#[test]
fn timeout_of_a_ready_future_never_touches_the_wheel() {
    paused().block_on(async {
        // `Timeout` of an async block is not Unpin: pin it to poll by hand.
        let mut quick = pin!(time::timeout(Duration::ZERO, async { 5 }));
        let out = poll_fn(|cx| Poll::Ready(quick.as_mut().poll(cx))).await;
        assert_eq!(out, Poll::Ready(Ok(5)));
        assert_eq!(timers_fired(), 0);
        assert_eq!(live_timers(), 0);
    });
}

#[test]
fn timeout_prefers_a_value_ready_at_the_deadline() {
    paused().block_on(async {
        let work = async {
            time::sleep(Duration::from_secs(30)).await;
            42
        };
        // Both timers fire in the same tick; the inner future is polled first.
        assert_eq!(time::timeout(Duration::from_secs(30), work).await, Ok(42));
    });
}

#[test]
fn a_hundred_thousand_timeouts_finishing_early_leave_no_timer_behind() {
    const TASKS: usize = 100_000;
    paused().block_on(async {
        let go = Rc::new(Event::new());
        let handles: Vec<_> = (0..TASKS)
            .map(|_| {
                let go = go.clone();
                spawn(async move {
                    time::timeout(Duration::from_secs(60), go.wait())
                        .await
                        .expect("the event comes first");
                })
            })
            .collect();
        // While this task sleeps, every other task runs and registers its
        // timeout; the paused clock moves only once all of them wait.
        time::sleep(Duration::from_millis(1)).await;
        assert_eq!(live_timers(), TASKS);
        go.set();
        for handle in handles {
            handle.await.unwrap();
        }
        assert_eq!(live_timers(), 0);
        assert_eq!(timers_fired(), 1, "only this task's own sleep fired");
    });
}

#[test]
fn paused_clock_runs_an_hour_of_intervals_exactly() {
    paused().block_on(async {
        let start = time::now();
        let mut every_second = time::interval(Duration::from_secs(1));
        for k in 0..=3600u32 {
            assert_eq!(
                every_second.tick().await,
                start + k * Duration::from_secs(1)
            );
            assert_eq!(time::now(), start + k * Duration::from_secs(1));
        }
        assert_eq!(timers_fired(), 3600, "the first tick was immediate");
    });
}

/// Ticks an interval of 10 ms with `behavior`, stalls from 10 ms to 35 ms,
/// then returns the next four ticks as (scheduled, returned at), in ms.
fn ticks_after_a_stall(behavior: MissedTickBehavior) -> Vec<(u64, u64)> {
    paused().block_on(async {
        let start = time::now();
        let ms = |instant: Instant| (instant - start).as_millis() as u64;
        let mut ticks = time::interval(Duration::from_millis(10));
        ticks.set_missed_tick_behavior(behavior);
        assert_eq!(ms(ticks.tick().await), 0);
        time::sleep(Duration::from_millis(35)).await;
        let mut seen = Vec::new();
        for _ in 0..4 {
            let scheduled = ticks.tick().await;
            seen.push((ms(scheduled), ms(time::now())));
        }
        seen
    })
}

#[test]
fn interval_burst_catches_up_at_once() {
    assert_eq!(
        ticks_after_a_stall(MissedTickBehavior::Burst),
        [(10, 35), (20, 35), (30, 35), (40, 40)]
    );
}

#[test]
fn interval_delay_restarts_the_grid_from_now() {
    assert_eq!(
        ticks_after_a_stall(MissedTickBehavior::Delay),
        [(10, 35), (45, 45), (55, 55), (65, 65)]
    );
}

#[test]
fn interval_skip_drops_missed_ticks_and_keeps_the_grid() {
    assert_eq!(
        ticks_after_a_stall(MissedTickBehavior::Skip),
        [(10, 35), (40, 40), (50, 50), (60, 60)]
    );
    assert_eq!(MissedTickBehavior::default(), MissedTickBehavior::Skip);
}

#[test]
fn interval_tick_is_cancel_safe_and_resets() {
    paused().block_on(async {
        let start = time::now();
        let mut ticks = time::interval(Duration::from_secs(10));
        ticks.tick().await;
        // Give up on a tick halfway: the tick is not lost.
        let gave_up = time::timeout(Duration::from_secs(5), ticks.tick()).await;
        assert!(gave_up.is_err());
        assert_eq!(ticks.tick().await, start + Duration::from_secs(10));
        ticks.reset();
        assert_eq!(ticks.tick().await, start + Duration::from_secs(20));
        ticks.reset_at(start + Duration::from_secs(21));
        assert_eq!(ticks.tick().await, start + Duration::from_secs(21));
        assert_eq!(ticks.tick().await, start + Duration::from_secs(31));
    });
}

#[test]
#[should_panic(expected = "an interval's period must be greater than zero")]
fn interval_of_zero_period_panics() {
    let _ = time::interval(Duration::ZERO);
}

#[test]
fn sleep_made_outside_a_runtime_works_inside_one() {
    let deadline = Instant::now() + Duration::from_millis(5);
    let nap = time::sleep_until(deadline);
    weft_runtime::run(async move {
        nap.await;
        assert!(time::now() >= deadline);
    });
}

#[test]
fn a_sleep_moves_to_the_runtime_that_polls_it() {
    let first = paused();
    let second = paused();
    let mut nap = time::sleep(Duration::from_secs(3600));
    first.block_on(async {
        assert!(poll_once(&mut nap).await.is_pending());
    });
    assert_eq!(first.metrics().live_timers, 1);
    second.block_on(&mut nap);
    assert_eq!(first.metrics().live_timers, 0, "it left the first wheel");
    assert_eq!(second.metrics().live_timers, 0);
    assert_eq!(second.metrics().timers_fired, 1);
}

#[test]
fn polling_a_sleep_outside_a_runtime_panics_clearly() {
    let outcome = std::panic::catch_unwind(|| {
        futures::executor::block_on(time::sleep(Duration::from_millis(1)));
    });
    let payload = outcome.unwrap_err();
    let message = weft_tests::panic_message(&*payload).unwrap();
    assert!(
        message.contains("weft runtime"),
        "unclear message: {message}"
    );
}

#[test]
fn an_endless_sleep_is_thirty_years_on_a_paused_clock() {
    paused().block_on(async {
        let start = time::now();
        let forever = time::sleep(Duration::MAX);
        let far = forever.deadline() - start;
        assert_eq!(far, Duration::from_secs(30 * 365 * 24 * 3600));
        forever.await;
        assert_eq!(time::now() - start, far);
    });
}

#[test]
fn elapsed_converts_to_a_timed_out_io_error() {
    paused().block_on(async {
        let err = time::timeout(Duration::from_secs(1), pending::<()>())
            .await
            .unwrap_err();
        let io: std::io::Error = err.into();
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
    });
}

#[test]
fn timer_futures_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<time::Sleep>();
    assert_send_sync::<time::Timeout<std::future::Ready<u8>>>();
    assert_send_sync::<time::Interval>();
}

#[test]
fn a_timeout_is_its_future_and_a_sleep_side_by_side() {
    // The limit waiting for the first pending poll shares the space of the
    // `Sleep` that poll makes, and their tag a spare byte of the `Sleep`.
    assert_eq!(
        size_of::<time::Timeout<std::future::Ready<u64>>>(),
        size_of::<Option<std::future::Ready<u64>>>() + size_of::<time::Sleep>()
    );
}

#[test]
fn a_sleep_dropped_off_its_runtime_frees_its_timer_at_the_next_turn() {
    let rt = paused();
    let mut nap = time::sleep(Duration::from_secs(5));
    rt.block_on(async {
        assert!(poll_once(&mut nap).await.is_pending());
        assert_eq!(live_timers(), 1);
    });
    std::thread::spawn(move || drop(nap)).join().unwrap();
    rt.block_on(async {
        weft_runtime::yield_now().await;
        assert_eq!(live_timers(), 0, "the cancellation was posted home");
        assert_eq!(timers_fired(), 0);
    });
}

#[test]
fn a_sleep_finishes_on_another_threads_runtime_and_leaves_its_first_one() {
    let first = paused();
    let start = first.block_on(async { time::now() });
    let mut nap = time::sleep(Duration::from_secs(5));
    first.block_on(async {
        assert!(poll_once(&mut nap).await.is_pending());
    });
    let finished_at = std::thread::spawn(move || {
        paused().block_on(async move {
            nap.await;
            time::now()
        })
    })
    .join()
    .unwrap();
    assert!(finished_at >= start + Duration::from_secs(5));
    first.block_on(async {
        weft_runtime::yield_now().await;
        assert_eq!(live_timers(), 0);
        assert_eq!(timers_fired(), 0);
    });
}
