//! The pool's inventory: the idle connections, what every other slot of
//! capacity is doing, and the bookkeeping of a shrinking resize. It lives
//! behind the pool's one mutex, and every method here runs under it and
//! never awaits, calls the manager or drops a connection: a connection to
//! destroy is handed back to the caller, who drops it after unlocking.
//!
//! # Capacity
//!
//! The pool's semaphore holds one permit per connection that could still be
//! handed out or created. Every `get` in progress and every checked-out
//! connection holds a permit (a [`Lease`](super::lease::Lease)); idle
//! connections hold none. Let `total = idle + in_use + creating` and
//! `circulating` be the permits free plus held. Then `total <= circulating`
//! always holds:
//!
//! * a `get` creates only when no connection is idle, so the others' slots
//!   are all leased and `total + 1 <= leases <= circulating`;
//! * the maintenance task creates only while `total < max_size`;
//! * a check-in turns an in-use connection into an idle one and frees a
//!   permit: `total` does not change.
//!
//! # Resizing
//!
//! `circulating == max_size + permit_debt`. Growing adds permits (first
//! cancelling debt). Shrinking forgets the permits that are free at once;
//! the rest become `permit_debt`, and each permit that comes back while
//! there is debt is forgotten instead of released. While there is debt no
//! permit is free, so no new `get` starts, and each connection that comes
//! back while `total > max_size` is destroyed: checked-out connections are
//! never taken from their holders, they retire as they return. Idle ones
//! beyond the new size are destroyed at once, least recently used first.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use weft_primitives::{OwnedSemaphorePermit, Semaphore};

use super::config::IdleOrder;
use super::leak::LeakRegistry;
use super::manager::ConnectionInfo;
use super::metrics::PoolMetrics;
use crate::supervision::AbortOnDrop;

/// A connection and what the pool knows about it.
#[derive(Debug)]
pub(super) struct Entry<C> {
    pub(super) conn: C,
    pub(super) info: ConnectionInfo,
}

impl<C> Entry<C> {
    /// Whether it has lived longer than `max_lifetime`.
    fn outlived(&self, now: Instant, max_lifetime: Option<Duration>) -> bool {
        max_lifetime
            .is_some_and(|limit| now.saturating_duration_since(self.info.created_at) >= limit)
    }

    /// Whether it has been idle for `idle_timeout` or longer.
    fn idled_out(&self, now: Instant, idle_timeout: Option<Duration>) -> bool {
        idle_timeout
            .is_some_and(|limit| now.saturating_duration_since(self.info.last_used) >= limit)
    }
}

/// Everything the pool's mutex protects.
#[derive(Debug)]
pub(super) struct PoolState<C> {
    max_size: usize,
    /// Least recently checked in at the front.
    idle: VecDeque<Entry<C>>,
    in_use: usize,
    creating: usize,
    waiters: usize,
    /// Permits still to forget after a shrinking resize.
    permit_debt: usize,
    closed: bool,
    next_id: u64,
    pub(super) leaks: LeakRegistry,
    /// The counters of [`PoolMetrics`]; its gauges (sizes, waiters) are
    /// left at zero here and filled in by [`metrics`](Self::metrics).
    pub(super) counters: PoolMetrics,
    /// The maintenance task, once spawned; aborted when the pool goes away.
    pub(super) maintenance: Option<AbortOnDrop<()>>,
}

impl<C> PoolState<C> {
    pub(super) fn new(max_size: usize) -> Self {
        Self {
            max_size,
            idle: VecDeque::new(),
            in_use: 0,
            creating: 0,
            waiters: 0,
            permit_debt: 0,
            closed: false,
            next_id: 0,
            leaks: LeakRegistry::default(),
            counters: PoolMetrics::default(),
            maintenance: None,
        }
    }

    /// Every slot of capacity in use: idle, in use and being created.
    fn total(&self) -> usize {
        self.idle.len() + self.in_use + self.creating
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed
    }

    /// Whether the maintenance task should create an idle connection now.
    pub(super) fn below_min_idle(&self, min_idle: usize) -> bool {
        !self.closed && self.idle.len() < min_idle && self.total() < self.max_size
    }

    pub(super) fn add_waiter(&mut self) {
        self.waiters += 1;
    }

    pub(super) fn remove_waiter(&mut self) {
        self.waiters -= 1;
    }

    /// Takes an idle connection for a `get` (it counts as in use from now
    /// on). Connections past their lifetime are moved to `doomed` instead.
    pub(super) fn take_idle(
        &mut self,
        order: IdleOrder,
        now: Instant,
        max_lifetime: Option<Duration>,
        doomed: &mut Vec<Entry<C>>,
    ) -> Option<Entry<C>> {
        loop {
            let entry = match order {
                IdleOrder::Lifo => self.idle.pop_back(),
                IdleOrder::Fifo => self.idle.pop_front(),
            }?;
            if entry.outlived(now, max_lifetime) {
                self.counters.destroyed += 1;
                doomed.push(entry);
            } else {
                self.in_use += 1;
                return Some(entry);
            }
        }
    }

