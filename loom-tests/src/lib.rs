//! loom models of weft's primitives (one file per primitive) and of the
//! runtime's cross-thread structures: the wake path and remote queue, the
//! hand-over of a task's outcome to its `JoinHandle`, the blocking pool. The
//! models live in `tests/` and only build with `--cfg loom`:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p weft-loom-tests --profile loom
//! ```
//!
//! This library holds what several model files share: a counter of permits
//! in use that fails a model when a limit is crossed, an item that counts its
//! drops, and a way to cancel a future after its first poll.
#![cfg(loom)]

use std::cmp;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic as std_atomic;
use std::task::Poll;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use weft_tests::{poll_once, WakeCounter};

/// Counts permits in use and fails the model if they ever exceed `limit`:
/// the check of mutual exclusion for semaphores.
#[derive(Debug)]
pub struct InUse {
    count: AtomicUsize,
    limit: usize,
}

impl InUse {
    /// A counter shared by the threads of one model.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            count: AtomicUsize::new(0),
            limit,
        })
    }

    /// Counts `permits` as in use for a moment (other threads may run in
    /// between); call it while holding them.
    pub fn occupy(&self, permits: usize) {
        let now = self.count.fetch_add(permits, Ordering::SeqCst) + permits;
        assert!(
            now <= self.limit,
            "{now} permits in use, limit {}",
            self.limit
        );
        self.count.fetch_sub(permits, Ordering::SeqCst);
    }
}

/// Counts the drops of the items it made: after a model, every item must
/// have been dropped exactly once (taken out and dropped, or dropped by the
/// queue or by a cancelled future), none lost in a slot, none twice.
#[derive(Debug, Clone, Default)]
pub struct Drops(std::sync::Arc<std_atomic::AtomicUsize>);

impl Drops {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Item `id`, counted here when it is dropped.
    pub fn item(&self, id: u32) -> Counted {
        Counted {
            id,
            drops: self.clone(),
        }
    }

    /// How many items were dropped so far.
    pub fn count(&self) -> usize {
        self.0.load(std_atomic::Ordering::SeqCst)
    }
}

/// A queue item made by [`Drops::item`]. Items compare by `id` alone, so they
/// fit a priority queue too.
#[derive(Debug)]
pub struct Counted {
    /// What the model calls this item.
    pub id: u32,
    drops: Drops,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.0.fetch_add(1, std_atomic::Ordering::SeqCst);
    }
}

impl PartialEq for Counted {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Counted {}

impl PartialOrd for Counted {
    fn partial_cmp(&self, other: &Self) -> Option<cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Counted {
    fn cmp(&self, other: &Self) -> cmp::Ordering {
        self.id.cmp(&other.id)
    }
}

/// A task cancelled after its first poll: polls `future` once with a waker
/// nobody watches, then drops it. Returns the output if that poll completed
/// it (the caller then owns what it returned).
pub fn poll_once_then_drop<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    match poll_once(future.as_mut(), &WakeCounter::new()) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}
