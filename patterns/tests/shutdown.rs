//! Tests of the cancellation token and the shutdown coordinator, on the
//! paused clock (deterministic and instant).

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use weft_patterns::shutdown::{CancellationToken, Shutdown, ShutdownTrigger};
use weft_runtime::signal::SignalKind;
use weft_runtime::{join_all, sleep, spawn, time, yield_now};
use weft_tests::{paused, DropFlag, WakeCounter};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn token_types_are_send_and_sync() {
    assert_send_sync::<CancellationToken>();
    assert_send_sync::<weft_patterns::shutdown::WaitForCancellation<'static>>();
    assert_send_sync::<weft_patterns::shutdown::DropGuard>();
    assert_send_sync::<Shutdown>();
    fn assert_send_sync_static<T: Send + Sync + 'static>(_: &T) {}
    assert_send_sync_static(&CancellationToken::new().cancelled_owned());
}

#[test]
fn cancel_reaches_descendants_but_not_the_parent() {
    let root = CancellationToken::new();
    let child = root.child_token();
    let grandchild = child.child_token();
    let sibling = root.child_token();

    child.cancel();
    assert!(child.is_cancelled());
    assert!(grandchild.is_cancelled());
    assert!(!root.is_cancelled());
    assert!(!sibling.is_cancelled());

    root.cancel();
    assert!(sibling.is_cancelled());
    // A child made after the cancellation is born cancelled.
    assert!(root.child_token().is_cancelled());
}

#[test]
fn a_parent_whose_handles_are_gone_still_propagates() {
    let root = CancellationToken::new();
    let leaf = root.child_token().child_token(); // the middle token's only handle is dropped
    root.cancel();
    assert!(leaf.is_cancelled());
}

#[test]
fn clones_share_one_state() {
    let token = CancellationToken::new();
    let clone = token.clone();
    clone.cancel();
    assert!(token.is_cancelled());
}

#[test]
fn cancel_wakes_every_waiter_on_every_descendant() {
    paused(async {
        let root = CancellationToken::new();
        let woken = Rc::new(Cell::new(0));
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let token = if i % 2 == 0 {
                    root.clone()
                } else {
                    root.child_token().child_token()
                };
                let woken = woken.clone();
                spawn(async move {
                    token.cancelled().await;
                    woken.set(woken.get() + 1);
                })
            })
            .collect();
        yield_now().await; // every task is waiting now
        assert_eq!(woken.get(), 0);
        root.cancel();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(woken.get(), 6);
    });
}

#[test]
fn dropping_a_wait_half_way_changes_nothing_for_the_others() {
    let token = CancellationToken::new();
    let waker = WakeCounter::new().waker();
    let mut cx = Context::from_waker(&waker);

    let mut first = Box::pin(token.cancelled());
    let mut second = Box::pin(token.cancelled());
    assert!(first.as_mut().poll(&mut cx).is_pending());
    assert!(second.as_mut().poll(&mut cx).is_pending());
    drop(first); // cancelled half-way
    assert!(!token.is_cancelled());

    token.cancel();
    assert_eq!(second.as_mut().poll(&mut cx), Poll::Ready(()));
    assert_eq!(
        pin!(token.cancelled()).poll(&mut cx),
        Poll::Ready(()),
        "a wait that starts after the cancellation completes at once"
    );
}

#[test]
fn cancel_from_another_thread_wakes_a_weft_task() {
    paused(async {
        let token = CancellationToken::new();
        let remote = token.clone();
        let canceller = std::thread::spawn(move || remote.cancel());
        token.cancelled().await;
        canceller.join().unwrap();
    });
}

#[test]
fn cancelled_owned_moves_into_a_task() {
    paused(async {
        let token = CancellationToken::new();
        let waiting = spawn(token.clone().cancelled_owned());
        sleep(Duration::from_secs(1)).await;
        assert!(!waiting.is_finished());
        token.cancel();
        waiting.await.unwrap();
    });
}