    /// A creation starts in a slot of capacity that is already leased.
    pub(super) fn begin_create(&mut self) {
        self.creating += 1;
    }

    /// A creation ended without a connection: it failed (`failed`) or was
    /// abandoned.
    pub(super) fn end_create(&mut self, failed: bool) {
        self.creating -= 1;
        if failed {
            self.counters.create_errors += 1;
        }
    }

    /// A creation succeeded: the new connection is in use.
    pub(super) fn created(&mut self, conn: C, now: Instant) -> Entry<C> {
        self.creating -= 1;
        self.in_use += 1;
        self.counters.created += 1;
        let id = self.next_id;
        self.next_id += 1;
        Entry {
            conn,
            info: ConnectionInfo {
                id,
                created_at: now,
                last_used: now,
                checkouts: 0,
            },
        }
    }

    /// An in-use connection is to be destroyed (the caller drops it).
    pub(super) fn destroy_in_use(&mut self) {
        self.in_use -= 1;
        self.counters.destroyed += 1;
    }

    /// An in-use connection leaves the pool for good.
    pub(super) fn detach(&mut self) {
        self.in_use -= 1;
        self.counters.detached += 1;
    }

    /// An in-use connection comes back. It becomes idle, unless it is broken,
    /// past its lifetime, beyond a reduced size or the pool is closed: then
    /// it is handed back to be destroyed.
    pub(super) fn check_in(
        &mut self,
        mut entry: Entry<C>,
        broken: bool,
        now: Instant,
        max_lifetime: Option<Duration>,
    ) -> Option<Entry<C>> {
        self.in_use -= 1;
        let retire = broken
            || self.closed
            || entry.outlived(now, max_lifetime)
            || self.total() >= self.max_size;
        if retire {
            self.counters.destroyed += 1;
            return Some(entry);
        }
        entry.info.last_used = now;
        self.idle.push_back(entry);
        None
    }

    /// A lease's permit comes back: forgotten to pay off a shrinking resize,
    /// or released. Either happens under the pool's lock, so that a
    /// `resize` never runs between the decision and the release.
    pub(super) fn return_permit(&mut self, permit: OwnedSemaphorePermit) {
        if self.permit_debt > 0 {
            self.permit_debt -= 1;
            permit.forget();
        } else {
            drop(permit);
        }
    }

    /// Removes idle connections past their lifetime, and those idle for too
    /// long while more than `min_idle` are idle (least recently used first).
    pub(super) fn retire_expired(
        &mut self,
        now: Instant,
        idle_timeout: Option<Duration>,
        max_lifetime: Option<Duration>,
        min_idle: usize,
    ) -> Vec<Entry<C>> {
        let mut kept = VecDeque::with_capacity(self.idle.len());
        let mut retired = Vec::new();
        let mut idle_left = self.idle.len();
        for entry in self.idle.drain(..) {
            let idled_out = idle_left > min_idle && entry.idled_out(now, idle_timeout);
            if idled_out || entry.outlived(now, max_lifetime) {
                idle_left -= 1;
                retired.push(entry);
            } else {
                kept.push_back(entry);
            }
        }
        self.idle = kept;
        self.counters.destroyed += retired.len() as u64;
        retired
    }

    /// Changes the maximum size (see the module docs); returns the idle
    /// connections that no longer fit.
    pub(super) fn resize(&mut self, max_size: usize, capacity: &Semaphore) -> Vec<Entry<C>> {
        let old = std::mem::replace(&mut self.max_size, max_size);
        if max_size >= old {
            let grow = max_size - old;
            let repaid = grow.min(self.permit_debt);
            self.permit_debt -= repaid;
            capacity.add_permits(grow - repaid);
            return Vec::new();
        }
        let mut to_forget = old - max_size;
        while to_forget > 0 {
            match capacity.try_acquire() {
                Ok(permit) => permit.forget(),
                Err(_) => break,
            }
            to_forget -= 1;
        }
        self.permit_debt += to_forget;
        let mut retired = Vec::new();
        while self.total() > self.max_size {
            match self.idle.pop_front() {
                Some(entry) => retired.push(entry),
                None => break,
            }
        }
        self.counters.destroyed += retired.len() as u64;
        retired
    }

    /// Marks the pool closed and hands back every idle connection.
    pub(super) fn close(&mut self) -> Vec<Entry<C>> {
        self.closed = true;
        self.counters.destroyed += self.idle.len() as u64;
        self.idle.drain(..).collect()
    }

    pub(super) fn metrics(&self) -> PoolMetrics {
        PoolMetrics {
            max_size: self.max_size,
            size: self.idle.len() + self.in_use,
            idle: self.idle.len(),
            in_use: self.in_use,
            creating: self.creating,
            waiters: self.waiters,
            ..self.counters
        }
    }
}
