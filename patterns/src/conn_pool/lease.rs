//! [`Lease`]: one permit of the pool's capacity and what it is being used
//! for: nothing yet, a creation, or a connection (being health-checked or
//! checked out).
//!
//! A lease is the single owner of both the permit and the connection, so
//! whatever ends it (a check-in, a detach, a failed creation, or being
//! dropped half-way through a cancelled `get`) settles the inventory and
//! gives the permit back in one critical section. Doing the two apart
//! would open a window in which a freed permit lets another `get` create a
//! connection while a doomed one is still counted, or the other way round.
//!
//! ```text
//!   Lease::new(permit)      Nothing
//!     reserve() ──────────▶ Conn (an idle one, to health-check)  or  Creating
//!     created(conn) ──────▶ Conn
//!     check_out(..) ──────▶ Conn, registered for leak detection
//!     finish(end) ────────▶ Nothing, permit returned          (drop = finish(Abandon))
//! ```

use std::mem;
use std::panic::Location;
use std::sync::Arc;

use weft_primitives::OwnedSemaphorePermit;
use weft_runtime::time;

use super::inner::{Inner, PoolClosed};
use super::manager::Manager;
use super::state::Entry;

/// What a lease holds besides its permit.
enum Holding<C> {
    Nothing,
    Creating,
    Conn(Entry<C>),
}

/// What a `get` must do with its fresh reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reserved {
    /// The lease holds an idle connection: health-check it.
    Idle,
    /// No connection was idle; the lease holds a creation slot: create one.
    Create,
}

/// How a lease ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    /// Dropped: a held connection is destroyed, a creation abandoned.
    Abandon,
    /// The creation failed or timed out.
    CreateFailed,
    /// The connection comes back to the pool (`broken` says the manager's
    /// check-in hook rejected it).
    CheckIn { broken: bool },
    /// The connection leaves the pool for good and is returned.
    Detach,
}

/// One permit of capacity and its use; see the module docs.
pub(super) struct Lease<M: Manager> {
    inner: Arc<Inner<M>>,
    /// `None` once the lease has ended.
    permit: Option<OwnedSemaphorePermit>,
    holding: Holding<M::Connection>,
    /// The leak registry's number for the current checkout.
    checkout: Option<u64>,
}

impl<M: Manager> Lease<M> {
    pub(super) fn new(inner: Arc<Inner<M>>, permit: OwnedSemaphorePermit) -> Self {
        Self {
            inner,
            permit: Some(permit),
            holding: Holding::Nothing,
            checkout: None,
        }
    }

    /// A lease for the maintenance task to create one idle connection, if
    /// the pool is below `min_idle`, below its maximum size, and a permit is
    /// free without overtaking a waiting `get`.
    pub(super) fn for_top_up(inner: &Arc<Inner<M>>) -> Option<Self> {
        let mut state = inner.lock();
        if !state.below_min_idle(inner.config.min_idle) {
            return None;
        }
        let permit = inner.capacity.clone().try_acquire_owned().ok()?;
        state.begin_create();
        let mut lease = Self::new(inner.clone(), permit);
        lease.holding = Holding::Creating;
        Some(lease)
    }

    /// Takes an idle connection, or a creation slot when none is idle.
    pub(super) fn reserve(&mut self) -> Result<Reserved, PoolClosed> {
        let inner = &self.inner;
        let config = &inner.config;
        let mut doomed = Vec::new();
        let now = time::now();
        let mut state = inner.lock();
        if state.is_closed() {
            return Err(PoolClosed);
        }
        let reserved =
            match state.take_idle(config.idle_order, now, config.max_lifetime, &mut doomed) {
                Some(entry) => {
                    self.holding = Holding::Conn(entry);
                    Reserved::Idle
                }
                None => {
                    state.begin_create();
                    self.holding = Holding::Creating;
                    Reserved::Create
                }
            };
        let top_up = state.below_min_idle(config.min_idle);
        drop(state);
        inner.after_unlock(top_up, Vec::new());
        drop(doomed);
        Ok(reserved)
    }

