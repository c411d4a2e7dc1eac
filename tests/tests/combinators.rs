//! The combinators on a real weft runtime: `TaskGroup`'s structured
//! concurrency (first failure cancels the rest, every failure reported,
//! nothing outlives the group), `yield_now`'s fairness, and the futures
//! combinators over spawned tasks.
//!
//! Every test runs on a paused clock, so sleeps cost no time and finish in
//! deadline order: the tests are deterministic, and a test whose task never
//! ends fails on a timeout instead of hanging.

use std::cell::{Cell, RefCell};
use std::future::{pending, Future};
use std::rc::Rc;
use std::time::Duration;

use weft_runtime::combinators::{
    as_completed, join_all, select, yield_now, TaskFailure, TaskGroup, TaskGroupError,
    TaskGroupHandle,
};
use weft_runtime::{sleep, spawn, timeout, Builder};

fn run_paused<F: Future>(fut: F) -> F::Output {
    Builder::new().start_paused(true).build().block_on(fut)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Counts the guards it handed out that were dropped.
#[derive(Clone, Default)]
struct DropCount(Rc<Cell<usize>>);

struct Guard(Rc<Cell<usize>>);

impl DropCount {
    fn guard(&self) -> Guard {
        Guard(Rc::clone(&self.0))
    }

    fn get(&self) -> usize {
        self.0.get()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// A task that holds `guard` and never finishes on its own.
async fn blocked_forever<E>(guard: Guard) -> Result<(), E> {
    let _guard = guard;
    pending::<()>().await;
    Ok(())
}

/// Joins `group`; a group that never finishes fails the test (the paused
/// clock jumps to the deadline once nothing else can run) instead of hanging.
async fn join<T: 'static, E: 'static>(group: TaskGroup<T, E>) -> Result<Vec<T>, TaskGroupError<E>> {
    timeout(Duration::from_secs(3600), group.join())
        .await
        .expect("the group never finished")
}

fn spawn_indices<E>(failures: &[TaskFailure<E>]) -> Vec<usize> {
    let mut tasks: Vec<usize> = failures.iter().map(TaskFailure::task).collect();
    tasks.sort_unstable();
    tasks
}

#[test]
fn task_group_returns_values_in_spawn_order() {
    let values = run_paused(async {
        let group = TaskGroup::new();
        // The later a task is spawned, the sooner it finishes.
        for (index, delay) in [30, 20, 10].into_iter().enumerate() {
            group.spawn(async move {
                sleep(ms(delay)).await;
                Ok::<_, ()>(index)
            });
        }
        join(group).await
    });
    assert_eq!(values.unwrap(), [0, 1, 2]);
}

#[test]
fn an_empty_group_joins_at_once() {
    let values = run_paused(join(TaskGroup::<(), ()>::new()));
    assert_eq!(values.unwrap(), Vec::<()>::new());
}

#[test]
fn the_first_failure_aborts_blocked_siblings_and_join_waits_for_their_destructors() {
    let drops = DropCount::default();
    let error = run_paused(async {
        let group = TaskGroup::new();
        group.spawn(blocked_forever(drops.guard()));
        group.spawn(blocked_forever(drops.guard()));
        group.spawn(async {
            sleep(ms(5)).await;
            Err("boom")
        });
        let error = join(group).await.unwrap_err();
        assert_eq!(
            drops.get(),
            2,
            "join returned before an aborted task was dropped"
        );
        error
    });
    assert!(matches!(
        error.failures(),
        [TaskFailure::Failed {
            task: 2,
            error: "boom"
        }]
    ));
    assert_eq!(error.cancelled(), 2);
    assert_eq!(
        error.to_string(),
        "task group failed: task 2 returned an error: boom (2 tasks cancelled)"
    );
}

#[test]
fn two_tasks_failing_in_the_same_round_are_both_reported() {
    let drops = DropCount::default();
    let error = run_paused(async {
        let group = TaskGroup::new();
        // Both fail on their first poll, one after the other, before `join`
        // is polled again: the second has finished before the abort.
        group.spawn(async { Err("first") });
        group.spawn(async { Err("second") });
        group.spawn(blocked_forever(drops.guard()));
        join(group).await.unwrap_err()
    });
    assert_eq!(spawn_indices(error.failures()), [0, 1]);
    assert_eq!(error.cancelled(), 1);
    assert_eq!(drops.get(), 1);
    let message = error.to_string();
    assert!(
        message.contains("task 0 returned an error: first"),
        "{message}"
    );
    assert!(
        message.contains("task 1 returned an error: second"),
        "{message}"
    );
}

#[test]
fn a_panic_inside_the_group_is_a_failure_with_its_payload() {
    let drops = DropCount::default();
    let error = run_paused(async {
        let group = TaskGroup::<(), &str>::new();
        group.spawn(blocked_forever(drops.guard()));
        group.spawn(async {
            sleep(ms(1)).await;
            panic!("kaboom")
        });
        join(group).await.unwrap_err()
    });
    match error.failures() {
        [TaskFailure::Panicked { task: 1, payload }] => {
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"kaboom"));
        }
        other => panic!("expected one panic, got {other:?}"),
    }
    assert_eq!(drops.get(), 1);
    assert_eq!(
        error.to_string(),
        "task group failed: task 1 panicked: kaboom (1 task cancelled)"
    );
}

#[test]
fn dropping_the_group_without_joining_aborts_its_tasks() {
    run_paused(async {
        let drops = DropCount::default();
        let finished = Rc::new(Cell::new(false));
        let group = TaskGroup::<(), ()>::new();
        let (guard, done) = (drops.guard(), Rc::clone(&finished));
        group.spawn(async move {
            let _guard = guard;
            sleep(ms(10)).await;
            done.set(true);
            Ok(())
        });
        yield_now().await; // the task starts and goes to sleep
        drop(group);
        sleep(ms(100)).await;
        assert_eq!(drops.get(), 1);
        assert!(!finished.get(), "an aborted task ran to its end");
    });
}

#[test]
fn dropping_the_join_future_aborts_the_tasks() {
    run_paused(async {
        let drops = DropCount::default();
        let group = TaskGroup::<(), ()>::new();
        group.spawn(blocked_forever(drops.guard()));
        group.spawn(blocked_forever(drops.guard()));

        let gave_up = timeout(ms(10), group.join()).await;
        assert!(gave_up.is_err());
        // Aborted tasks are dropped at their next turn, which comes before
        // ours after a yield.
        yield_now().await;
        assert_eq!(drops.get(), 2);
    });
}

#[test]
fn a_task_cancelled_from_outside_fails_the_group_without_a_failure() {
    let drops = DropCount::default();
    let runtime = Builder::new().build();
    let group = runtime.block_on(async {
        let group = TaskGroup::<(), &str>::new();
        group.spawn(blocked_forever(drops.guard()));
        group
    });
    drop(runtime); // cancels the task: its value can never come
    assert_eq!(drops.get(), 1);

    let error = futures::executor::block_on(group.join()).unwrap_err();
    assert!(error.failures().is_empty());
    assert_eq!(error.cancelled(), 1);
    assert_eq!(error.to_string(), "task group failed: 1 task cancelled");
}

/// A destructor that tries to spawn into the group and records the answer.
struct SpawnOnDrop {
    handle: TaskGroupHandle<(), &'static str>,
    refused_shutting_down: Rc<Cell<Option<bool>>>,
}

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        let answer = self.handle.spawn(async { Ok(()) });
        self.refused_shutting_down.set(Some(
            answer.err().is_some_and(|closed| closed.is_shutting_down()),
        ));
    }
}

