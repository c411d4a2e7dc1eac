//! loom models of what every queue does, whatever its storage policy: puts
//! and gets racing, a get cancelled after its first poll (perhaps holding an
//! item handed to it), and a put cancelled while the queue is full. Each
//! model runs for all three policies (`Queue`, `LifoQueue` and
//! `PriorityQueue`), because putting back the item of a cancelled getter is
//! the policy's own code (`QueueStorage::restore`).
//!
//! Each model checks conservation (every item ends up in exactly one place:
//! taken by one getter, still queued, or dropped with a cancelled put) and
//! that no waiter is left asleep while what it waits for is available.
#![cfg(loom)]

use std::iter;
use std::pin::Pin;
use std::task::Poll;

use loom::sync::Arc;
use loom::thread;
use weft_loom_tests::{poll_once_then_drop, Counted, Drops};
use weft_primitives::queue::{
    FifoStorage, GenericQueue, LifoStorage, PriorityStorage, QueueStorage,
};
use weft_tests::{poll_once, WakeCounter};

/// A storage policy, for every item type the models put.
trait Policy {
    type Of<T: Ord + Send + 'static>: QueueStorage<T> + Send + 'static;
}

struct Fifo;
struct Lifo;
struct Priority;

impl Policy for Fifo {
    type Of<T: Ord + Send + 'static> = FifoStorage<T>;
}

impl Policy for Lifo {
    type Of<T: Ord + Send + 'static> = LifoStorage<T>;
}

impl Policy for Priority {
    type Of<T: Ord + Send + 'static> = PriorityStorage<T>;
}

/// One `#[test]` per model and policy, in a module per policy:
/// `fifo::model`, `lifo::model`, `priority::model`.
macro_rules! models_for_every_policy {
    ($($model:ident),* $(,)?) => {
        mod fifo {
            $(#[test] fn $model() { super::$model::<super::Fifo>() })*
        }
        mod lifo {
            $(#[test] fn $model() { super::$model::<super::Lifo>() })*
        }
        mod priority {
            $(#[test] fn $model() { super::$model::<super::Priority>() })*
        }
    };
}

models_for_every_policy!(
    abandoned_get_hands_its_item_on,
    blocked_getter_receives_an_item_abandoned_by_another,
    abandoned_get_restores_its_item_as_the_oldest,
    blocked_putters_are_admitted_one_slot_at_a_time,
    abandoned_put_races_a_get_on_a_full_queue,
);

/// A getter that may be handed the item and dropped before it runs, racing a
/// put and a second getter: the item must reach the second getter (woken),
/// or stay in the queue, unless the first getter took it itself.
fn abandoned_get_hands_its_item_on<P: Policy>() {
    loom::model(|| {
        let queue = Arc::new(GenericQueue::<i32, P::Of<i32>>::new(0));
        let abandoner = {
            let queue = queue.clone();
            thread::spawn(move || poll_once_then_drop(queue.get()).map(|got| got.unwrap()))
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
fn blocked_getter_receives_an_item_abandoned_by_another<P: Policy>() {
    loom::model(|| {
        let queue = Arc::new(GenericQueue::<i32, P::Of<i32>>::new(0));
        let blocked = {
            let queue = queue.clone();
            thread::spawn(move || loom::future::block_on(queue.get()).unwrap())
        };
        let abandoner = {
            let queue = queue.clone();
            thread::spawn(move || poll_once_then_drop(queue.get()).map(|got| got.unwrap()))
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

/// A getter polls once, queueing on the empty queue or taking an item, and
/// is dropped while another thread puts 1, then 2. An item handed to the
/// getter and not taken goes back into the storage as the oldest one
/// (`restore`), so the items left come out exactly as this policy hands
/// out the same items put in the same order: none lost, none twice, none
/// out of place.
fn abandoned_get_restores_its_item_as_the_oldest<P: Policy>() {
    loom::model(|| {
        let queue = Arc::new(GenericQueue::<i32, P::Of<i32>>::new(0));
        let putter = {
            let queue = queue.clone();
            thread::spawn(move || {
                queue.put_nowait(1).unwrap();
                queue.put_nowait(2).unwrap();
            })
        };
        let taken = poll_once_then_drop(queue.get()).map(|got| got.unwrap());
        putter.join().unwrap();

        let left: Vec<i32> = iter::from_fn(|| queue.get_nowait().ok()).collect();
        let mut reference = P::Of::<i32>::default();
        for item in [1, 2].into_iter().filter(|item| Some(*item) != taken) {
            reference.push(item);
        }
        let expected: Vec<i32> = iter::from_fn(|| reference.pop()).collect();
        assert_eq!(left, expected, "taken by the cancelled getter: {taken:?}");
    });
}

/// Two putters block on a full queue of one while a consumer takes three
/// items: each freed slot must wake a putter (else loom reports a deadlock).
fn blocked_putters_are_admitted_one_slot_at_a_time<P: Policy>() {
    loom::model(|| {
        let queue = Arc::new(GenericQueue::<i32, P::Of<i32>>::new(1));
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
fn abandoned_put_races_a_get_on_a_full_queue<P: Policy>() {
    loom::model(|| {
        let drops = Drops::new();
        let queue = Arc::new(GenericQueue::<Counted, P::Of<Counted>>::new(1));
        queue.put_nowait(drops.item(0)).unwrap();
        let abandoner = {
            let (queue, drops) = (queue.clone(), drops.clone());
            thread::spawn(move || {
                let mut put = queue.put(drops.item(1));
                let _ = poll_once(Pin::new(&mut put), &WakeCounter::new());
            })
        };
        let getter = {
            let queue = queue.clone();
            thread::spawn(move || queue.get_nowait().ok())
        };
        let counter = WakeCounter::new();
        let mut put = queue.put(drops.item(2));
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
        assert_eq!(drops.count(), 3, "lost: {ids:?}");
    });
}
