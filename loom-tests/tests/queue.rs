//! loom models of the queue family: puts, gets, cancellation (a future polled
//! once, then dropped), `task_done`/`join` and shutdown racing on two or three
//! threads. Each checks conservation (every item ends up in exactly one
//! place: taken by one getter, still queued, handed back, or dropped by an
//! immediate shutdown; the unfinished count matches) and that no waiter is
//! left asleep while what it waits for is available.
#![cfg(loom)]

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use loom::sync::Arc;
use loom::thread;
use weft_primitives::queue::{GetError, PutError, Queue, QueueShutDown};
use weft_tests::{poll_once, WakeCounter};

/// An item that counts, in a counter shared by its kind, when it is dropped.
struct Counted {
    id: u32,
    drops: Arc<AtomicUsize>,
}

impl Counted {
    fn new(id: u32, drops: &Arc<AtomicUsize>) -> Self {
        Self {
            id,
            drops: drops.clone(),
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// A getter that may be handed the item and dropped before it runs, racing a
/// put and a second getter: the item must reach the second getter (woken),
/// or stay in the queue, unless the first getter took it itself.
#[test]
fn abandoned_get_hands_its_item_on() {
    loom::model(|| {
        let queue = Arc::new(Queue::new(0));
        let abandoner = {
            let queue = queue.clone();
            thread::spawn(move || {
                let mut get = queue.get();
                match poll_once(Pin::new(&mut get), &WakeCounter::new()) {
                    Poll::Ready(got) => Some(got.unwrap()),
                    Poll::Pending => None,
                }
            })
        };
        let putter = {
            let queue = queue.clone();
            thread::spawn(move || queue.put_nowait(7).unwrap())
        };
        let counter = WakeCounter::new();
        let mut get = queue.get();
        let first = poll_once(Pin::new(&mut get), &counter);
        let taken_by_abandoner = abandoner.join().unwrap();
        putter.join().unwrap();

        let mut taken = Vec::new();
        taken.extend(taken_by_abandoner);
        match first {
            Poll::Ready(got) => taken.push(got.unwrap()),
            Poll::Pending if counter.woken() => match poll_once(Pin::new(&mut get), &counter) {
                Poll::Ready(got) => taken.push(got.unwrap()),
                Poll::Pending => panic!("a woken getter must find its item"),
            },
            // Still asleep: then the item must not be sitting anywhere it
            // could have been handed to us from.
            Poll::Pending => assert_eq!(
                taken_by_abandoner,
                Some(7),
                "a getter sleeps while the item is available"
            ),
        }
        drop(get);
        taken.extend(queue.get_nowait().ok());
        assert_eq!(taken, [7], "the item is delivered exactly once");
        assert_eq!(queue.qsize(), 0);
    });
}

/// A getter blocks in `block_on` while another is polled once and dropped
/// as an item arrives. If the dropped getter had been handed the item, it
/// must pass it on: otherwise the blocked getter sleeps forever, which loom
/// reports as a deadlock.
#[test]
fn blocked_getter_receives_an_item_abandoned_by_another() {
    loom::model(|| {
        let queue = Arc::new(Queue::new(0));
        let blocked = {
            let queue = queue.clone();
            thread::spawn(move || loom::future::block_on(queue.get()).unwrap())
        };
        let abandoner = {
            let queue = queue.clone();
            thread::spawn(move || {
                let mut get = queue.get();
                match poll_once(Pin::new(&mut get), &WakeCounter::new()) {
                    Poll::Ready(got) => Some(got.unwrap()),
                    Poll::Pending => None,
                }
            })
        };
        queue.put_nowait(1).unwrap();
        let taken_by_abandoner = abandoner.join().unwrap();
        if taken_by_abandoner.is_some() {
            // It took the item itself: the blocked getter needs another.
            queue.put_nowait(2).unwrap();
        }
        let got = blocked.join().unwrap();
        let mut all: Vec<_> = taken_by_abandoner.into_iter().chain([got]).collect();
        all.extend(queue.get_nowait().ok());
        all.sort_unstable();
        let expected: &[i32] = if taken_by_abandoner.is_some() {
            &[1, 2]
        } else {
            &[1]
        };
        assert_eq!(all, expected);
    });
}

/// Two putters block on a full queue of one while a consumer takes three
/// items: each freed slot must wake a putter (else loom reports a deadlock).
#[test]
fn blocked_putters_are_admitted_one_slot_at_a_time() {
    loom::model(|| {
        let queue = Arc::new(Queue::new(1));
        queue.put_nowait(0).unwrap();
        let putters: Vec<_> = [1, 2]
            .into_iter()
            .map(|item| {
                let queue = queue.clone();
                thread::spawn(move || loom::future::block_on(queue.put(item)).unwrap())
            })
            .collect();
        let mut got: Vec<_> = (0..3)
            .map(|_| loom::future::block_on(queue.get()).unwrap())
            .collect();
        for putter in putters {
            putter.join().unwrap();
        }
        assert_eq!(got[0], 0);
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2]);
        assert!(queue.empty());
    });
}

/// Two putters wait on a full queue of one; one gives up after its first
/// poll while a getter frees the slot. The slot must go to a putter (the
/// remaining one is woken or its item is already in), and the abandoned
/// putter's item is either in the queue (it was stored for it before it was
/// dropped) or dropped with its future, exactly once.
#[test]
fn abandoned_put_races_a_get_on_a_full_queue() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let queue = Arc::new(Queue::new(1));
        queue.put_nowait(Counted::new(0, &drops)).unwrap();
        let abandoner = {
            let (queue, drops) = (queue.clone(), drops.clone());
            thread::spawn(move || {
                let mut put = queue.put(Counted::new(1, &drops));
                let _ = poll_once(Pin::new(&mut put), &WakeCounter::new());
            })
        };
        let getter = {
            let queue = queue.clone();
            thread::spawn(move || queue.get_nowait().ok())
        };
        let counter = WakeCounter::new();
        let mut put = queue.put(Counted::new(2, &drops));
        let first = poll_once(Pin::new(&mut put), &counter);
        abandoner.join().unwrap();
        let got = getter.join().unwrap();

