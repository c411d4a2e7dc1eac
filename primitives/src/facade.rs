//! The one door through which weft reaches atomics, mutexes and cells.
//!
//! Under `cfg(loom)` every name here is loom's model type; otherwise it is the
//! real thing. Because the primitives (and the runtime's cross-thread wake
//! path) only ever name these types, the code loom checks is exactly the code
//! that ships.
//!
//! ```text
//!   weft code ──▶ facade::Mutex ──▶ parking_lot::Mutex     (normal build)
//!                               └─▶ loom::sync::Mutex      (RUSTFLAGS="--cfg loom")
//! ```
//!
//! It is public so that `weft-runtime` can model-check through the same
//! switch; it is not meant for users of the primitives.

#[cfg(loom)]
pub use loom::sync::Arc;
#[cfg(not(loom))]
pub use std::sync::Arc;

/// Atomic integers and flags (std's, or loom's under `cfg(loom)`).
pub mod atomic {
    #[cfg(loom)]
    pub use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
    #[cfg(not(loom))]
    pub use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
}

/// A mutex for short critical sections that never poisons.
///
/// A normal build uses `parking_lot`, whose uncontended lock is one atomic
/// compare-and-swap; loom builds use loom's modelled mutex.
#[derive(Debug, Default)]
pub struct Mutex<T> {
    #[cfg(not(loom))]
    inner: parking_lot::Mutex<T>,
    #[cfg(loom)]
    inner: loom::sync::Mutex<T>,
}

/// Guard of a [`Mutex`]; the lock is released when it is dropped.
#[cfg(not(loom))]
pub type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;
/// Guard of a [`Mutex`]; the lock is released when it is dropped.
#[cfg(loom)]
pub type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

impl<T> Mutex<T> {
    /// Creates an unlocked mutex holding `value`.
    pub fn new(value: T) -> Self {
        Self {
            #[cfg(not(loom))]
            inner: parking_lot::Mutex::new(value),
            #[cfg(loom)]
            inner: loom::sync::Mutex::new(value),
        }
    }

    /// Locks, blocking the thread while another holds it (keep sections short).
    pub fn lock(&self) -> MutexGuard<'_, T> {
        #[cfg(not(loom))]
        return self.inner.lock();
        // loom's mutex cannot be poisoned by a model: a panic ends the model.
        #[cfg(loom)]
        return self.inner.lock().expect("loom mutex poisoned");
    }

    /// Mutable access without locking, through exclusive ownership.
    pub fn get_mut(&mut self) -> &mut T {
        #[cfg(not(loom))]
        return self.inner.get_mut();
        #[cfg(loom)]
        return self.inner.get_mut().expect("loom mutex poisoned");
    }

    /// Consumes the mutex and returns its value.
    pub fn into_inner(self) -> T {
        #[cfg(not(loom))]
        return self.inner.into_inner();
        #[cfg(loom)]
        return self.inner.into_inner().expect("loom mutex poisoned");
    }
}

/// An `UnsafeCell` with loom's closure-based API, so that loom can track
/// every access to the cell and report one that races.
#[derive(Debug)]
pub struct UnsafeCell<T> {
    #[cfg(not(loom))]
    inner: std::cell::UnsafeCell<T>,
    #[cfg(loom)]
    inner: loom::cell::UnsafeCell<T>,
}

impl<T> UnsafeCell<T> {
    /// Wraps `value`.
    pub fn new(value: T) -> Self {
        Self {
            #[cfg(not(loom))]
            inner: std::cell::UnsafeCell::new(value),
            #[cfg(loom)]
            inner: loom::cell::UnsafeCell::new(value),
        }
    }

    /// Consumes the cell and returns its value.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }

    /// Runs `f` with a shared raw pointer to the value. The caller must make
    /// sure no `with_mut` access runs at the same time.
    pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        #[cfg(not(loom))]
        return f(self.inner.get());
        #[cfg(loom)]
        return self.inner.with(f);
    }

    /// Runs `f` with a mutable raw pointer to the value. The caller must make
    /// sure no other access runs at the same time.
    pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        #[cfg(not(loom))]
        return f(self.inner.get());
        #[cfg(loom)]
        return self.inner.with_mut(f);
    }
}