    /// The creation this lease reserved produced `conn`.
    pub(super) fn created(&mut self, conn: M::Connection) {
        debug_assert!(matches!(self.holding, Holding::Creating));
        let now = time::now();
        let entry = self.inner.lock().created(conn, now);
        self.holding = Holding::Conn(entry);
    }

    /// The connection failed its health check: it is destroyed, the permit
    /// stays with the lease for the next try.
    pub(super) fn discard_unhealthy(&mut self) {
        let Holding::Conn(entry) = mem::replace(&mut self.holding, Holding::Nothing) else {
            unreachable!("only a held connection is health-checked");
        };
        let mut state = self.inner.lock();
        state.destroy_in_use();
        state.counters.recycle_errors += 1;
        let top_up = state.below_min_idle(self.inner.config.min_idle);
        drop(state);
        self.inner.after_unlock(top_up, Vec::new());
        drop(entry);
    }

    /// Hands the held connection out: counts the checkout (and the health
    /// check it passed, if `recycled`) and registers it for leak detection.
    pub(super) fn check_out(&mut self, location: &'static Location<'static>, recycled: bool) {
        let now = time::now();
        let entry = self.entry_mut();
        entry.info.checkouts += 1;
        let connection_id = entry.info.id;
        let inner = &self.inner;
        let mut state = inner.lock();
        state.counters.checkouts += 1;
        if recycled {
            state.counters.recycled += 1;
        }
        let leaks = inner.take_leaks(&mut state, now);
        self.checkout = Some(state.leaks.register(connection_id, location, now));
        drop(state);
        inner.after_unlock(false, leaks);
    }

    /// The held connection; the lease must hold one.
    pub(super) fn entry(&self) -> &Entry<M::Connection> {
        match &self.holding {
            Holding::Conn(entry) => entry,
            _ => unreachable!("the lease holds no connection"),
        }
    }

    /// The held connection, mutably; the lease must hold one.
    pub(super) fn entry_mut(&mut self) -> &mut Entry<M::Connection> {
        match &mut self.holding {
            Holding::Conn(entry) => entry,
            _ => unreachable!("the lease holds no connection"),
        }
    }

    /// Gives the held connection back to the pool after the manager's
    /// check-in hook looked at it. Does nothing if the lease holds none
    /// (it was detached).
    pub(super) fn check_in(&mut self) {
        let Holding::Conn(entry) = &mut self.holding else {
            return;
        };
        let broken = self.inner.manager.is_broken(&mut entry.conn);
        self.finish(End::CheckIn { broken });
    }

    /// Ends the lease: settles what it holds as `end` says and returns the
    /// permit, in one critical section. Returns the connection on
    /// [`End::Detach`]. Ending an ended lease does nothing.
    pub(super) fn finish(&mut self, end: End) -> Option<M::Connection> {
        let permit = self.permit.take()?;
        let inner = &self.inner;
        let config = &inner.config;
        let now = time::now();
        let mut doomed = None;
        let mut detached = None;
        let mut state = inner.lock();
        match (mem::replace(&mut self.holding, Holding::Nothing), end) {
            (Holding::Nothing, _) => {}
            (Holding::Creating, end) => state.end_create(end == End::CreateFailed),
            (Holding::Conn(entry), End::Detach) => {
                state.detach();
                detached = Some(entry.conn);
            }
            (Holding::Conn(entry), End::CheckIn { broken }) => {
                doomed = state.check_in(entry, broken, now, config.max_lifetime);
            }
            (Holding::Conn(entry), End::Abandon | End::CreateFailed) => {
                state.destroy_in_use();
                doomed = Some(entry);
            }
        }
        if let Some(number) = self.checkout.take() {
            state.leaks.remove(number);
        }
        state.return_permit(permit);
        let top_up = state.below_min_idle(config.min_idle);
        let leaks = inner.take_leaks(&mut state, now);
        drop(state);
        inner.after_unlock(top_up, leaks);
        drop(doomed);
        detached
    }
}

impl<M: Manager> Drop for Lease<M> {
    fn drop(&mut self) {
        self.finish(End::Abandon);
    }
}