#[test]
fn run_until_cancelled_drops_the_work_when_cancelled() {
    paused(async {
        let token = CancellationToken::new();
        let dropped = Rc::new(Cell::new(false));
        let canceller = {
            let token = token.clone();
            spawn(async move {
                sleep(Duration::from_secs(1)).await;
                token.cancel();
            })
        };
        let flag = DropFlag(dropped.clone());
        let outcome = token
            .run_until_cancelled(async move {
                let _flag = flag;
                sleep(Duration::from_secs(60)).await;
                "finished"
            })
            .await;
        assert_eq!(outcome, None);
        assert!(dropped.get(), "the work's destructors ran");
        canceller.await.unwrap();

        // Cancellation is checked first: ready work is not run any more.
        assert_eq!(token.run_until_cancelled(async { 1 }).await, None);
    });
}

#[test]
fn drop_guard_cancels_unless_disarmed() {
    let token = CancellationToken::new();
    let kept = token.clone().drop_guard().disarm();
    assert!(!kept.is_cancelled());
    drop(token.clone().drop_guard());
    assert!(token.is_cancelled());
}

#[test]
fn shutdown_with_nothing_in_flight_returns_at_once() {
    paused(async {
        let shutdown = Shutdown::new();
        let report = shutdown.shutdown(Duration::from_secs(30)).await;
        assert_eq!(report.in_flight, 0);
        assert_eq!(report.finished, 0);
        assert!(report.cancelled.is_empty());
        assert_eq!(report.elapsed, Duration::ZERO);
    });
}

#[test]
fn work_that_ends_within_the_grace_period_is_not_cancelled() {
    paused(async {
        let shutdown = Shutdown::new();
        let tasks: Vec<_> = (1..=3)
            .map(|i| {
                shutdown
                    .spawn(format!("job {i}"), async move {
                        sleep(Duration::from_millis(100 * i)).await;
                        i
                    })
                    .unwrap()
            })
            .collect();
        let report = shutdown.shutdown(Duration::from_secs(1)).await;
        assert_eq!(report.in_flight, 3);
        assert_eq!(report.finished, 3);
        assert!(report.cancelled.is_empty());
        // It returned as soon as the last one ended, not at the deadline.
        assert_eq!(report.elapsed, Duration::from_millis(300));
        for (i, task) in (1..).zip(tasks) {
            assert_eq!(task.await.unwrap(), Some(i));
        }
    });
}

#[test]
fn the_deadline_cancels_exactly_the_unfinished_work() {
    paused(async {
        let shutdown = Shutdown::new();
        let mut flags = Vec::new();
        let mut tasks = Vec::new();
        for (name, millis) in [("a", 100), ("b", 900), ("c", 400), ("d", 2000)] {
            let dropped = Rc::new(Cell::new(false));
            let flag = DropFlag(dropped.clone());
            flags.push(dropped);
            tasks.push(
                shutdown
                    .spawn(name, async move {
                        let _flag = flag;
                        sleep(Duration::from_millis(millis)).await;
                    })
                    .unwrap(),
            );
        }
        let report = shutdown.shutdown(Duration::from_millis(500)).await;
        assert_eq!(report.in_flight, 4);
        assert_eq!(report.finished, 2);
        assert_eq!(report.cancelled, ["b", "d"]);
        assert_eq!(report.elapsed, Duration::from_millis(500));
        assert_eq!(shutdown.in_flight(), 0);
        // Every future was dropped (finished or cancelled) before the report.
        assert!(flags.iter().all(|flag| flag.get()));
        let outcomes: Vec<_> = join_all(tasks)
            .await
            .into_iter()
            .map(|outcome| outcome.unwrap().is_some())
            .collect();
        assert_eq!(outcomes, [true, false, true, false]);
        assert_eq!(
            report.to_string(),
            "4 task(s) in flight: 2 finished, 2 cancelled (b, d) in 500ms"
        );
    });
}

#[test]
fn no_work_is_accepted_once_shutdown_was_requested() {
    paused(async {
        let shutdown = Shutdown::new();
        assert!(!shutdown.is_shutting_down());
        shutdown.token().cancel();
        assert!(shutdown.is_shutting_down());
        let refused = shutdown.spawn("late", async { "unrun" }).unwrap_err();
        assert_eq!(refused.into_inner().await, "unrun");
        assert_eq!(shutdown.in_flight(), 0);
    });
}