#[test]
fn a_shutting_down_group_refuses_new_tasks_and_a_finished_one_too() {
    let refused = Rc::new(Cell::new(None));
    let (error, handle) = run_paused(async {
        let group = TaskGroup::new();
        let spawner = SpawnOnDrop {
            handle: group.handle(),
            refused_shutting_down: Rc::clone(&refused),
        };
        group.spawn(async move {
            let _spawner = spawner;
            pending::<()>().await;
            Ok(())
        });
        group.spawn(async { Err("failed") });
        let handle = group.handle();
        (join(group).await.unwrap_err(), handle)
    });
    assert_eq!(
        refused.get(),
        Some(true),
        "the aborted task's destructor could spawn"
    );
    assert_eq!(error.failures().len(), 1);
    assert_eq!(error.cancelled(), 1);

    let closed = handle.spawn(async { Ok(()) }).unwrap_err();
    assert!(!closed.is_shutting_down());
    assert_eq!(
        closed.to_string(),
        "task not spawned: the task group has finished"
    );
}

#[test]
fn tasks_can_spawn_siblings_that_join_waits_for() {
    let values = run_paused(async {
        let group = TaskGroup::new();
        let handle = group.handle();
        group.spawn(async move {
            // By now `join` is waiting and task 1 has finished.
            sleep(ms(10)).await;
            let index = handle.spawn(async {
                sleep(ms(10)).await;
                Ok("grandchild")
            });
            assert_eq!(index.ok(), Some(2));
            Ok::<_, ()>("first")
        });
        group.spawn(async { Ok("second") });
        join(group).await
    });
    assert_eq!(values.unwrap(), ["first", "second", "grandchild"]);
}

#[test]
fn yield_now_interleaves_two_tasks() {
    let log = Rc::new(RefCell::new(Vec::new()));
    run_paused(async {
        let tasks: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|name| {
                let log = Rc::clone(&log);
                spawn(async move {
                    for _ in 0..3 {
                        log.borrow_mut().push(name);
                        yield_now().await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(*log.borrow(), ["a", "b", "a", "b", "a", "b"]);
}

#[test]
fn join_all_over_tasks_keeps_spawn_order() {
    let outputs = run_paused(async {
        let tasks = [30, 10, 20].map(|delay| {
            spawn(async move {
                sleep(ms(delay)).await;
                delay
            })
        });
        join_all(tasks).await
    });
    let outputs: Vec<u64> = outputs.into_iter().map(Result::unwrap).collect();
    assert_eq!(outputs, [30, 10, 20]);
}

#[test]
fn select_over_tasks_returns_the_first_and_leaves_the_rest_running() {
    run_paused(async {
        let tasks: Vec<_> = [30, 10, 20]
            .map(|delay| {
                spawn(async move {
                    sleep(ms(delay)).await;
                    delay
                })
            })
            .into();
        let (first, index, rest) = select(tasks).await.unwrap();
        assert_eq!((first.unwrap(), index), (10, 1));

        let rest: Vec<u64> = join_all(rest)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rest, [30, 20]);
    });
}

#[test]
fn as_completed_over_tasks_yields_in_completion_order() {
    run_paused(async {
        let mut done = as_completed([30, 10, 20].map(|delay| {
            spawn(async move {
                sleep(ms(delay)).await;
                delay
            })
        }));
        let mut order = Vec::new();
        while let Some(delay) = done.next().await {
            order.push(delay.unwrap());
        }
        assert_eq!(order, [10, 20, 30]);
    });
}
