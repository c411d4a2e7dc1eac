//! A task's wake flags (`weft_runtime::wake_flags`) with the real remote
//! queue: the runtime thread polls a task while other threads wake it.
//! Checked: a remote wake that queues nothing (it found the task queued) is
//! still served by a later poll, and that poll sees what the waker wrote
//! before waking; a lost wake-up leaves the runtime parked for ever, which
//! loom reports as a deadlock.
#![cfg(loom)]

use loom::sync::atomic::{AtomicUsize, Ordering};
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

/// One task as the runtime and its wakers see it.
struct Task {
    flags: WakeFlags,
    remote: RemoteQueue<(), Epoll>,
    /// What wakers write before waking; the task's "state".
    written: AtomicUsize,
}

impl Task {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            flags: WakeFlags::default(),
            remote: RemoteQueue::new(Epoll(Notify::new())),
            written: AtomicUsize::new(0),
        })
    }

    /// A waker on another thread: write, then wake.
    fn write_and_wake_remote(&self) {
        self.written.fetch_add(1, Ordering::Relaxed);
        if self.flags.wake_remote() {
            self.remote.push(());
        }
    }

    /// The runtime: polls the task (which yields once, on its first poll)
    /// until a poll sees `want` writes. Returns how many polls that took.
    fn run_until_seen(&self, want: usize) -> usize {
        // Spawned: queued locally once.
        let mut run_queue = Vec::new();
        if self.flags.wake_local() {
            run_queue.push(());
        }
        let mut polls = 0;
        let mut seen = 0;
        loop {
            self.remote.drain_into(&mut run_queue);
            while run_queue.pop().is_some() {
                match self.flags.start_poll() {
                    PollStart::Poll => {
                        polls += 1;
                        seen = self.written.load(Ordering::Relaxed);
                        if polls == 1 && self.flags.wake_local() {
                            run_queue.push(()); // yield_now
                        }
                    }
                    PollStart::Skip => {}
                    PollStart::Abort => unreachable!("nobody aborts"),
                }
            }
            if seen == want {
                return polls;
            }
            if self.remote.prepare_park() {
                self.remote.unparker().0.wait();
                self.remote.finish_park();
            }
        }
    }
}

#[test]
fn a_remote_wake_racing_a_local_yield_is_served() {
    loom::model(|| {
        let task = Task::new();
        let waker = {
            let task = task.clone();
            thread::spawn(move || task.write_and_wake_remote())
        };
        let polls = task.run_until_seen(1);
        waker.join().unwrap();
        // Spawn, yield and the remote wake: never more polls than wakes,
        // however the duplicate entries interleave.
        assert!(polls <= 3, "{polls} polls for 3 wakes");
    });
}

#[test]
fn two_remote_wakers_are_both_served() {
    loom::model(|| {
        let task = Task::new();
        let wakers: Vec<_> = (0..2)
            .map(|_| {
                let task = task.clone();
                thread::spawn(move || task.write_and_wake_remote())
            })
            .collect();
        task.run_until_seen(2);
        for waker in wakers {
            waker.join().unwrap();
        }
    });
}