#[test]
fn a_parent_token_requests_the_shutdown() {
    let app = CancellationToken::new();
    let shutdown = Shutdown::with_parent(&app);
    let other = Shutdown::with_parent(&app);
    shutdown.token().cancel();
    assert!(
        !app.is_cancelled(),
        "the coordinator never cancels its parent"
    );
    assert!(!other.is_shutting_down());
    app.cancel();
    assert!(other.is_shutting_down());
}

#[test]
fn dropping_the_shutdown_future_cancels_nothing() {
    paused(async {
        let shutdown = Shutdown::new();
        let task = shutdown
            .spawn("slow", async {
                sleep(Duration::from_secs(10)).await;
                "done"
            })
            .unwrap();
        // Give up on the shutdown half-way, before its deadline.
        let gave_up = time::timeout(
            Duration::from_secs(1),
            shutdown.shutdown(Duration::from_secs(5)),
        )
        .await;
        assert!(gave_up.is_err());
        assert!(shutdown.is_shutting_down(), "still refusing new work");
        assert!(shutdown.spawn("late", async { "x" }).is_err());
        assert_eq!(shutdown.in_flight(), 1, "the work was not cancelled");

        // A second call resumes, with its own deadline.
        let report = shutdown.shutdown(Duration::from_secs(30)).await;
        assert_eq!(report.finished, 1);
        assert!(report.cancelled.is_empty());
        assert_eq!(task.await.unwrap(), Some("done"));
    });
}

#[test]
fn a_panicking_or_detached_task_does_not_hang_the_shutdown() {
    paused(async {
        let shutdown = Shutdown::new();
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let doomed = shutdown
            .spawn("doomed", async {
                sleep(Duration::from_millis(5)).await;
                panic!("on purpose");
            })
            .unwrap();
        drop(
            shutdown
                .spawn("detached", sleep(Duration::from_secs(3600)))
                .unwrap(),
        );
        let report = shutdown.shutdown(Duration::from_secs(1)).await;
        std::panic::set_hook(hook);
        assert!(doomed.await.unwrap_err().is_panic());
        assert_eq!(report.in_flight, 2);
        assert_eq!(report.finished, 1);
        assert_eq!(report.cancelled, ["detached"]);
    });
}

#[test]
fn an_aborted_task_leaves_the_table() {
    paused(async {
        let shutdown = Shutdown::new();
        let task = shutdown
            .spawn("aborted", std::future::pending::<()>())
            .unwrap();
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        assert_eq!(shutdown.in_flight(), 0);
        let report = shutdown.shutdown(Duration::from_secs(1)).await;
        assert_eq!(report.in_flight, 0);
    });
}

#[test]
fn signals_wait_for_the_token_too() {
    paused(async {
        let shutdown = Shutdown::new();
        let mut signals = shutdown.signals().unwrap();
        let token = shutdown.token();
        let start = time::now();
        spawn(async move {
            sleep(Duration::from_secs(2)).await;
            token.cancel();
        });
        assert_eq!(signals.triggered().await, ShutdownTrigger::Requested);
        assert_eq!(time::now() - start, Duration::from_secs(2));
    });
}

#[test]
fn sigterm_triggers_the_shutdown() {
    // The real clock: the runtime waits in epoll for the signal's byte.
    weft_runtime::run(async {
        let shutdown = Shutdown::new();
        let worker = shutdown
            .spawn("worker", std::future::pending::<()>())
            .unwrap();
        // Listeners are installed when `signals` returns, so the signal
        // below cannot arrive before them (and cannot end the process).
        let mut signals = shutdown.signals().unwrap();
        let status = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(std::process::id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        let trigger = signals.triggered().await;
        assert_eq!(trigger, ShutdownTrigger::Signal(SignalKind::terminate()));
        assert_eq!(trigger.to_string(), "terminated (SIGTERM)");
        let report = shutdown.shutdown(Duration::ZERO).await;
        assert_eq!(report.cancelled, ["worker"]);
        assert_eq!(worker.await.unwrap(), None);
    });
}
