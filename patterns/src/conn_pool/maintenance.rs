//! The maintenance task: retires expired idle connections, reports leaks
//! and keeps `min_idle` connections ready.
//!
//! It is spawned with `weft_runtime`'s `spawn` the first time the pool is
//! built or used inside a runtime (and again by a later `get` if its runtime
//! went away), and only if some setting needs it: `min_idle`, an idle
//! timeout, a maximum lifetime or a leak threshold. It holds only a weak
//! reference to the pool and is aborted when the pool is dropped or
//! closed, so it never keeps a pool alive.
//!
//! ```text
//!   loop:
//!     retire idle connections past max_lifetime, or idle past idle_timeout
//!       while more than min_idle are idle (least recently used first)
//!     report checkouts held past the leak threshold
//!     while idle < min_idle and size < max_size and a permit is free:
//!       create one connection (under the create timeout) and make it idle;
//!       on failure stop until the next round
//!     sleep until the next tick (maintenance_interval) or until woken
//! ```
//!
//! It is woken early whenever a checkout, a destroyed or a detached
//! connection leaves fewer than `min_idle` idle (and there is room to
//! create one), so the spare connections are replaced at once rather than
//! at the next tick. The top-up takes a permit only if one is free without
//! queueing: it never makes a waiting `get` wait longer, and when `get`s are
//! waiting they create the connections themselves.
//!
//! The rest of the pool does not depend on this task for correctness: a
//! connection past its lifetime is never handed out (a `get` destroys it
//! and takes the next), and leaks are also looked for on every checkout
//! and check-in. The task makes expiry and leak reports timely when the
//! pool is quiet, and keeps the spare connections warm.

use std::pin::pin;
use std::sync::{Arc, Weak};
use std::time::Duration;

use weft_primitives::Event;
use weft_runtime::{select2, time, Handle};

use super::inner::Inner;
use super::lease::{End, Lease};
use super::manager::Manager;
use crate::deadline::{deadline_after, within};
use crate::supervision::AbortOnDrop;

/// Spawns the maintenance task if the settings need one, none is running,
/// and this thread runs a weft runtime.
pub(super) fn ensure_running<M: Manager>(inner: &Arc<Inner<M>>) {
    if !inner.config.needs_maintenance() {
        return;
    }
    let mut state = inner.lock();
    let running = state
        .maintenance
        .as_ref()
        .is_some_and(|task| !task.0.is_finished());
    if running || state.is_closed() {
        return;
    }
    let Some(runtime) = Handle::try_current() else {
        return;
    };
    let task = run(
        Arc::downgrade(inner),
        inner.wake.clone(),
        inner.config.maintenance_interval,
    );
    state.maintenance = Some(AbortOnDrop(runtime.spawn(task)));
}

/// The task's body: a round of maintenance, then a wait for the next tick
/// or a wake-up, until the pool is gone or closed.
async fn run<M: Manager>(pool: Weak<Inner<M>>, wake: Arc<Event>, interval: Duration) {
    loop {
        let Some(inner) = pool.upgrade() else {
            return;
        };
        if inner.is_closed() {
            return;
        }
        maintain(&inner).await;
        drop(inner);
        // Cleared after the round: the round ends by finding nothing to top
        // up (so wake-ups that came during it were served), or by a failed
        // creation, whose own wake-up must not start a busy loop against a
        // server that is down.
        wake.clear();
        let tick = pin!(time::sleep(interval));
        let woken = pin!(wake.wait());
        select2(tick, woken).await;
    }
}

/// One round: expiry, leaks, then the top-up.
async fn maintain<M: Manager>(inner: &Arc<Inner<M>>) {
    let config = &inner.config;
    let now = time::now();
    let (retired, leaks) = {
        let mut state = inner.lock();
        let retired = state.retire_expired(
            now,
            config.idle_timeout,
            config.max_lifetime,
            config.min_idle,
        );
        (retired, inner.take_leaks(&mut state, now))
    };
    inner.after_unlock(false, leaks);
    drop(retired);

    while let Some(mut lease) = Lease::for_top_up(inner) {
        let deadline = deadline_after(time::now(), config.create_timeout);
        match within(deadline, inner.manager.create()).await {
            Some(Ok(conn)) => {
                lease.created(conn);
                lease.finish(End::CheckIn { broken: false });
            }
            // Counted in `create_errors`; the next round tries again, so a
            // server that is down is not hammered.
            Some(Err(_)) | None => {
                lease.finish(End::CreateFailed);
                return;
            }
        }
    }
}
