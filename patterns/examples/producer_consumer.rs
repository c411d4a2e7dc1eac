//! The producer-consumer programs of the asyncio tutorials, in weft.
//!
//! 1. One producer, three consumers, a bounded queue: the consumers stop
//!    when the queue is shut down and drained, not on a `None` sentinel
//!    that each consumer must pass on.
//! 2. Three producers and five consumers, as a [`Pipeline`]: the tutorial
//!    guessed when the producers were done (`sleep(n * 0.05 + 1)`, then a
//!    sentinel); here the program awaits them, closes the pipeline, and
//!    `finish` returns once every item was processed.
//!
//! Sleeps are a tenth of the tutorial's so that the example runs quickly.
//!
//! ```text
//! cargo run -p weft-patterns --example producer_consumer
//! ```

use std::rc::Rc;
use std::time::Duration;

use weft_patterns::pipeline::Pipeline;
use weft_primitives::Queue;
use weft_runtime::{join_all, sleep, spawn, time};

/// A unit of work, as in the tutorial.
#[derive(Debug)]
struct Task {
    id: u32,
    data: String,
}

/// An item of the multi-producer system.
#[derive(Debug)]
struct WorkItem {
    producer_id: u32,
    item_id: u32,
    payload: String,
}

fn main() {
    weft_runtime::run(async {
        basic().await;
        println!();
        many_producers_many_consumers().await;
    });
}

async fn basic() {
    println!("== one producer, three consumers, Queue(maxsize=10)");
    let queue = Rc::new(Queue::new(10));
    let consumers: Vec<_> = (0..3)
        .map(|consumer_id| {
            let queue = queue.clone();
            spawn(async move {
                let mut processed = 0;
                // `items()` ends when the queue is shut down and drained.
                let mut tasks = queue.items();
                while let Some(task) = tasks.next().await {
                    let Task { id, data } = task;
                    println!("Consumer {consumer_id} processing: {id} ({data})");
                    sleep(Duration::from_millis(20)).await;
                    processed += 1;
                    queue.task_done().expect("one task_done per task");
                }
                processed
            })
        })
        .collect();

    for id in 0..20 {
        let task = Task {
            id,
            data: format!("data_{id}"),
        };
        queue.put(task).await.expect("the queue is open");
        println!("Produced: {id}");
        sleep(Duration::from_millis(10)).await;
    }
    queue.join().await; // every task processed
    queue.shutdown(false); // the consumers' loops end
    let per_consumer: Vec<u32> = join_all(consumers)
        .await
        .into_iter()
        .map(|processed| processed.expect("a consumer does not panic"))
        .collect();
    println!("Each consumer processed {per_consumer:?} tasks");
}

async fn many_producers_many_consumers() {
    println!("== three producers, five consumers, a pipeline of capacity 100");
    let started = time::now();
    let pipeline = Pipeline::builder(100)
        .stage("process", 5, 100, |item: WorkItem| async move {
            sleep(Duration::from_millis(10)).await; // simulate processing
            Ok::<_, String>((item, true))
        })
        .build()
        .expect("valid settings");

    let outputs = pipeline.outputs();
    let collector = spawn(async move {
        let mut results = Vec::new();
        while let Some(result) = outputs.next().await {
            results.push(result);
        }
        results
    });
    let producers: Vec<_> = (0..3)
        .map(|producer_id| {
            let producer = pipeline.producer();
            spawn(async move {
                for item_id in 0..10 {
                    let item = WorkItem {
                        producer_id,
                        item_id,
                        payload: format!("data_{producer_id}_{item_id}"),
                    };
                    producer.put(item).await.expect("the pipeline is open");
                    sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect();
    join_all(producers).await;

    let report = pipeline.finish().await;
    let results = collector.await.expect("the collector does not panic");
    let (last, processed) = results.last().expect("items went through");
    println!(
        "last result: producer {} item {} ({}), processed: {processed}",
        last.producer_id, last.item_id, last.payload
    );
    println!(
        "Processed {} items in {:?} ({} failed)",
        results.len(),
        time::now() - started,
        report.errors.len()
    );
}
