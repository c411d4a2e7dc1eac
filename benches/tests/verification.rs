//! A fast wrong answer must not pass: broken primitives plugged into the
//! workloads make them report a mismatch instead of a time.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};

use weft_benches::adapters::{AsyncMutex, AsyncSemaphore, BoundedQueue, WeftQueue};
use weft_benches::runtimes::{BenchRuntime, Tokio, Weft};
use weft_benches::workloads::{mutex_contended, queue_mpmc, queue_spsc, semaphore};

/// A "mutex" that excludes nobody: each guard works on its own copy of
/// the value and writes it back when dropped.
#[derive(Debug, Default)]
struct NoExclusion(AtomicU64);

struct CopyGuard<'a> {
    home: &'a AtomicU64,
    value: u64,
}

impl Deref for CopyGuard<'_> {
    type Target = u64;
    fn deref(&self) -> &u64 {
        &self.value
    }
}

impl DerefMut for CopyGuard<'_> {
    fn deref_mut(&mut self) -> &mut u64 {
        &mut self.value
    }
}

impl Drop for CopyGuard<'_> {
    fn drop(&mut self) {
        self.home.store(self.value, Ordering::SeqCst);
    }
}

impl AsyncMutex for NoExclusion {
    type Guard<'a> = CopyGuard<'a>;

    fn new(value: u64) -> Self {
        Self(AtomicU64::new(value))
    }

    async fn lock(&self) -> CopyGuard<'_> {
        CopyGuard {
            home: &self.0,
            value: self.0.load(Ordering::SeqCst),
        }
    }
}

/// A "semaphore" that never makes anyone wait.
#[derive(Debug)]
struct Unlimited;

impl AsyncSemaphore for Unlimited {
    type Permit<'a> = ();

    fn new(_permits: usize) -> Self {
        Unlimited
    }

    async fn acquire(&self) {}
}

/// weft's queue, except that it loses every item ending in 50.
#[derive(Debug)]
struct Lossy;

impl BoundedQueue for Lossy {
    const NAME: &'static str = "lossy";
    type Sender = <WeftQueue as BoundedQueue>::Sender;
    type Receiver = <WeftQueue as BoundedQueue>::Receiver;

    fn bounded(capacity: usize) -> (Self::Sender, Self::Receiver) {
        WeftQueue::bounded(capacity)
    }

    async fn send(sender: &Self::Sender, item: u64) {
        if item % 100 != 50 {
            WeftQueue::send(sender, item).await;
        }
    }

    async fn recv(receiver: &mut Self::Receiver) -> u64 {
        WeftQueue::recv(receiver).await
    }
}

#[test]
fn a_mutex_that_does_not_exclude_loses_increments() {
    let rt = Weft::new();
    let mismatch = rt
        .block_on(mutex_contended::<Weft, NoExclusion>(&rt, 10, 10))
        .unwrap_err();
    assert_eq!(mismatch.what, "counter");
    assert!(mismatch.got < mismatch.expected);
}

#[test]
fn a_semaphore_that_admits_everyone_is_caught() {
    let rt = Tokio::new();
    let mismatch = rt
        .block_on(semaphore::<Tokio, Unlimited>(&rt, 3, 20, 2))
        .unwrap_err();
    assert_eq!(mismatch.what, "most permits held at once");
    assert_eq!((mismatch.expected, mismatch.got), (3, 20));
}

#[test]
fn a_queue_that_loses_items_is_caught() {
    let rt = Weft::new();
    let spsc = rt
        .block_on(queue_spsc::<Weft, Lossy>(&rt, 16, 200))
        .unwrap_err();
    assert_eq!(spsc.what, "next item in FIFO order");
    assert_eq!((spsc.expected, spsc.got), (50, 51));

    let mpmc = rt
        .block_on(queue_mpmc::<Weft, Lossy>(&rt, 16, 4, 200))
        .unwrap_err();
    assert_eq!(mpmc.what, "items received");
    assert_eq!((mpmc.expected, mpmc.got), (200, 198));
}

#[test]
fn correct_primitives_verify() {
    let rt = Weft::new();
    assert!(rt
        .block_on(mutex_contended::<Weft, weft_primitives::Mutex<u64>>(
            &rt, 10, 10
        ))
        .is_ok());
    assert!(rt
        .block_on(semaphore::<Weft, weft_primitives::Semaphore>(&rt, 3, 20, 2))
        .is_ok());
    assert!(rt
        .block_on(queue_mpmc::<Weft, WeftQueue>(&rt, 16, 4, 200))
        .is_ok());
}
