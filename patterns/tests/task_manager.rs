//! Tests of the background task manager, on the paused clock.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use weft_patterns::task_manager::{CancelError, Refusal, TaskError, TaskManager, TaskStatus};
use weft_runtime::{sleep, time, yield_now};
use weft_tests::{paused, poll_once, DropFlag, WakeCounter};

type Task = Pin<Box<dyn Future<Output = Result<u32, String>>>>;

/// A task that sleeps `millis`, then returns `value`.
fn task(millis: u64, value: u32) -> Task {
    Box::pin(async move {
        sleep(Duration::from_millis(millis)).await;
        Ok(value)
    })
}

/// A task that runs for an hour, and reports when it is dropped.
fn hour_long() -> (Rc<Cell<bool>>, Task) {
    let dropped = Rc::new(Cell::new(false));
    let flag = DropFlag(dropped.clone());
    let task: Task = Box::pin(async move {
        let _flag = flag;
        sleep(Duration::from_secs(3600)).await;
        Ok(0)
    });
    (dropped, task)
}

fn manager(max_concurrent: usize) -> TaskManager<&'static str, u32, String> {
    TaskManager::builder()
        .max_concurrent(max_concurrent)
        .build()
        .unwrap()
}

#[test]
fn the_manager_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<TaskManager<String, Vec<u8>, String>>();
}

#[test]
fn a_task_goes_from_pending_to_running_to_completed_with_timestamps() {
    paused(async {
        let manager = manager(1);
        let t0 = time::now();
        manager.submit("first", task(100, 1)).unwrap();
        manager.submit("second", task(50, 2)).unwrap();
        assert_eq!(
            manager.status(&"first").unwrap().status,
            TaskStatus::Pending
        );
        yield_now().await;
        assert_eq!(
            manager.status(&"first").unwrap().status,
            TaskStatus::Running
        );
        assert_eq!(
            manager.status(&"second").unwrap().status,
            TaskStatus::Pending
        );

        let second = manager.wait(&"second").await.unwrap();
        assert_eq!(second.status, TaskStatus::Completed);
        assert_eq!(second.created_at, t0);
        assert_eq!(second.started_at, Some(t0 + Duration::from_millis(100)));
        assert_eq!(second.finished_at, Some(t0 + Duration::from_millis(150)));
        assert_eq!(manager.result(&"first"), Some(Ok(1)));
        assert_eq!(manager.result(&"second"), Some(Ok(2)));
        let stats = manager.stats();
        assert_eq!((stats.pending, stats.running, stats.finished), (0, 0, 2));
    });
}

#[test]
fn errors_and_panics_are_failures() {
    paused(async {
        let manager = manager(2);
        manager
            .submit(
                "error",
                Box::pin(async { Err("refused".to_string()) }) as Task,
            )
            .unwrap();
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        manager.submit("panic", async { panic!("boom") }).unwrap();
        manager.wait_all().await;
        std::panic::set_hook(hook);
        assert_eq!(manager.status(&"error").unwrap().status, TaskStatus::Failed);
        assert_eq!(
            manager.result(&"error"),
            Some(Err(TaskError::Failed("refused".into())))
        );
        assert_eq!(manager.status(&"panic").unwrap().status, TaskStatus::Failed);
        assert_eq!(
            manager.result(&"panic"),
            Some(Err(TaskError::Panicked("boom".into())))
        );
    });
}

#[test]
fn cancelling_a_pending_task_takes_no_slot() {
    paused(async {
        let manager = manager(1);
        manager.submit("running", task(100, 1)).unwrap();
        let (dropped, pending) = hour_long();
        manager.submit("pending", pending).unwrap();
        manager.submit("next", task(10, 3)).unwrap();
        yield_now().await;
        manager.cancel(&"pending").unwrap();
        let info = manager.wait(&"pending").await.unwrap();
        assert_eq!(info.status, TaskStatus::Cancelled);
        assert_eq!(info.started_at, None, "it never started");
        assert!(dropped.get());

        // The slot went from "running" straight to "next".
        let next = manager.wait(&"next").await.unwrap();
        let t0 = info.created_at;
        assert_eq!(next.started_at, Some(t0 + Duration::from_millis(100)));
        assert_eq!(manager.result(&"pending"), Some(Err(TaskError::Cancelled)));
    });
}

