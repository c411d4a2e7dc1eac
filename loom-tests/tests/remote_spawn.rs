//! A task spawned on another thread (`Spawner`), handed to its runtime
//! through the remote queue (`weft_runtime::remote`) with its wake flags
//! (`weft_runtime::wake_flags`) set to "queued". Checked:
//!
//! * a spawn that races the runtime's shutdown is either handed back to
//!   the spawner (which drops it) or handed to the shutdown (which drops
//!   it), exactly once: never both, never neither;
//! * an abort from a third thread is never lost, whether it comes before
//!   the runtime adopted the task or after its first poll; and the slab
//!   slot the aborter queues is the one the runtime gave the task, since
//!   the slot is read only once the wake flags said "not queued", which
//!   only the runtime's first poll can say.
#![cfg(loom)]

use loom::sync::atomic::{AtomicU32, Ordering};
use loom::sync::{Arc, Notify};
use loom::thread;
use weft_runtime::remote::{RemoteQueue, Unpark};
use weft_runtime::wake_flags::{PollStart, WakeFlags};

/// Stands in for `mio::Waker`.
struct Epoll(Notify);

impl Unpark for Epoll {
    fn unpark(&self) {
        self.0.notify();
    }
}

/// What the model's queue carries, as the runtime's does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    /// The new task itself.
    Spawn,
    /// A wake, with the slab slot the waker read.
    Wake(u32),
}

/// The slot the runtime gives the task; 0 means "not adopted yet".
const SLOT: u32 = 5;

#[test]
fn a_spawn_racing_shutdown_is_dropped_exactly_once() {
    loom::model(|| {
        let queue = Arc::new(RemoteQueue::new(Epoll(Notify::new())));
        let q = queue.clone();
        let spawner = thread::spawn(move || q.try_push(Item::Spawn));
        let left_at_shutdown = queue.close();
        let refused = spawner.join().unwrap().is_err();
        let dropped_by_shutdown = left_at_shutdown.contains(&Item::Spawn);
        assert!(
            refused != dropped_by_shutdown,
            "refused: {refused}, dropped by the shutdown: {dropped_by_shutdown}"
        );
    });
}

#[test]
fn an_abort_from_another_thread_is_never_lost() {
    loom::model(|| {
        let flags = Arc::new(WakeFlags::default());
        let key = Arc::new(AtomicU32::new(0));
        let queue = Arc::new(RemoteQueue::new(Epoll(Notify::new())));

        // The spawner: mark the task queued, then send it.
        assert!(flags.wake_remote());
        queue.push(Item::Spawn);

        // The handle, moved to another thread, aborts: it queues a wake
        // only if it wins the flag, and only then reads the slot.
        let aborter = {
            let (flags, key, queue) = (flags.clone(), key.clone(), queue.clone());
            thread::spawn(move || {
                flags.abort();
                if flags.wake_remote() {
                    queue.push(Item::Wake(key.load(Ordering::Relaxed)));
                }
            })
        };

        // The runtime: adopt, poll (the task stays pending), until it sees
        // the abort; parks when nothing is queued.
        let mut entries = Vec::new();
        loop {
            queue.drain_into(&mut entries);
            let mut aborted = false;
            for item in entries.drain(..) {
                match item {
                    Item::Spawn => key.store(SLOT, Ordering::Relaxed),
                    Item::Wake(slot) => assert_eq!(slot, SLOT, "a wake for the wrong slot"),
                }
                aborted |= flags.start_poll() == PollStart::Abort;
            }
            if aborted {
                break;
            }
            if queue.prepare_park() {
                // A lost abort leaves the runtime parked for ever, which
                // loom reports as a deadlock.
                queue.unparker().0.wait();
                queue.finish_park();
            }
        }
        aborter.join().unwrap();
    });
}
