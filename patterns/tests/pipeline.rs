//! Tests of producer-consumer pipelines, on the paused clock.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use weft_patterns::pipeline::{InvalidPipeline, ItemFailure, Pipeline};
use weft_primitives::{Event, PutError};
use weft_runtime::{join_all, sleep, spawn, time, yield_now};
use weft_tests::{paused, poll_once, DropFlag, WakeCounter};

#[test]
fn many_producers_and_workers_process_every_item_exactly_once() {
    paused(async {
        let pipeline = Pipeline::builder(4)
            .stage("work", 5, 4, |(producer, item): (u32, u32)| async move {
                sleep(Duration::from_millis(u64::from(item % 3) + 1)).await;
                Ok::<_, ()>(producer * 1000 + item)
            })
            .stage("tag", 2, 4, |n| async move { Ok(n + 1_000_000) })
            .build()
            .unwrap();
        let producers: Vec<_> = (0..3)
            .map(|producer_id| {
                let producer = pipeline.producer();
                spawn(async move {
                    for item in 0..10 {
                        producer.put((producer_id, item)).await.unwrap();
                        sleep(Duration::from_millis(1)).await;
                    }
                })
            })
            .collect();
        let outputs = pipeline.outputs();
        let consumer = spawn(async move {
            let mut seen = Vec::new();
            while let Some(n) = outputs.next().await {
                seen.push(n);
            }
            seen
        });
        for producer in join_all(producers).await {
            producer.unwrap();
        }
        let report = pipeline.finish().await;
        let mut seen = consumer.await.unwrap();
        seen.sort_unstable();
        let expected: Vec<u32> = (0..3)
            .flat_map(|p| (0..10).map(move |i| 1_000_000 + p * 1000 + i))
            .collect();
        assert_eq!(seen, expected);
        assert!(report.errors.is_empty());
        assert_eq!(report.stages[0].succeeded, 30);
        assert_eq!(report.stages[1].succeeded, 30);
    });
}

#[test]
fn one_worker_per_stage_keeps_the_order() {
    paused(async {
        let pipeline = Pipeline::builder(2)
            .stage("a", 1, 2, |n: u32| async move { Ok::<_, ()>(n * 10) })
            .stage("b", 1, 16, |n| async move {
                yield_now().await;
                Ok(n + 1)
            })
            .build()
            .unwrap();
        let producer = pipeline.producer();
        for n in 0..8 {
            producer.put(n).await.unwrap();
        }
        pipeline.join().await;
        let outputs = pipeline.outputs();
        pipeline.finish().await;
        let mut results = Vec::new();
        while let Some(n) = outputs.next().await {
            results.push(n);
        }
        assert_eq!(results, [1, 11, 21, 31, 41, 51, 61, 71]);
    });
}

#[test]
fn bounded_queues_push_back_on_the_producers() {
    paused(async {
        let gate = Arc::new(Event::new());
        let started = Rc::new(Cell::new(0));
        let pipeline = Pipeline::builder(3)
            .stage("held", 2, 8, {
                let (gate, started) = (gate.clone(), started.clone());
                move |n: u32| {
                    let (gate, started) = (gate.clone(), started.clone());
                    async move {
                        started.set(started.get() + 1);
                        gate.wait().await;
                        Ok::<_, ()>(n)
                    }
                }
            })
            .build()
            .unwrap();
        let producer = pipeline.producer();
        let mut accepted = 0;
        while producer.try_put(accepted).is_ok() {
            accepted += 1;
            yield_now().await; // let the workers take what they can
        }
        // Two items held by the two workers, three waiting in the queue.
        assert_eq!(accepted, 5);
        assert_eq!(started.get(), 2);
        assert!(matches!(producer.try_put(99), Err(PutError::Full(99))));

        let blocked = spawn({
            let producer = producer.clone();
            async move { producer.put(100).await }
        });
        yield_now().await;
        assert!(!blocked.is_finished(), "a full queue makes put wait");
        gate.set();
        blocked.await.unwrap().unwrap();
        pipeline.join().await;
        let report = pipeline.finish().await;
        assert_eq!(report.stages[0].succeeded, 6);
    });
}