#[test]
fn cancelling_a_running_task_runs_its_destructors_and_frees_its_slot() {
    paused(async {
        let manager = manager(1);
        let (dropped, running) = hour_long();
        manager.submit("running", running).unwrap();
        manager.submit("next", task(10, 2)).unwrap();
        sleep(Duration::from_secs(1)).await;
        assert_eq!(
            manager.status(&"running").unwrap().status,
            TaskStatus::Running
        );

        manager.cancel(&"running").unwrap();
        let info = manager.wait(&"running").await.unwrap();
        assert_eq!(info.status, TaskStatus::Cancelled);
        assert!(dropped.get(), "its destructors ran");
        assert!(info.started_at.is_some());

        let next = manager.wait(&"next").await.unwrap();
        assert_eq!(next.started_at, info.finished_at, "the slot was handed on");
        assert_eq!(manager.result(&"next"), Some(Ok(2)));
    });
}

#[test]
fn cancel_explains_why_it_cannot() {
    paused(async {
        let manager = manager(1);
        assert_eq!(manager.cancel(&"nope"), Err(CancelError::Unknown));
        manager.submit("done", task(1, 1)).unwrap();
        manager.wait(&"done").await;
        assert_eq!(
            manager.cancel(&"done"),
            Err(CancelError::Finished(TaskStatus::Completed))
        );
    });
}

#[test]
fn pending_tasks_start_in_submission_order() {
    paused(async {
        let manager = TaskManager::<u32, (), ()>::builder()
            .max_concurrent(1)
            .build()
            .unwrap();
        let order = Rc::new(RefCell::new(Vec::new()));
        for id in 0..5 {
            let order = order.clone();
            manager
                .submit(id, async move {
                    order.borrow_mut().push(id);
                    sleep(Duration::from_millis(1)).await;
                    Ok(())
                })
                .unwrap();
        }
        manager.wait_all().await;
        assert_eq!(*order.borrow(), [0, 1, 2, 3, 4]);
    });
}

#[test]
fn only_the_newest_finished_results_are_kept() {
    paused(async {
        let manager = TaskManager::<u32, u32, ()>::builder()
            .max_concurrent(2)
            .retain_finished(2)
            .build()
            .unwrap();
        // A long task that must never be evicted while it runs.
        manager
            .submit(100, async {
                sleep(Duration::from_secs(10)).await;
                Ok(100)
            })
            .unwrap();
        for id in 0..5 {
            manager
                .submit(id, async move {
                    sleep(Duration::from_millis(1)).await;
                    Ok(id)
                })
                .unwrap();
        }
        manager.wait(&2).await;
        // 0, 1, 2 finished: 0 was evicted, the running task is untouched.
        assert!(manager.status(&0).is_none());
        assert!(manager.status(&1).is_some());
        assert_eq!(manager.status(&100).unwrap().status, TaskStatus::Running);
        manager.wait_all().await;
        // Then 3 and 4 finished, and the long task last.
        let kept: Vec<u32> = manager.list().into_iter().map(|info| info.id).collect();
        assert_eq!(kept, [100, 4]);
        assert_eq!(manager.stats().finished, 2);
    });
}

#[test]
fn a_waiter_learns_the_outcome_even_if_the_record_was_evicted() {
    paused(async {
        let manager = TaskManager::<&str, (), ()>::builder()
            .retain_finished(0)
            .build()
            .unwrap();
        manager
            .submit("gone", async {
                sleep(Duration::from_millis(5)).await;
                Ok(())
            })
            .unwrap();
        let info = manager.wait(&"gone").await.unwrap();
        assert_eq!(info.status, TaskStatus::Completed);
        assert!(manager.status(&"gone").is_none(), "evicted at once");
        assert!(manager.wait(&"gone").await.is_none(), "unknown now");
    });
}

#[test]
fn dropped_waits_change_nothing() {
    paused(async {
        let manager = manager(1);
        manager.submit("slow", task(100, 1)).unwrap();
        let mut wait = Box::pin(manager.wait(&"slow"));
        let mut wait_all = Box::pin(manager.wait_all());
        assert!(poll_once(wait.as_mut(), &WakeCounter::new()).is_pending());
        assert!(poll_once(wait_all.as_mut(), &WakeCounter::new()).is_pending());
        drop(wait);
        drop(wait_all);
        manager.wait_all().await;
        assert_eq!(manager.result(&"slow"), Some(Ok(1)));
    });
}

#[test]
fn wait_all_returns_at_once_when_idle() {
    paused(async {
        let manager = manager(1);
        let start = time::now();
        manager.wait_all().await;
        manager.submit("a", task(10, 1)).unwrap();
        manager.wait_all().await;
        manager.wait_all().await;
        assert_eq!(time::now() - start, Duration::from_millis(10));
    });
}

