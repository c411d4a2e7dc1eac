//! The asyncio tutorial's worker pool, in weft: five workers, twenty jobs
//! that upper-case a string, a graceful shutdown, then every job's result.
//!
//! The tutorial's workers polled the queue with a one-second timeout, kept
//! results in a dict to be fetched by id, and stopped on `None` sentinels.
//! Here each `submit` returns a handle that awaits that job's own result,
//! the workers sleep until a job arrives, and `shutdown` closes the queue
//! and enforces a deadline in one call.
//!
//! Sleeps are a tenth of the tutorial's so that the example runs quickly.
//!
//! ```text
//! cargo run -p weft-patterns --example worker_pool
//! ```

use std::time::Duration;

use weft_patterns::worker_pool::WorkerPool;
use weft_runtime::sleep;

async fn process_data(data: String) -> String {
    sleep(Duration::from_millis(10)).await;
    data.to_uppercase()
}

fn main() {
    weft_runtime::run(async {
        let pool = WorkerPool::builder()
            .workers(5)
            .queue_capacity(100)
            .build()
            .expect("valid settings");

        let mut handles = Vec::new();
        for i in 0..20 {
            let handle = pool
                .submit(process_data(format!("item_{i}")))
                .await
                .expect("the pool is open");
            handles.push(handle);
        }

        let report = pool.shutdown(Duration::from_secs(5)).await;

        for (i, handle) in handles.into_iter().enumerate() {
            match handle.await {
                Ok(result) => println!("Job {i}: {{'status': 'success', 'result': {result:?}}}"),
                Err(error) => println!("Job {i}: {{'status': 'error', 'error': \"{error}\"}}"),
            }
        }
        println!("pool: {report}");
    });
}