#[test]
fn a_failing_item_is_reported_and_its_worker_goes_on() {
    paused(async {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let pipeline = Pipeline::builder(4)
            .stage("check", 1, 4, |n: u32| async move {
                match n {
                    3 => Err(format!("{n} is unlucky")),
                    5 => panic!("{n} broke the stage"),
                    _ => Ok(n),
                }
            })
            .stage("half", 1, 16, |n| async move {
                if n % 2 == 0 {
                    Ok(n / 2)
                } else {
                    Err(format!("{n} is odd"))
                }
            })
            .build()
            .unwrap();
        let producer = pipeline.producer();
        for n in 0..8 {
            producer.put(n).await.unwrap();
        }
        pipeline.join().await;
        std::panic::set_hook(hook);
        let early = pipeline.take_errors();
        assert_eq!(early.len(), 4);
        let outputs = pipeline.outputs();
        let report = pipeline.finish().await;
        assert!(report.errors.is_empty(), "already taken");
        let mut messages: Vec<String> = early
            .iter()
            .map(|e| match &e.failure {
                ItemFailure::Error(message) => format!("{}: {message}", e.stage),
                ItemFailure::Panicked(message) => format!("{} panicked: {message}", e.stage),
            })
            .collect();
        messages.sort();
        assert_eq!(
            messages,
            [
                "check panicked: 5 broke the stage",
                "check: 3 is unlucky",
                "half: 1 is odd",
                "half: 7 is odd",
            ]
        );
        let mut halves = Vec::new();
        while let Some(n) = outputs.next().await {
            halves.push(n);
        }
        assert_eq!(halves, [0, 1, 2, 3]);
        assert_eq!(
            (report.stages[0].succeeded, report.stages[0].failed),
            (6, 2)
        );
        assert_eq!(
            (report.stages[1].succeeded, report.stages[1].failed),
            (4, 2)
        );
    });
}

#[test]
fn join_waits_for_everything_and_leaves_the_pipeline_open() {
    paused(async {
        let done = Rc::new(RefCell::new(Vec::new()));
        let pipeline = Pipeline::builder(2)
            .stage("slow", 2, 2, |n: u64| async move {
                sleep(Duration::from_millis(10 * n)).await;
                Ok::<_, ()>(n)
            })
            .sink("record", 1, {
                let done = done.clone();
                move |n| {
                    let done = done.clone();
                    async move {
                        done.borrow_mut().push(n);
                        Ok(())
                    }
                }
            })
            .build()
            .unwrap();
        let start = time::now();
        for n in [3, 1, 2] {
            pipeline.producer().put(n).await.unwrap();
        }
        pipeline.join().await;
        assert_eq!(done.borrow().len(), 3);
        // 3 and 1 start at once; 2 starts when 1 ends (10 ms), ends at 30 ms.
        assert_eq!(time::now() - start, Duration::from_millis(30));

        pipeline.producer().put(4).await.unwrap();
        pipeline.join().await;
        assert_eq!(*done.borrow(), [1, 3, 2, 4]);
        assert!(
            pipeline.outputs().next().await.is_none(),
            "a sink yields nothing"
        );
        pipeline.finish().await;
    });
}

#[test]
fn close_stops_the_producers_and_drains_the_stages() {
    paused(async {
        let pipeline = Pipeline::builder(1)
            .stage("slow", 1, 8, |n: u32| async move {
                sleep(Duration::from_millis(10)).await;
                Ok::<_, ()>(n)
            })
            .build()
            .unwrap();
        let producer = pipeline.producer();
        producer.put(1).await.unwrap();
        yield_now().await; // the worker takes 1
        producer.put(2).await.unwrap(); // fills the input queue
        let blocked = spawn({
            let producer = producer.clone();
            async move { producer.put(3).await }
        });
        yield_now().await;
        pipeline.close();
        assert_eq!(blocked.await.unwrap().unwrap_err().into_inner(), 3);
        assert!(matches!(producer.try_put(4), Err(PutError::ShutDown(4))));

        let outputs = pipeline.outputs();
        let report = pipeline.finish().await;
        assert_eq!(
            report.stages[0].succeeded, 2,
            "what was queued went through"
        );
        assert_eq!(outputs.next().await, Some(1));
        assert_eq!(outputs.next().await, Some(2));
        assert_eq!(outputs.next().await, None);
    });
}

