//! The floor column: what each row's work costs with no runtime at all.
//!
//! A ratio to tokio says how weft stands among runtimes; it does not say
//! how much is left to gain. The floor does: each in-process row is done
//! again with the bare data structure the primitive is built around and
//! nothing else, on one thread, with the **same number of operations and
//! the same shape** (tasks, rounds, capacities) as the row. The report
//! shows the floor's time and weft / floor.
//!
//! | row                     | floor                                                                                   |
//! |-------------------------|-----------------------------------------------------------------------------------------|
//! | spawn_join              | each task's future boxed into a `Vec` (one batch at a time), then each polled once to completion with a no-op waker |
//! | yield_switch            | the T boxed futures in a `VecDeque`, polled round-robin; a pending one goes to the back: one poll and one queue round trip per yield |
//! | mutex_uncontended       | [`block_on`] of one future doing N × `parking_lot::Mutex` lock, +1, unlock              |
//! | mutex_contended         | the lock's FIFO of waiting tasks as a `VecDeque`: per increment the head takes the lock (`parking_lot`), adds one, hands it on and queues again |
//! | semaphore               | a permit counter (an atomic) and a `VecDeque` of waiting tasks: per round P tasks take a permit, hold it together, give it back and queue again |
//! | queue_spsc / queue_mpmc | a `VecDeque` with the row's capacity as the bounded ring: producers fill it until full, consumers drain it until empty, in turn |
//! | event_fanout            | per round, every waiter puts a clone of its waker in a plain `Vec`; `set` drains the `Vec` and wakes each (a waker that counts) |
//! | condition_notify_one    | a `parking_lot::Mutex<u64>` of tickets and a `VecDeque` of wakers: per round trip the producer adds a ticket and wakes the head, the consumer takes it under the lock, acknowledges under the other lock, queues its waker again |
//! | condition_notify_all    | per round, W wakers in a `Vec`, drained and woken, and W acknowledgements under a `parking_lot::Mutex` |
//! | timeouts / sleeps dropped | per timer, a deadline from a clock read once per run (a cached clock), inserted into a slot `Vec` and removed |
//! | udp_echo                | std's blocking `UdpSocket`s on one thread, the same window of datagrams in flight: the four system calls of each round trip |
//! | fd_ping_pong            | std's blocking `UnixStream` pair on one thread: the two writes and two reads of each round trip |
//!
//! A floor is a lower bound, not a competitor: it never parks, never
//! registers with a reactor, never pays for fairness across threads or for
//! cancellation, and where tasks would wait it simply runs the one whose
//! turn it is. Each floor still checks its own answer, as every workload
//! does. The `timers` rows (sleeping tasks in child processes) have no
//! floor: with no runtime, "time beyond the longest sleep" is zero.
//!
//! Two tiny executors serve the floors that poll futures:
//! [`block_on`] polls one future with a waker that unparks the thread, and
//! [`round_robin`] polls boxed futures in turn.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

mod io;
mod ring;
mod sync;
mod tasks;
mod timers;

pub use io::{fd_ping_pong, udp_echo};
pub use ring::{queue_mpmc, queue_spsc};
pub use sync::{
    condition_notify_all, condition_notify_one, event_fanout, mutex_contended, mutex_uncontended,
    semaphore,
};
pub use tasks::{spawn_join, yield_switch};
pub use timers::timers_cancelled;

/// A waker that does nothing, for executors that poll every task again
/// anyway.
struct Noop;

impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

/// A [`Noop`] waker.
fn noop_waker() -> Waker {
    Waker::from(Arc::new(Noop))
}

/// A waker that counts its wake-ups: the least a real waker does.
#[derive(Default)]
struct WakeCount(AtomicU64);

impl Wake for WakeCount {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

impl WakeCount {
    /// A fresh count and a waker that adds to it.
    fn waker() -> (Arc<Self>, Waker) {
        let count = Arc::new(Self::default());
        (count.clone(), Waker::from(count))
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A waker that unparks the thread that made it.
struct Unparker(Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// The smallest executor there is: polls `fut` on this thread, parking
/// between polls until its waker is called.
///
/// ```
/// assert_eq!(weft_benches::floor::block_on(async { 6 * 7 }), 42);
/// ```
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let waker = Waker::from(Arc::new(Unparker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = fut.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

/// A boxed future, as a task of the floor executors.
pub type FloorTask<T> = Pin<Box<dyn Future<Output = T>>>;

/// Polls `tasks` in turn until all are done: a pending task goes to the
/// back of the queue (no waker is needed: every task is polled again).
/// Returns the outputs in the order the tasks finished.
///
/// Only for futures that make progress every time they are polled, such
/// as `yield_now` loops; a future waiting for another would be polled in
/// vain.
///
/// ```
/// use weft_benches::floor::{round_robin, FloorTask};
///
/// let tasks: Vec<FloorTask<u64>> = (0..3u64)
///     .map(|i| Box::pin(async move {
///         futures_lite::future::yield_now().await;
///         i
///     }) as FloorTask<u64>)
///     .collect();
/// assert_eq!(round_robin(tasks), vec![0, 1, 2]);
/// ```
pub fn round_robin<T>(tasks: Vec<FloorTask<T>>) -> Vec<T> {
    let mut outputs = Vec::with_capacity(tasks.len());
    let mut queue: VecDeque<FloorTask<T>> = tasks.into();
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    while let Some(mut task) = queue.pop_front() {
        match task.as_mut().poll(&mut cx) {
            Poll::Ready(output) => outputs.push(output),
            Poll::Pending => queue.push_back(task),
        }
    }
    outputs
}
