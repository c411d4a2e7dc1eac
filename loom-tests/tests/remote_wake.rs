//! The runtime's cross-thread wake path (`weft_runtime::remote`): remote
//! threads push tasks while the runtime decides whether to sleep. Checked:
//! every pushed task is drained exactly once, and the runtime never sleeps
//! while a task waits in the queue (a lost wake-up would deadlock the model,
//! which loom reports).
#![cfg(loom)]

use loom::sync::{Arc, Notify};
use loom::thread;
use weft_runtime::remote::{RemoteQueue, Unpark};

/// Stands in for `mio::Waker`: the "epoll_wait" below returns once unparked.
struct Epoll(Notify);

impl Unpark for Epoll {
    fn unpark(&self) {
        self.0.notify();
    }
}

/// The runtime's side: park when `prepare_park` allows, drain otherwise,
/// until `expected` items were seen.
fn run_owner(queue: &RemoteQueue<u32, Epoll>, expected: usize) -> Vec<u32> {
    let mut seen = Vec::new();
    while seen.len() < expected {
        queue.drain_into(&mut seen);
        if seen.len() == expected {
            break;
        }
        if queue.prepare_park() {
            // Sleeps until a pusher unparks: if the protocol could lose a
            // wake-up, loom finds the interleaving where this never returns.
            queue.unparker().0.wait();
            queue.finish_park();
        }
    }
    seen
}

#[test]
fn one_remote_waker_is_never_lost() {
    loom::model(|| {
        let queue = Arc::new(RemoteQueue::new(Epoll(Notify::new())));
        let q = queue.clone();
        let pusher = thread::spawn(move || q.push(1));
        let seen = run_owner(&queue, 1);
        pusher.join().unwrap();
        assert_eq!(seen, vec![1]);
    });
}

#[test]
fn two_remote_wakers_race_the_park() {
    loom::model(|| {
        let queue = Arc::new(RemoteQueue::new(Epoll(Notify::new())));
        let pushers: Vec<_> = (0..2)
            .map(|i| {
                let q = queue.clone();
                thread::spawn(move || q.push(i))
            })
            .collect();
        let mut seen = run_owner(&queue, 2);
        for p in pushers {
            p.join().unwrap();
        }
        seen.sort_unstable();
        assert_eq!(seen, vec![0, 1], "each task drained exactly once");
    });
}

#[test]
fn pushes_after_close_are_refused() {
    loom::model(|| {
        let queue = Arc::new(RemoteQueue::new(Epoll(Notify::new())));
        let q = queue.clone();
        let pusher = thread::spawn(move || q.push(7));
        let left = queue.close();
        pusher.join().unwrap();
        let mut after = Vec::new();
        queue.drain_into(&mut after);
        // The item was either queued before the close (and handed back by
        // it) or refused; never kept after the close.
        assert!(after.is_empty());
        assert!(left.len() <= 1);
    });
}