#[test]
fn an_active_id_is_refused_and_a_finished_one_reused() {
    paused(async {
        let manager = manager(2);
        manager.submit("job", task(10, 1)).unwrap();
        let refused = manager.submit("job", task(0, 2)).unwrap_err();
        assert_eq!(refused.reason, Refusal::DuplicateId);
        let (id, task_back) = refused.into_parts();
        assert_eq!((id, task_back.await), ("job", Ok(2)));

        manager.wait(&"job").await;
        manager.submit("job", task(10, 3)).unwrap();
        assert_eq!(manager.result(&"job"), None, "the old record was replaced");
        manager.wait(&"job").await;
        assert_eq!(manager.result(&"job"), Some(Ok(3)));
        assert_eq!(manager.stats().finished, 1);
    });
}

#[test]
fn a_full_manager_refuses_and_hands_the_task_back() {
    paused(async {
        let manager = TaskManager::<u32, u32, String>::builder()
            .max_concurrent(1)
            .max_pending(1)
            .build()
            .unwrap();
        manager.submit(1, task(10, 1)).unwrap();
        manager.submit(2, task(10, 2)).unwrap();
        let refused = manager.submit(3, task(10, 3)).unwrap_err();
        assert_eq!(refused.reason, Refusal::Full);
        assert_eq!(
            refused.to_string(),
            "task 3 was refused: too many tasks are pending or running"
        );
        manager.wait_all().await;
        manager.submit(3, task(10, 3)).unwrap();
    });
}

#[test]
fn shutdown_cancels_exactly_the_tasks_unfinished_at_the_deadline() {
    paused(async {
        let manager = TaskManager::<&str, u32, String>::builder()
            .max_concurrent(2)
            .build()
            .unwrap();
        // Two slots: a 0-100, b 0-400 (cut), c 100-250, d 250-650 (cut),
        // e is still pending at the 300 ms deadline (cut).
        let mut flags = Vec::new();
        for (id, millis) in [("a", 100), ("b", 400), ("c", 150), ("d", 400), ("e", 10)] {
            let dropped = Rc::new(Cell::new(false));
            let flag = DropFlag(dropped.clone());
            flags.push(dropped);
            manager
                .submit(id, async move {
                    let _flag = flag;
                    sleep(Duration::from_millis(millis)).await;
                    Ok(millis as u32)
                })
                .unwrap();
        }
        let report = manager.shutdown(Duration::from_millis(300)).await;
        assert_eq!(report.finished, ["a", "c"]);
        assert_eq!(report.cancelled, ["b", "d", "e"]);
        assert_eq!(report.elapsed, Duration::from_millis(300));
        assert!(flags.iter().all(|f| f.get()));
        assert_eq!(manager.status(&"e").unwrap().started_at, None);

        let refused = manager.submit("late", task(0, 0)).unwrap_err();
        assert_eq!(refused.reason, Refusal::Closed);
    });
}

#[test]
fn a_dropped_shutdown_leaves_the_manager_closed_and_the_tasks_running() {
    paused(async {
        let manager = manager(1);
        manager.submit("slow", task(5_000, 1)).unwrap();
        let gave_up = time::timeout(
            Duration::from_secs(1),
            manager.shutdown(Duration::from_secs(2)),
        )
        .await;
        assert!(gave_up.is_err());
        assert_eq!(
            manager.submit("late", task(0, 0)).unwrap_err().reason,
            Refusal::Closed
        );
        let info = manager.wait(&"slow").await.unwrap();
        assert_eq!(
            info.status,
            TaskStatus::Completed,
            "no deadline was enforced"
        );
    });
}

#[test]
fn dropping_the_manager_cancels_its_tasks() {
    paused(async {
        let manager = manager(1);
        let (running_dropped, running) = hour_long();
        let (pending_dropped, pending) = hour_long();
        manager.submit("running", running).unwrap();
        manager.submit("pending", pending).unwrap();
        yield_now().await;
        drop(manager);
        sleep(Duration::from_millis(1)).await;
        assert!(running_dropped.get());
        assert!(pending_dropped.get());
    });
}

#[test]
fn zero_concurrency_is_an_error() {
    paused(async {
        let error = TaskManager::<u8, (), ()>::builder()
            .max_concurrent(0)
            .build()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "a task manager must let at least one task run at a time"
        );
    });
}
