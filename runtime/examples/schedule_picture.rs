//! A picture of a schedule: a producer-consumer program runs on a traced,
//! seeded runtime, and its events are written as Chrome trace JSON (open
//! it in <https://ui.perfetto.dev> or `chrome://tracing`) and as an SVG
//! timeline (open it in a browser).
//!
//! ```text
//! cargo run -p weft-runtime --features sim --example schedule_picture -- [OUT] [SEED]
//! ```
//!
//! `OUT` is the path without extension (default `target/schedule`): the
//! example writes `OUT.json` and `OUT.svg`. `SEED` (default 1) chooses the
//! schedule; the same seed draws the same picture. The program: two
//! producers put five jobs each into a queue of two slots, with a
//! millisecond between jobs; two consumers take them and spend two
//! milliseconds on each. The queue's waits, the timers and the seed's
//! choices all show in the picture.

use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use weft_primitives::Queue;
use weft_runtime::sim::trace::Recorder;
use weft_runtime::{sleep, spawn_named, Builder};

async fn producer(queue: Rc<Queue<u32>>, first: u32) {
    for job in first..first + 5 {
        queue.put(job).await.expect("the queue is never shut down");
        sleep(Duration::from_millis(1)).await;
    }
}

async fn consumer(queue: Rc<Queue<u32>>, jobs: usize) -> u32 {
    let mut sum = 0;
    for _ in 0..jobs {
        sum += queue.get().await.expect("the queue is never shut down");
        sleep(Duration::from_millis(2)).await;
    }
    sum
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "target/schedule".into()));
    let seed = match args.next() {
        Some(seed) => seed.parse().expect("SEED must be a number"),
        None => 1,
    };

    let rt = Builder::new()
        .start_paused(true)
        .seed(seed)
        .trace(Recorder::steps())
        .build();
    let total = rt.block_on(async {
        let queue = Rc::new(Queue::new(2));
        let producers = [
            spawn_named("producer a", producer(queue.clone(), 0)),
            spawn_named("producer b", producer(queue.clone(), 100)),
        ];
        let consumers = [
            spawn_named("consumer 1", consumer(queue.clone(), 5)),
            spawn_named("consumer 2", consumer(queue, 5)),
        ];
        for producer in producers {
            producer.await.expect("producers do not panic");
        }
        let mut total = 0;
        for consumer in consumers {
            total += consumer.await.expect("consumers do not panic");
        }
        total
    });
    assert_eq!(total, (0..5).sum::<u32>() + (100..105).sum::<u32>());

    let trace = rt.trace().expect("the runtime was built with a recorder");
    let digest = rt
        .schedule_digest()
        .expect("a seeded runtime keeps a digest");
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let (json, svg) = (out.with_extension("json"), out.with_extension("svg"));
    std::fs::write(&json, trace.chrome_json())?;
    std::fs::write(&svg, trace.svg())?;
    println!(
        "schedule_picture: seed {seed}, {} events, schedule {digest}",
        trace.events().len()
    );
    println!("wrote {} and {}", json.display(), svg.display());
    Ok(())
}
