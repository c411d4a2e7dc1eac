//! Floors of the queue rows: a `VecDeque` with the row's capacity is the
//! bounded ring buffer. Producers take turns filling it until it is full,
//! consumers take turns draining it until it is empty, which is the order
//! a bounded queue between tasks on one thread settles into.

use std::collections::VecDeque;

use crate::workloads::{expect_eq, Verified};

/// queue_spsc's floor: 1..=`items` through a ring of `capacity`, checked
/// in FIFO order.
///
/// ```
/// assert!(weft_benches::floor::queue_spsc(8, 100).is_ok());
/// ```
pub fn queue_spsc(capacity: u64, items: u64) -> Verified {
    let mut ring = VecDeque::with_capacity(capacity as usize);
    let (mut next_put, mut expected) = (1, 1);
    while expected <= items {
        while next_put <= items && ring.len() < capacity as usize {
            ring.push_back(next_put);
            next_put += 1;
        }
        while let Some(item) = ring.pop_front() {
            expect_eq("next item in FIFO order", expected, item)?;
            expected += 1;
        }
    }
    Ok(())
}

/// queue_mpmc's floor: `tasks` producers, each with its slice of
/// 1..=`items`, fill a ring of `capacity` in turn; `tasks` consumers drain
/// it in turn; the items received are counted and summed.
///
/// ```
/// assert!(weft_benches::floor::queue_mpmc(8, 4, 100).is_ok());
/// ```
pub fn queue_mpmc(capacity: u64, tasks: u64, items: u64) -> Verified {
    let capacity = capacity as usize;
    let per_producer = items / tasks;
    // Each producer's next item and its last, as the workload splits them.
    let mut producers: Vec<(u64, u64)> = (0..tasks)
        .map(|p| {
            let last = if p + 1 == tasks {
                items
            } else {
                (p + 1) * per_producer
            };
            (p * per_producer + 1, last)
        })
        .collect();
    let mut ring = VecDeque::with_capacity(capacity);
    let mut received = vec![(0u64, 0u64); tasks as usize];
    let (mut put, mut taken) = (0, 0);
    while taken < items {
        for (next, last) in producers.iter_mut() {
            while *next <= *last && ring.len() < capacity {
                ring.push_back(*next);
                *next += 1;
                put += 1;
            }
        }
        // The consumers take the items in turn, one each.
        let mut consumer = 0;
        while let Some(item) = ring.pop_front() {
            let (count, sum) = &mut received[consumer];
            *count += 1;
            *sum += item;
            taken += 1;
            consumer = (consumer + 1) % received.len();
        }
    }
    let count: u64 = received.iter().map(|(count, _)| count).sum();
    let sum: u64 = received.iter().map(|(_, sum)| sum).sum();
    expect_eq("items put", items, put)?;
    expect_eq("items received", items, count)?;
    expect_eq("sum of items received", items * (items + 1) / 2, sum)
}
