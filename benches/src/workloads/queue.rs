//! queue_spsc and queue_mpmc: items through a bounded queue.
//!
//! spsc: one producer puts 1..=N, one consumer takes N items and checks
//! that each is the next number (FIFO, nothing lost, nothing doubled). It
//! stops at the first wrong item.
//!
//! mpmc: P producers each put their own slice of 1..=N; C consumers take
//! items until each meets a 0, the stop mark. Once every producer is done
//! the main task puts C stop marks; in a FIFO queue they come after every
//! item, so each consumer stops after the real items are gone. The items
//! received are counted and summed: the count must be N and the sum
//! N(N+1)/2.
//!
//! ```text
//!   producer 0 ─┐                ┌─▶ consumer 0 ─┐
//!   producer 1 ─┼─▶ queue (1024) ┼─▶ consumer 1 ─┼─▶ count, sum
//!      …        │                │      …        │
//!   main: join producers, then put one 0 per consumer
//! ```

use super::{expect_eq, Verified};
use crate::adapters::BoundedQueue;
use crate::runtimes::BenchRuntime;

/// The item that tells a consumer to stop; real items are 1..=N.
const STOP: u64 = 0;

/// One producer, one consumer, `items` items through queue `Q` of
/// `capacity`.
///
/// ```
/// use weft_benches::adapters::Mpsc;
/// use weft_benches::runtimes::{BenchRuntime, Tokio};
/// use weft_benches::workloads::queue_spsc;
///
/// let rt = Tokio::new();
/// assert!(rt.block_on(queue_spsc::<Tokio, Mpsc>(&rt, 8, 100)).is_ok());
/// ```
pub async fn queue_spsc<R: BenchRuntime, Q: BoundedQueue>(
    rt: &R,
    capacity: u64,
    items: u64,
) -> Verified {
    let (sender, mut receiver) = Q::bounded(capacity as usize);
    let producer = rt.spawn(async move {
        for item in 1..=items {
            Q::send(&sender, item).await;
        }
    });
    let consumer = rt.spawn(async move {
        for expected in 1..=items {
            let item = Q::recv(&mut receiver).await;
            expect_eq("next item in FIFO order", expected, item)?;
        }
        Ok(())
    });
    // A consumer that found a wrong item stops early, and the producer may
    // then wait for room forever: report at once (dropping the runtime
    // ends the stuck producer).
    consumer.await?;
    producer.await;
    Ok(())
}

/// `tasks` producers and `tasks` consumers, `items` items through queue `Q`
/// of `capacity`.
///
/// ```
/// use weft_benches::adapters::AsyncChannel;
/// use weft_benches::runtimes::{BenchRuntime, Smol};
/// use weft_benches::workloads::queue_mpmc;
///
/// let rt = Smol::new();
/// assert!(rt.block_on(queue_mpmc::<Smol, AsyncChannel>(&rt, 8, 4, 100)).is_ok());
/// ```
pub async fn queue_mpmc<R: BenchRuntime, Q: BoundedQueue>(
    rt: &R,
    capacity: u64,
    tasks: u64,
    items: u64,
) -> Verified
where
    Q::Receiver: Clone,
{
    let (sender, receiver) = Q::bounded(capacity as usize);
    let consumers: Vec<_> = (0..tasks)
        .map(|_| {
            let mut receiver = receiver.clone();
            rt.spawn(async move {
                let (mut count, mut sum) = (0, 0);
                loop {
                    match Q::recv(&mut receiver).await {
                        STOP => return (count, sum),
                        item => {
                            count += 1;
                            sum += item;
                        }
                    }
                }
            })
        })
        .collect();
    let per_producer = items / tasks;
    let producers: Vec<_> = (0..tasks)
        .map(|p| {
            let sender = sender.clone();
            // The last producer also takes the remainder of the division.
            let last = if p + 1 == tasks {
                items
            } else {
                (p + 1) * per_producer
            };
            rt.spawn(async move {
                for item in p * per_producer + 1..=last {
                    Q::send(&sender, item).await;
                }
            })
        })
        .collect();
    for producer in producers {
        producer.await;
    }
    for _ in 0..tasks {
        Q::send(&sender, STOP).await;
    }
    let (mut count, mut sum) = (0, 0);
    for consumer in consumers {
        let (c, s) = consumer.await;
        count += c;
        sum += s;
    }
    expect_eq("items received", items, count)?;
    expect_eq("sum of items received", items * (items + 1) / 2, sum)
}