        let stored_2 = match first {
            Poll::Ready(result) => {
                assert!(result.is_ok());
                true
            }
            Poll::Pending if counter.woken() => {
                assert!(matches!(
                    poll_once(Pin::new(&mut put), &counter),
                    Poll::Ready(Ok(()))
                ));
                true
            }
            Poll::Pending => {
                assert!(queue.full(), "a putter sleeps while there is room");
                false
            }
        };
        drop(put);
        let mut ids: Vec<u32> = got.into_iter().map(|item| item.id).collect();
        let remaining = std::iter::from_fn(|| queue.get_nowait().ok());
        ids.extend(remaining.map(|item| item.id));
        ids.sort_unstable();
        assert_eq!(ids.first(), Some(&0));
        assert_eq!(ids.contains(&2), stored_2);
        // Every item was dropped exactly once by now: taken out above, or
        // (item 1) dropped with its abandoned future. None is stuck in a slot.
        assert_eq!(drops.load(Ordering::SeqCst), 3, "lost: {ids:?}");
    });
}

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
        let drops = Arc::new(AtomicUsize::new(0));
        let queue = Arc::new(Queue::new(0));
        let counter = WakeCounter::new();
        let mut get = queue.get();
        assert!(poll_once(Pin::new(&mut get), &counter).is_pending());
        let putter = {
            let (queue, drops) = (queue.clone(), drops.clone());
            thread::spawn(move || match queue.put_nowait(Counted::new(0, &drops)) {
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
        assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped exactly once");
        loom::future::block_on(queue.join());
    });
}
