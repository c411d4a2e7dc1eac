//! `Queue`, `LifoQueue` and `PriorityQueue` against asyncio's semantics
//! (3.13 shutdown included), FIFO fairness and no overtaking, cancellation at
//! every await point, and many producers and consumers on plain threads and on
//! tokio's multi-thread runtime.

mod alloc_count;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use weft_primitives::queue::QueueStorage;
use weft_primitives::{
    GenericQueue, GetError, LifoQueue, PriorityQueue, PutError, Queue, QueueShutDown, TaskDoneError,
};
use weft_tests::{poll_once, WakeCounter};

#[global_allocator]
static ALLOC: alloc_count::CountingAlloc = alloc_count::CountingAlloc;

/// Polls an `Unpin` future once with `counter`'s waker.
fn poll<F: Future + Unpin>(fut: &mut F, counter: &WakeCounter) -> Poll<F::Output> {
    poll_once(Pin::new(fut), counter)
}

/// An item that counts how many of its kind were dropped.
#[derive(Debug)]
struct Tracked {
    id: u32,
    drops: Arc<AtomicUsize>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn tracked(drops: &Arc<AtomicUsize>, id: u32) -> Tracked {
    Tracked {
        id,
        drops: drops.clone(),
    }
}

fn drain<T, S: QueueStorage<T>>(queue: &GenericQueue<T, S>) -> Vec<T> {
    std::iter::from_fn(|| queue.get_nowait().ok()).collect()
}

// ------------------------------------------------------------ basics --

#[test]
fn the_three_orders() {
    let fifo = Queue::new(0);
    let lifo = LifoQueue::new(0);
    let priority = PriorityQueue::new(0);
    for n in [3, 1, 2] {
        fifo.put_nowait(n).unwrap();
        lifo.put_nowait(n).unwrap();
        priority.put_nowait(n).unwrap();
    }
    assert_eq!(drain(&fifo), [3, 1, 2]);
    assert_eq!(drain(&lifo), [2, 1, 3]);
    assert_eq!(drain(&priority), [1, 2, 3]);
}

#[test]
fn priority_queue_orders_tuples_like_heapq() {
    let queue = PriorityQueue::new(0);
    for entry in [(2, "b"), (1, "z"), (1, "a"), (0, "x")] {
        futures::executor::block_on(queue.put(entry)).unwrap();
    }
    assert_eq!(drain(&queue), [(0, "x"), (1, "a"), (1, "z"), (2, "b")]);
}

#[test]
fn sizes_full_and_empty() {
    let queue = Queue::new(2);
    assert_eq!((queue.maxsize(), queue.qsize()), (2, 0));
    assert!(queue.empty() && !queue.full());
    queue.put_nowait('a').unwrap();
    queue.put_nowait('b').unwrap();
    assert!(queue.full() && !queue.empty());
    assert_eq!(queue.qsize(), 2);
    let unbounded = Queue::new(0);
    for n in 0..1000 {
        unbounded.put_nowait(n).unwrap();
    }
    assert!(!unbounded.full());
}

#[test]
fn nowait_errors_hand_the_item_back() {
    let queue = Queue::new(1);
    assert_eq!(queue.get_nowait(), Err(GetError::Empty));
    queue.put_nowait(String::from("kept")).unwrap();
    match queue.put_nowait(String::from("returned")) {
        Err(PutError::Full(item)) => assert_eq!(item, "returned"),
        other => panic!("expected Full, got {other:?}"),
    }
    assert_eq!(PutError::Full(5).to_string(), "queue is full");
    assert_eq!(GetError::Empty.to_string(), "queue is empty");
    assert_eq!(queue.get_nowait().unwrap(), "kept");
}

#[test]
fn put_waits_for_room_and_get_waits_for_an_item() {
    let queue = Queue::new(1);
    let (put_counter, get_counter) = (WakeCounter::new(), WakeCounter::new());
    queue.put_nowait(1).unwrap();
    let mut put = queue.put(2);
    assert!(poll(&mut put, &put_counter).is_pending());
    assert_eq!(queue.get_nowait(), Ok(1));
    assert_eq!(put_counter.count(), 1);
    assert_eq!(poll(&mut put, &put_counter), Poll::Ready(Ok(())));
    assert_eq!(queue.get_nowait(), Ok(2));

    let mut get = queue.get();
    assert!(poll(&mut get, &get_counter).is_pending());
    queue.put_nowait(3).unwrap();
    assert_eq!(get_counter.count(), 1);
    assert_eq!(poll(&mut get, &get_counter), Poll::Ready(Ok(3)));
}

// ------------------------------------------------ task_done and join --

#[test]
fn task_done_counts_puts_and_refuses_one_call_too_many() {
    let queue = Queue::new(0);
    let error = queue.task_done().unwrap_err();
    assert_eq!(error, TaskDoneError);
    assert_eq!(error.to_string(), "task_done() called too many times");
    queue.put_nowait(1).unwrap();
    queue.put_nowait(2).unwrap();
    // asyncio counts puts, not gets: two task_done calls are allowed already.
    assert!(queue.task_done().is_ok());
    assert!(queue.task_done().is_ok());
    assert_eq!(queue.task_done(), Err(TaskDoneError));
}

#[test]
fn join_waits_until_every_put_item_is_done() {
    let queue = Queue::new(0);
    let counter = WakeCounter::new();
    assert_eq!(poll(&mut queue.join(), &counter), Poll::Ready(()));
    queue.put_nowait(1).unwrap();
    queue.put_nowait(2).unwrap();
    let mut joins: Vec<_> = (0..2).map(|_| queue.join()).collect();
    for join in &mut joins {
        assert!(poll(join, &counter).is_pending());
    }
    queue.get_nowait().unwrap();
    queue.task_done().unwrap();
    assert_eq!(counter.count(), 0);
    queue.get_nowait().unwrap();
    queue.task_done().unwrap();
    assert_eq!(counter.count(), 2);
    for join in &mut joins {
        assert_eq!(poll(join, &counter), Poll::Ready(()));
    }
}

#[test]
fn join_released_then_new_put_does_not_hold_back_the_released_joiner() {
    let queue = Queue::new(0);
    let counter = WakeCounter::new();
    queue.put_nowait(1).unwrap();
    let mut join = queue.join();
    assert!(poll(&mut join, &counter).is_pending());
    queue.task_done().unwrap();
    queue.put_nowait(2).unwrap(); // unfinished again, but the grant stands
    assert_eq!(poll(&mut join, &counter), Poll::Ready(()));
}

#[test]
fn dropped_join_futures_free_their_place() {
    let queue = Queue::new(0);
    let counter = WakeCounter::new();
    queue.put_nowait(1).unwrap();
    let mut gone = queue.join();
    assert!(poll(&mut gone, &WakeCounter::new()).is_pending());
    drop(gone);
    let mut released = queue.join();
    assert!(poll(&mut released, &WakeCounter::new()).is_pending());
    let mut stays = queue.join();
    assert!(poll(&mut stays, &counter).is_pending());
    queue.task_done().unwrap();
    drop(released); // released, never ran
    assert_eq!(counter.count(), 1);
    assert_eq!(poll(&mut stays, &counter), Poll::Ready(()));
}

// ---------------------------------------------------------- shutdown --

#[test]
fn shutdown_refuses_puts_and_lets_gets_drain() {
    let queue = Queue::new(0);
    queue.put_nowait(1).unwrap();
    queue.put_nowait(2).unwrap();
    queue.shutdown(false);
    assert!(queue.is_shut_down());
    assert!(matches!(queue.put_nowait(3), Err(PutError::ShutDown(3))));
    let QueueShutDown(item) = futures::executor::block_on(queue.put(4)).unwrap_err();
    assert_eq!(item, 4);
    assert_eq!(futures::executor::block_on(queue.get()), Ok(1));
    assert_eq!(queue.get_nowait(), Ok(2));
    assert_eq!(queue.get_nowait(), Err(GetError::ShutDown));
    assert_eq!(
        futures::executor::block_on(queue.get()),
        Err(QueueShutDown(()))
    );
    assert_eq!(QueueShutDown(()).to_string(), "queue is shut down");
    // Items got before or after the shutdown are still task_done'd.
    queue.task_done().unwrap();
    queue.task_done().unwrap();
    futures::executor::block_on(queue.join());
}

#[test]
fn shutdown_fails_blocked_putters_with_their_items_and_blocked_getters() {
    let full = Queue::new(1);
    full.put_nowait(String::from("stored")).unwrap();
    let counter = WakeCounter::new();
    let mut putters: Vec<_> = ["p1", "p2"].map(|s| full.put(String::from(s))).into();
    for put in &mut putters {
        assert!(poll(put, &counter).is_pending());
    }
    full.shutdown(false);
    assert_eq!(counter.count(), 2);
    let returned: Vec<_> = putters
        .iter_mut()
        .map(|put| match poll(put, &counter) {
            Poll::Ready(Err(QueueShutDown(item))) => item,
            other => panic!("expected the item back, got {other:?}"),
        })
        .collect();
    assert_eq!(returned, ["p1", "p2"]);
    assert_eq!(full.get_nowait().unwrap(), "stored");

    let empty = Queue::<u8>::new(0);
    let mut get = empty.get();
    assert!(poll(&mut get, &counter).is_pending());
    empty.shutdown(false);
    assert_eq!(counter.count(), 3);
    assert_eq!(
        poll(&mut get, &counter),
        Poll::Ready(Err(QueueShutDown(())))
    );
}

#[test]
fn a_getter_granted_before_a_graceful_shutdown_keeps_its_item() {
    let queue = Queue::new(0);
    let counter = WakeCounter::new();
    let mut get = queue.get();
    assert!(poll(&mut get, &counter).is_pending());
    queue.put_nowait(9).unwrap();
    queue.shutdown(false);
    assert_eq!(poll(&mut get, &counter), Poll::Ready(Ok(9)));
}

#[test]
fn immediate_shutdown_drops_items_and_releases_join() {
    let drops = Arc::new(AtomicUsize::new(0));
    let queue = Queue::new(0);
    let counter = WakeCounter::new();
    // One item handed to a getter that has not run, two stored.
    let mut granted = queue.get();
    assert!(poll(&mut granted, &counter).is_pending());
    for id in 0..3 {
        queue.put_nowait(tracked(&drops, id)).unwrap();
    }
    let mut join = queue.join();
    assert!(poll(&mut join, &counter).is_pending());
    queue.shutdown(true);
    // Stored items are dropped at once, the handed one when its getter runs.
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    assert_eq!(queue.qsize(), 0);
    assert_eq!(poll(&mut join, &counter), Poll::Ready(()));
    assert!(matches!(
        poll(&mut granted, &counter),
        Poll::Ready(Err(QueueShutDown(())))
    ));
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    assert_eq!(queue.get_nowait().map(|t| t.id), Err(GetError::ShutDown));
    // Every put was accounted for by the shutdown.
    assert_eq!(queue.task_done(), Err(TaskDoneError));
}

#[test]
fn immediate_shutdown_only_subtracts_what_it_dropped() {
    let queue = Queue::new(0);
    for n in 0..3 {
        queue.put_nowait(n).unwrap();
    }
    assert_eq!(queue.get_nowait(), Ok(0)); // taken, not yet done
    let counter = WakeCounter::new();
    let mut join = queue.join();
    assert!(poll(&mut join, &counter).is_pending());
    queue.shutdown(true);
    assert_eq!(counter.count(), 0, "one item is still being processed");
    queue.task_done().unwrap();
    assert_eq!(poll(&mut join, &counter), Poll::Ready(()));
}

#[test]
fn immediate_shutdown_after_a_graceful_one_still_drops_the_rest() {
    let queue = Queue::new(0);
    queue.put_nowait(1).unwrap();
    queue.put_nowait(2).unwrap();
    queue.shutdown(false);
    assert_eq!(queue.get_nowait(), Ok(1));
    queue.shutdown(true);
    assert_eq!(queue.get_nowait(), Err(GetError::ShutDown));
    queue.task_done().unwrap();
    futures::executor::block_on(queue.join());
}

#[test]
fn items_yields_until_shut_down_and_drained() {
    let queue = Queue::new(0);
    for n in 1..=3 {
        queue.put_nowait(n).unwrap();
    }
    queue.shutdown(false);
    let collected = futures::executor::block_on(async {
        let mut items = queue.items();
        let mut collected = Vec::new();
        while let Some(n) = items.next().await {
            collected.push(n);
        }
        collected
    });
    assert_eq!(collected, [1, 2, 3]);
}

// ------------------------------------------ fairness, no overtaking --

#[test]
fn waiting_getters_are_served_in_arrival_order() {
    let queue = Queue::new(0);
    let counters: Vec<_> = (0..3).map(|_| WakeCounter::new()).collect();
    let mut gets: Vec<_> = (0..3).map(|_| queue.get()).collect();
    for (get, counter) in gets.iter_mut().zip(&counters) {
        assert!(poll(get, counter).is_pending());
    }
    queue.put_nowait('a').unwrap();
    let woken: Vec<_> = counters.iter().map(WakeCounter::count).collect();
    assert_eq!(woken, [1, 0, 0]);
    queue.put_nowait('b').unwrap();
    queue.put_nowait('c').unwrap();
    // Polled in reverse: each still gets the item handed to it.
    let got: Vec<_> = gets
        .iter_mut()
        .zip(&counters)
        .rev()
        .map(|(get, counter)| poll(get, counter))
        .collect();
    assert_eq!(
        got,
        [
            Poll::Ready(Ok('c')),
            Poll::Ready(Ok('b')),
            Poll::Ready(Ok('a'))
        ]
    );
}

#[test]
fn waiting_putters_are_served_in_arrival_order() {
    let queue = Queue::new(1);
    queue.put_nowait(0).unwrap();
    let counters: Vec<_> = (0..3).map(|_| WakeCounter::new()).collect();
    let mut puts: Vec<_> = (1..=3).map(|n| queue.put(n)).collect();
    for (put, counter) in puts.iter_mut().zip(&counters) {
        assert!(poll(put, counter).is_pending());
    }
    let mut got = Vec::new();
    for n in 0..3 {
        got.push(queue.get_nowait().unwrap());
        let woken: Vec<_> = counters.iter().map(WakeCounter::count).collect();
        let expected: Vec<_> = (0..3).map(|i| usize::from(i <= n)).collect();
        assert_eq!(woken, expected);
    }
    got.push(queue.get_nowait().unwrap());
    assert_eq!(got, [0, 1, 2, 3]);
    for (put, counter) in puts.iter_mut().zip(&counters) {
        assert_eq!(poll(put, counter), Poll::Ready(Ok(())));
    }
}

#[test]
fn a_new_getter_does_not_overtake_a_woken_one() {
    let queue = Queue::new(0);
    let counter = WakeCounter::new();
    let mut waiting = queue.get();
    assert!(poll(&mut waiting, &counter).is_pending());
    queue.put_nowait(1).unwrap();
    // The item is reserved for the woken getter.
    assert_eq!(queue.qsize(), 1);
    assert_eq!(queue.get_nowait(), Err(GetError::Empty));
    let mut newcomer = queue.get();
    assert!(poll(&mut newcomer, &WakeCounter::new()).is_pending());
    assert_eq!(poll(&mut waiting, &counter), Poll::Ready(Ok(1)));
}

#[test]
fn a_new_putter_does_not_overtake_a_waiting_one() {
    let queue = Queue::new(1);
    let counter = WakeCounter::new();
    queue.put_nowait(0).unwrap();
    let mut waiting = queue.put(1);
    assert!(poll(&mut waiting, &counter).is_pending());
    let mut second = queue.put(2);
    assert!(poll(&mut second, &WakeCounter::new()).is_pending());
    // The freed slot goes to the first waiting putter; newcomers stay out.
    assert_eq!(queue.get_nowait(), Ok(0));
    assert!(matches!(queue.put_nowait(9), Err(PutError::Full(9))));
    let mut newcomer = queue.put(9);
    assert!(poll(&mut newcomer, &WakeCounter::new()).is_pending());
    assert_eq!(poll(&mut waiting, &counter), Poll::Ready(Ok(())));
    assert_eq!(queue.get_nowait(), Ok(1));
    assert_eq!(queue.get_nowait(), Ok(2));
    assert_eq!(queue.get_nowait(), Ok(9));
}

// ----------------------------------------------------- cancellation --

#[test]
fn a_getter_dropped_while_waiting_leaves_the_line() {
    let queue = Queue::new(0);
    let counter = WakeCounter::new();
    let mut gone = queue.get();
    assert!(poll(&mut gone, &WakeCounter::new()).is_pending());
    let mut next = queue.get();
    assert!(poll(&mut next, &counter).is_pending());
    drop(gone);
    queue.put_nowait(1).unwrap();
    assert_eq!(counter.count(), 1);
    assert_eq!(poll(&mut next, &counter), Poll::Ready(Ok(1)));
}

#[test]
fn a_getter_dropped_after_its_grant_hands_the_item_to_the_next_getter() {
    let queue = Queue::new(0);
    let (first_counter, next_counter) = (WakeCounter::new(), WakeCounter::new());
    let mut first = queue.get();
    let mut next = queue.get();
    assert!(poll(&mut first, &first_counter).is_pending());
    assert!(poll(&mut next, &next_counter).is_pending());
    queue.put_nowait(1).unwrap();
    assert_eq!((first_counter.count(), next_counter.count()), (1, 0));
    drop(first); // woken, never ran
    assert_eq!(next_counter.count(), 1);
    assert_eq!(poll(&mut next, &next_counter), Poll::Ready(Ok(1)));
}

/// Hands 1 to a getter, stores 2 and 3, drops the getter before it runs,
/// and drains the queue.
fn order_after_an_abandoned_grant<S: QueueStorage<i32>>(queue: GenericQueue<i32, S>) -> Vec<i32> {
    let mut get = queue.get();
    assert!(poll(&mut get, &WakeCounter::new()).is_pending());
    (1..=3).for_each(|n| queue.put_nowait(n).unwrap());
    drop(get);
    drain(&queue)
}

#[test]
fn a_granted_getter_dropped_with_nobody_waiting_puts_its_item_back_as_the_oldest() {
    assert_eq!(order_after_an_abandoned_grant(Queue::new(0)), [1, 2, 3]);
    assert_eq!(order_after_an_abandoned_grant(LifoQueue::new(0)), [3, 2, 1]);
    assert_eq!(
        order_after_an_abandoned_grant(PriorityQueue::new(0)),
        [1, 2, 3]
    );
}

#[test]
fn a_putter_dropped_while_waiting_drops_its_item_and_nothing_else() {
    let drops = Arc::new(AtomicUsize::new(0));
    let queue = Queue::new(1);
    queue.put_nowait(tracked(&drops, 0)).unwrap();
    let counter = WakeCounter::new();
    let mut gone = queue.put(tracked(&drops, 1));
    assert!(poll(&mut gone, &WakeCounter::new()).is_pending());
    let mut next = queue.put(tracked(&drops, 2));
    assert!(poll(&mut next, &counter).is_pending());
    drop(gone);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(queue.get_nowait().unwrap().id, 0);
    assert_eq!(counter.count(), 1);
    assert!(matches!(poll(&mut next, &counter), Poll::Ready(Ok(()))));
    assert_eq!(queue.get_nowait().unwrap().id, 2);
}

#[test]
fn a_putter_dropped_after_its_grant_leaves_its_item_queued() {
    let queue = Queue::new(1);
    queue.put_nowait(0).unwrap();
    let (granted_counter, next_counter) = (WakeCounter::new(), WakeCounter::new());
    let mut granted = queue.put(1);
    let mut next = queue.put(2);
    assert!(poll(&mut granted, &granted_counter).is_pending());
    assert!(poll(&mut next, &next_counter).is_pending());
    assert_eq!(queue.get_nowait(), Ok(0));
    assert_eq!(granted_counter.count(), 1);
    drop(granted); // woken, never ran: its item is in the queue already
    assert_eq!(queue.qsize(), 1);
    assert_eq!(next_counter.count(), 0);
    assert_eq!(queue.get_nowait(), Ok(1));
    assert_eq!(next_counter.count(), 1);
    assert_eq!(poll(&mut next, &next_counter), Poll::Ready(Ok(())));
    assert_eq!(queue.get_nowait(), Ok(2));
}

#[test]
fn an_items_next_future_dropped_after_its_grant_loses_nothing() {
    let queue = Queue::new(0);
    let counter = WakeCounter::new();
    let mut items = queue.items();
    {
        let mut next = std::pin::pin!(items.next());
        assert!(poll_once(next.as_mut(), &counter).is_pending());
        queue.put_nowait(1).unwrap();
        assert_eq!(counter.count(), 1);
    }
    assert_eq!(queue.get_nowait(), Ok(1));
}

// ------------------------------------- many producers, many consumers --

const PRODUCERS: u64 = 4;
const CONSUMERS: usize = 4;
const PER_PRODUCER: u64 = 10_000;

/// Producer `p`'s `n`-th item.
fn item(p: u64, n: u64) -> u64 {
    p * PER_PRODUCER + n
}

/// Checks that every item arrived exactly once, and, for a FIFO queue, that
/// each consumer saw each producer's items in the order they were put.
fn check_delivery(received: &[Vec<u64>], fifo: bool) {
    let mut all: Vec<u64> = received.iter().flatten().copied().collect();
    all.sort_unstable();
    let expected: Vec<u64> = (0..PRODUCERS * PER_PRODUCER).collect();
    assert_eq!(all, expected, "every item exactly once");
    if fifo {
        for consumer in received {
            let mut last: HashMap<u64, u64> = HashMap::new();
            for &value in consumer {
                let producer = value / PER_PRODUCER;
                if let Some(&previous) = last.get(&producer) {
                    assert!(previous < value, "producer {producer} reordered");
                }
                last.insert(producer, value);
            }
        }
    }
}

/// Runs the producers and consumers of `queue` on plain threads, each
/// driving its future with `block_on`; the producers `join` the queue, then
/// shut it down so that the consumers stop.
fn mpmc_on_threads<S>(queue: GenericQueue<u64, S>) -> Vec<Vec<u64>>
where
    S: QueueStorage<u64> + Send + 'static,
{
    let queue = Arc::new(queue);
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let queue = queue.clone();
            std::thread::spawn(move || {
                futures::executor::block_on(async {
                    let mut received = Vec::new();
                    let mut items = queue.items();
                    while let Some(value) = items.next().await {
                        received.push(value);
                        queue.task_done().unwrap();
                    }
                    received
                })
            })
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let queue = queue.clone();
            std::thread::spawn(move || {
                futures::executor::block_on(async {
                    for n in 0..PER_PRODUCER {
                        queue.put(item(p, n)).await.unwrap();
                    }
                })
            })
        })
        .collect();
    for producer in producers {
        producer.join().unwrap();
    }
    futures::executor::block_on(queue.join());
    queue.shutdown(false);
    consumers.into_iter().map(|c| c.join().unwrap()).collect()
}

