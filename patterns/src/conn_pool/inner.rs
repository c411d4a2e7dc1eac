//! [`Inner`]: what every [`Pool`](super::Pool) handle, every lease and the
//! maintenance task share: the manager, the settings, the capacity
//! semaphore and the inventory behind the pool's one mutex.
//!
//! It sits below everything else of the pool that needs it (the lease, the
//! maintenance task, `get`), so that those import it and not one another.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use weft_primitives::{Event, Semaphore};

use super::config::{LeakHandler, PoolConfig};
use super::leak::LeakReport;
use super::manager::Manager;
use super::state::PoolState;

/// What every handle, lease and the maintenance task share.
pub(super) struct Inner<M: Manager> {
    pub(super) manager: M,
    pub(super) config: PoolConfig,
    /// One permit per connection that may still be handed out or created;
    /// its fair queue is the queue of waiting `get`s.
    pub(super) capacity: Arc<Semaphore>,
    /// Wakes the maintenance task before its next tick (to top up
    /// `min_idle`).
    pub(super) wake: Arc<Event>,
    pub(super) state: Mutex<PoolState<M::Connection>>,
}

/// The pool was closed; becomes [`PoolError::Closed`](super::PoolError::Closed).
#[derive(Debug)]
pub(super) struct PoolClosed;

impl<M: Manager> Inner<M> {
    pub(super) fn lock(&self) -> MutexGuard<'_, PoolState<M::Connection>> {
        // No user code runs under this lock, so a poisoned lock only means
        // that a panic elsewhere interrupted a caller; the state is whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the checkouts held past the leak threshold, counting them.
    pub(super) fn take_leaks(
        &self,
        state: &mut PoolState<M::Connection>,
        now: Instant,
    ) -> Vec<LeakReport> {
        let Some(threshold) = self.config.leak_threshold else {
            return Vec::new();
        };
        let leaks = state.leaks.take_leaks(now, threshold);
        state.counters.leaks += leaks.len() as u64;
        leaks
    }

    /// What a state change leaves to do once the lock is released: wake the
    /// maintenance task, and report leaks (user code, so never under it).
    pub(super) fn after_unlock(&self, top_up: bool, leaks: Vec<LeakReport>) {
        if top_up {
            self.wake.set();
        }
        for leak in &leaks {
            match &self.config.on_leak {
                Some(LeakHandler(handler)) => handler(leak),
                None => eprintln!("warning: {leak}"),
            }
        }
    }

    pub(super) fn is_closed(&self) -> bool {
        self.lock().is_closed()
    }
}
