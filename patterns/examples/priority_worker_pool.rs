//! The asyncio tutorial's priority worker pool, in weft: three workers, ten
//! jobs with random priorities (1 is the most urgent) and random durations;
//! each job prints what it did, and the program prints how many jobs ran
//! and how long it took.
//!
//! All jobs are queued before the workers take any, as in the tutorial, so
//! they start in priority order (equal priorities in submission order).
//! Durations are a tenth of the tutorial's (10-50 ms) so that the example
//! runs quickly.
//!
//! ```text
//! cargo run -p weft-patterns --example priority_worker_pool
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use weft_patterns::worker_pool::WorkerPool;
use weft_runtime::{sleep, time};

/// A unit of work to process.
struct Job {
    id: u32,
    data: String,
    priority: i32,
}

/// A small xorshift generator: enough randomness for an example, without a
/// dependency.
struct Random(u64);

impl Random {
    fn from_clock() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |since| since.as_nanos() as u64);
        Random(nanos | 1)
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        low + self.0 % (high - low + 1)
    }
}

async fn process(job: Job, delay: Duration) -> String {
    sleep(delay).await;
    format!(
        "[P{}] Job#{} '{}' ({:.3}s)",
        job.priority,
        job.id,
        job.data,
        delay.as_secs_f64()
    )
}

fn main() {
    let mut random = Random::from_clock();
    weft_runtime::run(async move {
        let pool = WorkerPool::builder()
            .workers(3)
            .queue_capacity(10)
            .build()
            .expect("valid settings");
        let start = time::now();

        let mut handles = Vec::new();
        for id in 0..10 {
            let job = Job {
                id,
                data: format!("task-{id}"),
                priority: random.between(1, 5) as i32,
            };
            let priority = job.priority;
            let delay = Duration::from_millis(random.between(10, 50));
            let handle = pool
                .submit_with_priority(priority, process(job, delay))
                .await
                .expect("the pool is open");
            handles.push(handle);
        }

        // Print each line as its job finishes, like the tutorial's workers.
        let mut finished = weft_runtime::as_completed(handles);
        let mut results = Vec::new();
        while let Some(result) = finished.next().await {
            let line = result.expect("the jobs neither panic nor get cancelled");
            println!("{line}");
            results.push(line);
        }
        pool.shutdown(Duration::from_secs(1)).await;
        let elapsed = time::now() - start;
        println!(
            "\nProcessed {} jobs in {:.2}s",
            results.len(),
            elapsed.as_secs_f64()
        );
    });
}