#[test]
fn mpmc_fifo_on_threads_delivers_every_item_once_in_producer_order() {
    check_delivery(&mpmc_on_threads(Queue::new(16)), true);
}

#[test]
fn mpmc_fifo_unbounded_on_threads_delivers_every_item_once() {
    check_delivery(&mpmc_on_threads(Queue::new(0)), true);
}

#[test]
fn mpmc_lifo_and_priority_on_threads_deliver_every_item_once() {
    check_delivery(&mpmc_on_threads(LifoQueue::new(8)), false);
    check_delivery(&mpmc_on_threads(PriorityQueue::new(8)), false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mpmc_fifo_under_tokio_multi_thread() {
    let queue = Arc::new(Queue::new(16));
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move {
                let mut received = Vec::new();
                while let Ok(value) = queue.get().await {
                    received.push(value);
                    queue.task_done().unwrap();
                }
                received
            })
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let queue = queue.clone();
            tokio::spawn(async move {
                for n in 0..PER_PRODUCER {
                    queue.put(item(p, n)).await.unwrap();
                }
            })
        })
        .collect();
    for producer in producers {
        producer.await.unwrap();
    }
    queue.join().await;
    queue.shutdown(false);
    let mut received = Vec::new();
    for consumer in consumers {
        received.push(consumer.await.unwrap());
    }
    check_delivery(&received, true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancelled_gets_under_tokio_lose_no_item() {
    // Consumers race every get against a yield, so many gets are dropped
    // while waiting or just after being handed an item.
    let queue = Arc::new(Queue::new(4));
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move {
                let mut received = Vec::new();
                loop {
                    tokio::select! {
                        biased;
                        got = queue.get() => match got {
                            Ok(value) => received.push(value),
                            Err(QueueShutDown(())) => return received,
                        },
                        () = tokio::task::yield_now() => {}
                    }
                }
            })
        })
        .collect();
    for p in 0..PRODUCERS {
        for n in 0..PER_PRODUCER / 10 {
            queue.put(item(p, n)).await.unwrap();
        }
    }
    queue.shutdown(false);
    let mut all = Vec::new();
    for consumer in consumers {
        all.extend(consumer.await.unwrap());
    }
    all.sort_unstable();
    let expected: Vec<u64> = (0..PRODUCERS)
        .flat_map(|p| (0..PER_PRODUCER / 10).map(move |n| item(p, n)))
        .collect();
    assert_eq!(all, expected);
}

