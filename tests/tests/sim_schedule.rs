//! Seeded schedules (`Builder::seed`): the same seed gives the same
//! schedule digest on every run, different seeds give different
//! schedules (same-instant timers included), a run that can make no more
//! progress is reported as a deadlock with every waiting task named, and
//! a traced runtime exports its own schedule as valid Chrome JSON and SVG.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::future::pending;
use std::panic::catch_unwind;
use std::rc::Rc;
use std::time::Duration;

use serde_json::Value;
use weft_primitives::Queue;
use weft_runtime::sim::trace::{EventKind, Recorder};
use weft_runtime::sim::{Policy, ScheduleDigest};
use weft_runtime::{sleep, spawn, spawn_named, yield_now, Builder};

/// Three producers and two consumers on a bounded queue, with yields and
/// sleeps that end at the same instants: many tasks are ready at once, so
/// the seed has choices to make. Returns the order items were taken in.
async fn busy_program() -> Vec<u32> {
    let queue = Rc::new(Queue::new(2));
    let taken = Rc::new(RefCell::new(Vec::new()));
    let producers: Vec<_> = (0..3)
        .map(|p| {
            let queue = queue.clone();
            spawn(async move {
                for i in 0..4 {
                    sleep(Duration::from_millis(10)).await;
                    queue.put(p * 10 + i).await.unwrap();
                    yield_now().await;
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let (queue, taken) = (queue.clone(), taken.clone());
            spawn(async move {
                for _ in 0..6 {
                    let item = queue.get().await.unwrap();
                    taken.borrow_mut().push(item);
                    yield_now().await;
                }
            })
        })
        .collect();
    for task in producers.into_iter().chain(consumers) {
        task.await.unwrap();
    }
    taken.take()
}

fn run_seeded(seed: u64, policy: Policy) -> (Vec<u32>, ScheduleDigest) {
    let rt = Builder::new()
        .start_paused(true)
        .seed(seed)
        .policy(policy)
        .build();
    let taken = rt.block_on(busy_program());
    (taken, rt.schedule_digest().unwrap())
}

#[test]
fn the_same_seed_gives_the_same_schedule() {
    for policy in [Policy::Random, Policy::pct(3)] {
        for seed in [0, 1, 0xDEAD_BEEF] {
            let first = run_seeded(seed, policy);
            assert!(first.1.simulated());
            assert_eq!(first.0.len(), 12);
            for _ in 0..3 {
                assert_eq!(run_seeded(seed, policy), first, "seed {seed}, {policy:?}");
            }
        }
    }
}

#[test]
fn different_seeds_take_different_schedules() {
    for policy in [Policy::Random, Policy::pct(3)] {
        let digests: BTreeSet<u64> = (0..20)
            .map(|seed| run_seeded(seed, policy).1.hash())
            .collect();
        assert!(
            digests.len() >= 10,
            "{policy:?}: 20 seeds, {} schedules",
            digests.len()
        );
    }
}

#[test]
fn the_default_runtime_keeps_no_digest() {
    let rt = Builder::new().start_paused(true).build();
    rt.block_on(busy_program());
    assert_eq!(rt.schedule_digest(), None);
    assert!(rt.trace().is_none());
}

#[test]
fn timers_due_at_the_same_instant_fire_in_the_seeds_order() {
    let order = |seed| {
        let rt = Builder::new().start_paused(true).seed(seed).build();
        rt.block_on(async {
            let woke = Rc::new(RefCell::new(Vec::new()));
            let sleepers: Vec<_> = (0..5)
                .map(|i| {
                    let woke = woke.clone();
                    spawn(async move {
                        sleep(Duration::from_millis(50)).await;
                        woke.borrow_mut().push(i);
                    })
                })
                .collect();
            for sleeper in sleepers {
                sleeper.await.unwrap();
            }
            woke.take()
        })
    };
    let orders: BTreeSet<Vec<i32>> = (0..30).map(order).collect();
    assert!(orders.len() > 5, "{orders:?}");
    assert_eq!(order(7), order(7));
}

#[test]
fn real_io_leaves_the_simulation() {
    let rt = Builder::new().start_paused(true).seed(1).build();
    rt.block_on(async {
        let listener = weft_runtime::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        drop(listener);
    });
    let digest = rt.schedule_digest().unwrap();
    assert!(!digest.simulated());
    assert!(digest.to_string().contains("left the simulation"));
}

#[test]
fn a_seeded_runtime_reports_a_deadlock_instead_of_hanging() {
    let payload = catch_unwind(|| {
        let rt = Builder::new().start_paused(true).seed(3).build();
        rt.block_on(async {
            let stuck = spawn_named("stuck", async {
                sleep(Duration::from_millis(250)).await;
                pending::<()>().await;
            });
            stuck.await.unwrap();
        });
    })
    .unwrap_err();
    let report = weft_runtime::panic_message(&*payload).unwrap();
    assert!(report.starts_with("weft: deadlock:"), "{report}");
    assert!(report.contains("simulated time 250ms"), "{report}");
    assert!(
        report.contains("main future (task 1): waiting 250ms since its last poll"),
        "{report}"
    );
    assert!(
        report.contains("task 2 \"stuck\": waiting 0ns since its last poll, 2 polls"),
        "{report}"
    );
}

/// The events of a traced, seeded producer-consumer run.
fn traced_run() -> (weft_runtime::sim::trace::Trace, usize) {
    let rt = Builder::new()
        .start_paused(true)
        .seed(5)
        .trace(Recorder::steps())
        .build();
    let tasks = rt.block_on(async {
        let queue = Rc::new(Queue::new(1));
        let producer = {
            let queue = queue.clone();
            spawn_named("producer", async move {
                for i in 0..5 {
                    queue.put(i).await.unwrap();
                    sleep(Duration::from_millis(1)).await;
                }
            })
        };
        let consumer = spawn_named("consumer", async move {
            for _ in 0..5 {
                queue.get().await.unwrap();
            }
        });
        producer.await.unwrap();
        consumer.await.unwrap();
        2
    });
    (rt.trace().unwrap(), tasks)
}

#[test]
fn the_runtimes_trace_is_valid_json_with_paired_polls_and_an_svg_row_per_task() {
    let (trace, tasks) = traced_run();
    let kinds =
        |pred: fn(&EventKind) -> bool| trace.events().iter().filter(|e| pred(&e.kind)).count();
    // The main future shows as a task named "block_on".
    assert_eq!(kinds(|k| matches!(k, EventKind::Spawned { .. })), tasks + 1);
    assert!(kinds(|k| matches!(k, EventKind::TimerFired { .. })) >= 5);
    assert!(kinds(|k| matches!(k, EventKind::Wake { by: Some(_), .. })) > 0);
    assert!(kinds(|k| matches!(k, EventKind::Park)) > 0);

    let json: Value = serde_json::from_str(&trace.chrome_json()).unwrap();
    let mut open: BTreeMap<u64, i64> = BTreeMap::new();
    for event in json["traceEvents"].as_array().unwrap() {
        let tid = event["tid"].as_u64().unwrap_or(0);
        match event["ph"].as_str() {
            Some("B") => *open.entry(tid).or_default() += 1,
            Some("E") => {
                let depth = open.entry(tid).or_default();
                *depth -= 1;
                assert!(*depth >= 0, "an end without a begin on track {tid}");
            }
            _ => {}
        }
    }
    assert!(open.values().all(|&depth| depth == 0), "{open:?}");
    // The two tasks and the main future each have a track of polls (track
    // 0 is the runtime's own, with its parks).
    assert_eq!(open.keys().filter(|&&tid| tid != 0).count(), tasks + 1);

    let svg = trace.svg();
    assert_eq!(svg.matches("<g class=\"task\"").count(), tasks + 1);
    for name in ["producer", "consumer", "block_on"] {
        assert!(svg.contains(name), "no row for {name}");
    }
}
