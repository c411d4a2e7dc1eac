//! Unit tests of the queue through its public operations: sizes and flags,
//! `task_done`/`join`, shutdown, cancelled futures, and what the errors and
//! `Debug` say.

use std::sync::Arc;
use std::task::Poll;

use super::{GetError, PutError, Queue, QueueShutDown, TaskDoneError};
use crate::test_support::{counting_waker, poll, poll_with};

#[test]
fn sizes_and_flags_follow_puts_and_gets() {
    let queue = Queue::new(2);
    assert_eq!(queue.maxsize(), 2);
    assert_eq!(queue.qsize(), 0);
    assert!(queue.empty());
    assert!(!queue.full());
    queue.put_nowait(1).unwrap();
    assert!(!queue.empty());
    queue.put_nowait(2).unwrap();
    assert_eq!(queue.qsize(), 2);
    assert!(queue.full());
    assert!(matches!(queue.put_nowait(3), Err(PutError::Full(3))));
    assert_eq!(queue.get_nowait(), Ok(1));
    assert_eq!(queue.qsize(), 1);
    assert!(!queue.full());
}

#[test]
fn join_waits_for_a_task_done_per_put_and_task_done_fails_beyond() {
    let queue = Queue::new(0);
    assert_eq!(
        poll(&mut queue.join()),
        Poll::Ready(()),
        "nothing unfinished"
    );
    assert_eq!(queue.task_done(), Err(TaskDoneError));
    queue.put_nowait('a').unwrap();
    let (woken, waker) = counting_waker();
    let mut join = queue.join();
    assert!(poll_with(&mut join, &waker).is_pending());
    assert_eq!(queue.get_nowait(), Ok('a'));
    assert!(poll_with(&mut join, &waker).is_pending(), "got, not done");
    assert_eq!(queue.task_done(), Ok(()));
    assert_eq!(woken.get(), 1);
    assert_eq!(poll_with(&mut join, &waker), Poll::Ready(()));
    assert_eq!(queue.task_done(), Err(TaskDoneError));
}

#[test]
fn a_dropped_join_is_not_woken() {
    let queue = Queue::new(0);
    queue.put_nowait(1).unwrap();
    let (woken, waker) = counting_waker();
    let mut join = queue.join();
    assert!(poll_with(&mut join, &waker).is_pending());
    drop(join);
    queue.get_nowait().unwrap();
    queue.task_done().unwrap();
    assert_eq!(woken.get(), 0);
}

#[test]
fn shutdown_refuses_puts_and_fails_gets_once_drained() {
    let queue = Queue::new(0);
    queue.put_nowait(1).unwrap();
    assert!(!queue.is_shut_down());
    queue.shutdown(false);
    assert!(queue.is_shut_down());
    assert!(matches!(queue.put_nowait(2), Err(PutError::ShutDown(2))));
    assert_eq!(queue.get_nowait(), Ok(1));
    assert_eq!(queue.get_nowait(), Err(GetError::ShutDown));
}

#[test]
fn a_waiting_put_stays_pending_and_a_dropped_one_never_stores_its_item() {
    let queue = Queue::new(1);
    queue.put_nowait(Arc::new(1)).unwrap();
    let item = Arc::new(2);
    let mut put = queue.put(item.clone());
    assert!(poll(&mut put).is_pending());
    assert!(poll(&mut put).is_pending(), "the queue is still full");
    drop(put);
    assert_eq!(Arc::strong_count(&item), 1, "the cancelled put dropped it");
    assert_eq!(queue.get_nowait().map(|item| *item), Ok(1));
    assert!(queue.empty());
}

#[test]
fn a_getter_dropped_after_being_handed_an_item_passes_it_on() {
    let queue = Queue::new(0);
    let mut get = queue.get();
    assert!(poll(&mut get).is_pending());
    queue.put_nowait(1).unwrap(); // handed to `get`, which never runs
    drop(get);
    assert_eq!(queue.get_nowait(), Ok(1));
}

#[test]
fn a_getter_dropped_after_an_immediate_shutdown_took_its_item_back() {
    let queue = Queue::new(0);
    let mut get = queue.get();
    assert!(poll(&mut get).is_pending());
    let item = Arc::new(1);
    queue.put_nowait(item.clone()).unwrap();
    queue.shutdown(true);
    drop(get);
    assert_eq!(Arc::strong_count(&item), 1, "the revoked item was dropped");
    assert_eq!(queue.qsize(), 0);
    assert_eq!(queue.get_nowait(), Err(GetError::ShutDown));
}

#[test]
fn items_yields_until_the_queue_is_shut_down_and_drained() {
    let queue = Queue::new(0);
    queue.put_nowait(1).unwrap();
    queue.shutdown(false);
    let mut items = queue.items();
    assert_eq!(poll(&mut Box::pin(items.next())), Poll::Ready(Some(1)));
    assert_eq!(poll(&mut Box::pin(items.next())), Poll::Ready(None));
}

#[test]
fn debug_shows_sizes_waiters_and_lifecycle() {
    let queue = Queue::<u8>::new(1);
    let mut waiting: Vec<_> = (0..2).map(|_| queue.get()).collect();
    for get in &mut waiting {
        assert!(poll(get).is_pending());
    }
    assert_eq!(
        format!("{:?}", queue.items()),
        "Items { queue: GenericQueue { maxsize: 1, qsize: 0, unfinished: 0, \
         waiting_getters: 2, waiting_putters: 0, lifecycle: Open } }"
    );
    assert_eq!(format!("{:?}", waiting[0]), "Get { queued: true, .. }");
    drop(waiting);

    queue.put_nowait(0).unwrap();
    let mut puts = [queue.put(1), queue.put(2)];
    for put in &mut puts {
        assert!(poll(put).is_pending());
    }
    let join = queue.join();
    assert_eq!(
        format!("{queue:?}"),
        "GenericQueue { maxsize: 1, qsize: 1, unfinished: 1, \
         waiting_getters: 0, waiting_putters: 2, lifecycle: Open }"
    );
    queue.shutdown(false);
    assert!(format!("{queue:?}").ends_with("waiting_putters: 0, lifecycle: ShutDown }"));
    assert_eq!(format!("{:?}", puts[0]), "Put { queued: true, .. }");
    assert_eq!(format!("{join:?}"), "Join { queued: false, .. }");
}

#[test]
fn errors_name_what_went_wrong_and_debug_hides_the_item() {
    assert_eq!(QueueShutDown(5).to_string(), "queue is shut down");
    assert_eq!(format!("{:?}", QueueShutDown(5)), "QueueShutDown(..)");
    assert_eq!(PutError::Full(5).to_string(), "queue is full");
    assert_eq!(PutError::ShutDown(5).to_string(), "queue is shut down");
    assert_eq!(format!("{:?}", PutError::Full(5)), "Full(..)");
    assert_eq!(format!("{:?}", PutError::ShutDown(5)), "ShutDown(..)");
    assert_eq!(GetError::Empty.to_string(), "queue is empty");
    assert_eq!(GetError::ShutDown.to_string(), "queue is shut down");
    assert_eq!(
        TaskDoneError.to_string(),
        "task_done() called too many times"
    );
}