// ------------------------------------------------------------- memory --

#[test]
fn waiting_in_steady_state_allocates_nothing() {
    let queue = Queue::new(2);
    let counter = WakeCounter::new();
    let round = || {
        let mut gets: Vec<_> = (0..4).map(|_| queue.get()).collect();
        let mut puts: Vec<_> = (0..6).map(|n| queue.put(n)).collect();
        let mut join = queue.join();
        let before = alloc_count::allocations();
        for get in &mut gets {
            assert!(poll(get, &counter).is_pending());
        }
        // Two puts go straight to getters and fill the queue; four wait.
        let mut waiting = [false; 6];
        for (put, waiting) in puts.iter_mut().zip(&mut waiting) {
            *waiting = poll(put, &counter).is_pending();
        }
        assert_eq!(waiting, [false, false, true, true, true, true]);
        // Each getter that takes its item lets the next putter in.
        for get in &mut gets {
            assert!(poll(get, &counter).is_ready());
        }
        for (put, _) in puts.iter_mut().zip(waiting).filter(|(_, w)| *w) {
            assert_eq!(poll(put, &counter), Poll::Ready(Ok(())));
        }
        assert!(poll(&mut join, &counter).is_pending());
        while queue.get_nowait().is_ok() {}
        for _ in 0..6 {
            queue.task_done().unwrap();
        }
        assert!(poll(&mut join, &counter).is_ready());
        alloc_count::allocations() - before
    };
    round(); // grows the storage and the waiter slots once
    for _ in 0..100 {
        assert_eq!(round(), 0);
    }
}

#[test]
fn queues_and_their_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let queue = Queue::<String>::new(0);
    send_sync(&queue);
    send_sync(&PriorityQueue::<u8>::new(0));
    send(&queue.put(String::new()));
    send(&queue.get());
    send(&queue.join());
}
