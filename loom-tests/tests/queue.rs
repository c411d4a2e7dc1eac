//! loom models of what a queue does beyond storing items, on `Queue`:
//! `task_done`/`join` (and a cancelled `join`), `shutdown` racing puts,
//! gets and a blocked putter, and reading with `items()` until shutdown.
//! The models of puts, gets and their cancellation, which depend on the
//! storage policy, are in `queue_storages.rs` and run for every policy.
//!
//! Each checks conservation (every item ends up in exactly one place:
//! taken by one getter, still queued, handed back, or dropped by an
//! immediate shutdown; the unfinished count matches) and that no waiter is
//! left asleep while what it waits for is available.
#![cfg(loom)]

use std::iter;
use std::pin::Pin;
use std::task::Poll;

use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;
use weft_loom_tests::{poll_once_then_drop, Drops};
use weft_primitives::queue::{GetError, PutError, Queue, QueueShutDown};
use weft_tests::{poll_once, WakeCounter};

/// Two consumers each take an item and mark it done while a third task
/// joins, and a fourth join is abandoned after one poll: `join` must be
/// released exactly when both items are done.
#[test]
fn task_done_races_join() {
    loom::model(|| {
        let queue = Arc::new(Queue::new(0));
        queue.put_nowait(1).unwrap();
        queue.put_nowait(2).unwrap();
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let queue = queue.clone();
                thread::spawn(move || {
                    let item = queue.get_nowait().unwrap();
                    queue.task_done().unwrap();
                    item
                })
            })
            .collect();
        let mut abandoned = queue.join();
        let _ = poll_once(Pin::new(&mut abandoned), &WakeCounter::new());
        drop(abandoned);
        loom::future::block_on(queue.join());
        let mut items: Vec<_> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
        items.sort_unstable();
        assert_eq!(items, [1, 2]);
        assert!(queue.task_done().is_err(), "the unfinished count is zero");
    });
}

/// A put and a blocked get race a graceful shutdown: the item is either
/// delivered to the getter or handed back to the putter, never both, never
/// neither.
#[test]
fn put_and_get_race_shutdown() {
    loom::model(|| {
        let queue = Arc::new(Queue::new(0));
        let putter = {
            let queue = queue.clone();
            thread::spawn(move || loom::future::block_on(queue.put(5)))
        };
        let shutter = {
            let queue = queue.clone();
            thread::spawn(move || queue.shutdown(false))
        };
        let got = loom::future::block_on(queue.get());
        let put = putter.join().unwrap();
        shutter.join().unwrap();
        match (got, put) {
            (Ok(5), Ok(())) => {}
            (Err(QueueShutDown(())), Err(QueueShutDown(5))) => {}
            other => panic!("item lost or duplicated: {other:?}"),
        }
        assert_eq!(queue.get_nowait(), Err(GetError::ShutDown));
        assert!(matches!(queue.put_nowait(6), Err(PutError::ShutDown(6))));
    });
}

/// An item racing an immediate shutdown, with a getter waiting for it: the
/// item is delivered, or dropped exactly once, and `join` ends released in
/// either case once the delivered item is done.
#[test]
fn immediate_shutdown_races_a_handed_item() {
    loom::model(|| {
        let drops = Drops::new();
        let queue = Arc::new(Queue::new(0));
        let counter = WakeCounter::new();
        let mut get = queue.get();
        assert!(poll_once(Pin::new(&mut get), &counter).is_pending());
        let putter = {
            let (queue, drops) = (queue.clone(), drops.clone());
            thread::spawn(move || match queue.put_nowait(drops.item(0)) {
                Ok(()) => true,
                Err(refused) => {
                    drop(refused.into_inner());
                    false
                }
            })
        };
        let shutter = {
            let queue = queue.clone();
            thread::spawn(move || queue.shutdown(true))
        };
        let put = putter.join().unwrap();
        shutter.join().unwrap();
        assert_eq!(counter.count(), 1, "the getter is woken either way");
        match poll_once(Pin::new(&mut get), &counter) {
            Poll::Ready(Ok(item)) => {
                assert!(put);
                drop(item);
                queue.task_done().unwrap();
            }
            Poll::Ready(Err(QueueShutDown(()))) => {}
            Poll::Pending => panic!("a woken getter must complete"),
        }
        assert_eq!(drops.count(), 1, "dropped exactly once");
        loom::future::block_on(queue.join());
    });
}

