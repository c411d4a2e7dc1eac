//! The one door through which the runtime's cross-thread code reaches
//! atomics, mutexes, condition variables, cells and threads.
//!
//! Under `cfg(loom)` every name here is loom's model type; otherwise it is
//! the real thing, at no cost (each wrapper is a field and an inlined call).
//! The remote queue, the wake flags, the task block's reference count and
//! outcome, the join rendezvous (and its one-byte lock, [`ByteLock`]), the blocking pool and the combinators'
//! ready lists name only these types, so the loom models in `loom-tests/`
//! check the very code that ships.
//!
//! ```text
//!   runtime code ──▶ facade ──▶ weft_primitives::facade  Mutex, UnsafeCell, atomics
//!                          ├──▶ fence, Condvar, thread   std / parking_lot, or loom
//! ```
//!
//! The mutex, the cell and the atomic types are the primitives crate's
//! facade (one switch for the whole workspace); this module adds what only
//! the runtime needs. `Arc` stays std's: a `Waker` can only be built from
//! std's, and loom checks what the `Arc`s share, not their counts.

use std::time::Duration;

pub(crate) use weft_primitives::facade::{Mutex, MutexGuard, UnsafeCell};

/// Atomic integers, flags and fences.
pub(crate) mod atomic {
    #[cfg(loom)]
    pub(crate) use loom::sync::atomic::{fence, AtomicU32};
    #[cfg(not(loom))]
    pub(crate) use std::sync::atomic::{fence, AtomicU32};
    pub(crate) use weft_primitives::facade::atomic::{
        AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering,
    };
}

/// Spawning threads (std's, or loom's modelled threads).
#[cfg(loom)]
pub(crate) use loom::thread;
#[cfg(not(loom))]
pub(crate) use std::thread;

/// A mutex one byte wide, that guards data kept beside it rather than
/// inside it: where a `Mutex<T>` would pad its lock byte to `T`'s
/// alignment, this byte can share a word with other small fields.
///
/// A normal build uses `parking_lot`'s raw mutex (one `AtomicU8`, the same
/// lock as [`Mutex`]'s); loom builds use loom's modelled mutex.
pub(crate) struct ByteLock {
    #[cfg(not(loom))]
    raw: parking_lot::RawMutex,
    #[cfg(loom)]
    raw: loom::sync::Mutex<()>,
}

/// Holds a [`ByteLock`] until it is dropped.
pub(crate) struct ByteLockGuard<'a> {
    #[cfg(not(loom))]
    lock: &'a ByteLock,
    #[cfg(loom)]
    _guard: loom::sync::MutexGuard<'a, ()>,
}

impl ByteLock {
    pub(crate) fn new() -> Self {
        Self {
            #[cfg(not(loom))]
            raw: <parking_lot::RawMutex as parking_lot::lock_api::RawMutex>::INIT,
            #[cfg(loom)]
            raw: loom::sync::Mutex::new(()),
        }
    }

    /// Locks, blocking the thread while another holds it (keep sections
    /// short).
    #[inline]
    pub(crate) fn lock(&self) -> ByteLockGuard<'_> {
        #[cfg(not(loom))]
        {
            parking_lot::lock_api::RawMutex::lock(&self.raw);
            ByteLockGuard { lock: self }
        }
        #[cfg(loom)]
        ByteLockGuard {
            _guard: self.raw.lock().expect("loom mutex poisoned"),
        }
    }
}

#[cfg(not(loom))]
impl Drop for ByteLockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: this guard was made by `lock`, which took the lock, and
        // it is dropped once: the lock is held by this very guard.
        unsafe { parking_lot::lock_api::RawMutex::unlock(&self.lock.raw) }
    }
}

/// A condition variable to wait on with a [`Mutex`]'s guard.
///
/// A normal build uses `parking_lot`'s; loom builds use loom's, whose timed
/// wait never times out (a model has no clock), so code that waits with a
/// timeout must also be woken by a notification to end in a model.
#[derive(Debug, Default)]
pub(crate) struct Condvar {
    #[cfg(not(loom))]
    inner: parking_lot::Condvar,
    #[cfg(loom)]
    inner: loom::sync::Condvar,
}

impl Condvar {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Wakes one thread waiting on this condition variable, if any.
    #[inline]
    pub(crate) fn notify_one(&self) {
        self.inner.notify_one();
    }

    /// Wakes every thread waiting on this condition variable.
    #[inline]
    pub(crate) fn notify_all(&self) {
        self.inner.notify_all();
    }

    /// Releases the lock, waits for a notification or for `timeout`, and
    /// locks again. Returns the guard and whether the wait timed out.
    #[inline]
    pub(crate) fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> (MutexGuard<'a, T>, bool) {
        #[cfg(not(loom))]
        {
            let mut guard = guard;
            let timed_out = self.inner.wait_for(&mut guard, timeout).timed_out();
            (guard, timed_out)
        }
        #[cfg(loom)]
        {
            let (guard, result) = self
                .inner
                .wait_timeout(guard, timeout)
                .expect("loom mutex poisoned");
            (guard, result.timed_out())
        }
    }
}