#[test]
fn a_dropped_put_leaks_no_queue_slot() {
    paused(async {
        let gate = Arc::new(Event::new());
        let pipeline = Pipeline::builder(1)
            .stage("held", 1, 8, {
                let gate = gate.clone();
                move |n: u32| {
                    let gate = gate.clone();
                    async move {
                        gate.wait().await;
                        Ok::<_, ()>(n)
                    }
                }
            })
            .build()
            .unwrap();
        let producer = pipeline.producer();
        producer.put(1).await.unwrap();
        yield_now().await; // held by the worker
        producer.put(2).await.unwrap(); // fills the queue

        let mut put = Box::pin(producer.put(3));
        assert!(poll_once(put.as_mut(), &WakeCounter::new()).is_pending());
        drop(put); // item 3 is dropped, unqueued

        assert!(matches!(producer.try_put(4), Err(PutError::Full(4))));
        gate.set();
        pipeline.join().await;
        producer.try_put(5).unwrap();
        let outputs = pipeline.outputs();
        let report = pipeline.finish().await;
        assert_eq!(report.stages[0].succeeded, 3);
        let mut results = Vec::new();
        while let Some(n) = outputs.next().await {
            results.push(n);
        }
        assert_eq!(results, [1, 2, 5]);
    });
}

#[test]
fn a_dropped_next_loses_no_result() {
    paused(async {
        let pipeline = Pipeline::builder(4)
            .stage("slow", 1, 4, |n: u32| async move {
                sleep(Duration::from_millis(10)).await;
                Ok::<_, ()>(n)
            })
            .build()
            .unwrap();
        let outputs = pipeline.outputs();
        let mut next = Box::pin(outputs.next());
        assert!(poll_once(next.as_mut(), &WakeCounter::new()).is_pending());
        pipeline.producer().put(7).await.unwrap();
        sleep(Duration::from_millis(20)).await; // 7 is handed to the waiting `next`
        drop(next);
        assert_eq!(outputs.next().await, Some(7), "handed on, not lost");
    });
}

#[test]
fn dropping_the_pipeline_aborts_its_workers() {
    paused(async {
        let in_flight = Rc::new(Cell::new(false));
        let pipeline = Pipeline::builder(4)
            .stage("stuck", 1, 4, {
                let in_flight = in_flight.clone();
                move |_: u32| {
                    let flag = DropFlag(in_flight.clone());
                    async move {
                        let _flag = flag;
                        std::future::pending::<()>().await;
                        Ok::<u32, ()>(0)
                    }
                }
            })
            .build()
            .unwrap();
        pipeline.producer().put(1).await.unwrap();
        yield_now().await;
        assert!(!in_flight.get());
        drop(pipeline);
        yield_now().await;
        assert!(in_flight.get(), "the item in flight was dropped");
    });
}

#[test]
fn invalid_settings_are_errors() {
    paused(async {
        let zero_input = Pipeline::<u32, u32, ()>::builder(0).build().unwrap_err();
        assert_eq!(zero_input, InvalidPipeline::ZeroCapacity { stage: None });
        assert_eq!(
            zero_input.to_string(),
            "the input queue needs room for at least one item"
        );
        let zero_output = Pipeline::<u32, u32, ()>::builder(1)
            .stage("a", 1, 0, |n| async move { Ok(n) })
            .build()
            .unwrap_err();
        assert_eq!(
            zero_output,
            InvalidPipeline::ZeroCapacity {
                stage: Some("a".into())
            }
        );
        let no_workers = Pipeline::<u32, u32, ()>::builder(1)
            .sink("s", 0, |_| async { Ok(()) })
            .build()
            .unwrap_err();
        assert_eq!(no_workers, InvalidPipeline::NoWorkers { stage: "s".into() });
    });
}