/// One `join` is queued on the main thread, another blocks on a second
/// thread, and a third thread takes the one item and marks it done while
/// the main thread drops its `join` (queued, or already released). The
/// blocked `join` must be released all the same: left asleep, it deadlocks
/// the model.
#[test]
fn a_cancelled_join_does_not_hold_back_another() {
    loom::model(|| {
        let queue = Arc::new(Queue::new(0));
        queue.put_nowait(1).unwrap();
        let mut cancelled = queue.join();
        assert!(poll_once(Pin::new(&mut cancelled), &WakeCounter::new()).is_pending());
        let joiner = {
            let queue = queue.clone();
            thread::spawn(move || block_on(queue.join()))
        };
        let consumer = {
            let queue = queue.clone();
            thread::spawn(move || {
                assert_eq!(queue.get_nowait(), Ok(1));
                queue.task_done().unwrap();
            })
        };
        drop(cancelled);
        consumer.join().unwrap();
        joiner.join().unwrap();
        assert!(queue.task_done().is_err(), "the unfinished count is zero");
    });
}

/// A putter blocks on a full queue of one while a getter frees the slot
/// and the main thread shuts the queue down (gracefully). The putter is
/// never left asleep: its item is stored (the slot was freed first) or
/// handed back by the shutdown. Every item is then in exactly one place:
/// taken by the getter, left in the queue (a graceful shutdown keeps it for
/// gets to drain), or handed back.
#[test]
fn shutdown_races_a_blocked_putter() {
    loom::model(|| {
        let drops = Drops::new();
        let queue = Arc::new(Queue::new(1));
        queue.put_nowait(drops.item(0)).unwrap();
        let putter = {
            let (queue, drops) = (queue.clone(), drops.clone());
            thread::spawn(move || match block_on(queue.put(drops.item(1))) {
                Ok(()) => None,
                Err(QueueShutDown(refused)) => Some(refused),
            })
        };
        let getter = {
            let queue = queue.clone();
            thread::spawn(move || queue.get_nowait().ok())
        };
        queue.shutdown(false);
        let refused = putter.join().unwrap();
        let got = getter.join().unwrap();

        let left = iter::from_fn(|| queue.get_nowait().ok());
        let mut ids: Vec<u32> = got.into_iter().chain(left).map(|item| item.id).collect();
        if let Some(refused) = refused {
            ids.push(refused.id);
        }
        ids.sort_unstable();
        assert_eq!(ids, [0, 1], "every item exactly once");
        assert_eq!(drops.count(), 2);
        assert_eq!(queue.get_nowait(), Err(GetError::ShutDown));
    });
}

/// A consumer reads the queue with `items()`, after first cancelling one
/// `next()` after its first poll, while the main thread puts 1 and 2 and
/// shuts the queue down. The consumer receives both items in order (the
/// cancelled `next()` loses nothing) and then `None`: a shutdown must wake
/// a reader blocked on the empty queue (else the model deadlocks).
#[test]
fn items_yields_every_item_then_ends_at_shutdown() {
    loom::model(|| {
        let queue = Arc::new(Queue::new(0));
        let consumer = {
            let queue = queue.clone();
            thread::spawn(move || {
                let mut items = queue.items();
                let mut received: Vec<i32> = poll_once_then_drop(items.next())
                    .flatten()
                    .into_iter()
                    .collect();
                while let Some(item) = block_on(items.next()) {
                    received.push(item);
                }
                received
            })
        };
        queue.put_nowait(1).unwrap();
        queue.put_nowait(2).unwrap();
        queue.shutdown(false);
        assert_eq!(consumer.join().unwrap(), [1, 2]);
        assert!(queue.empty());
    });
}
