//! A connection pool generic over a [`Manager`]: bounded, fair, with
//! health checks, timeouts that default to finite values, expiry, a
//! minimum of idle connections, resizing at run time, metrics and leak
//! detection; a cancelled `get` never loses or leaks a connection.
//!
//! # Algorithm
//!
//! ```text
//!             ┌──────────── capacity: Semaphore(max_size), FIFO ───────────┐
//!   get() ──▶ │ permit (wait ≤ acquire_timeout) ──▶ Lease                   │
//!             └────────────────────────────────────────┬───────────────────┘
//!                                                      ▼
//!              idle (VecDeque, LIFO by default) ── pop ──▶ recycle (≤ recycle_timeout)
//!                      ▲                    │ none          ok │   │ failed: destroy, next
//!                      │                    ▼                  ▼   │
//!                      │            create (≤ create_timeout) ──▶ PooledConnection
//!                      │                                        │ (Deref to the connection)
//!                      └──── drop: is_broken? expired? too many? ┘ → else destroy; permit back
//! ```
//!
//! * **Capacity is a fair semaphore.** The pool's
//!   [`Semaphore`](weft_primitives::Semaphore) holds one permit per
//!   connection that may still be handed out or created. A `get` takes a
//!   permit first, waiting in the semaphore's first-come-first-served
//!   queue: when a connection comes back, its permit goes to the `get` that
//!   has waited longest, and a newcomer never overtakes it. The permit and
//!   the connection then travel together in a lease until the
//!   [`PooledConnection`] is dropped, so `get`s never poll or retry.
//! * **Reuse, then create.** With a permit, the `get` takes an idle
//!   connection and health-checks it with [`Manager::recycle`]; a
//!   connection that fails, or runs past the recycle timeout, is destroyed
//!   and the next is tried. Only when none is idle does it call
//!   [`Manager::create`]. A connection past its maximum lifetime is never
//!   handed out.
//! * **Check-in.** Dropping the guard asks the manager's
//!   [`is_broken`](Manager::is_broken) hook, then keeps the connection
//!   idle, or destroys it if it is broken, past its lifetime, beyond a
//!   reduced size or the pool is closed; then the permit goes back. Both
//!   happen in one critical section of the pool's mutex (see `state.rs`
//!   for the counting argument that keeps the pool within `max_size`).
//! * **Maintenance.** A task, spawned lazily with `weft_runtime`'s
//!   `spawn`, closes idle connections past the idle timeout (keeping
//!   `min_idle`) or past their lifetime, reports leaks, and creates idle
//!   connections up to `min_idle`. It runs every `maintenance_interval`,
//!   and at once when a checkout, a destroyed or a detached connection
//!   leaves fewer than `min_idle` idle. It takes a permit only if one is
//!   free, so it never delays a waiting `get`.
//! * **Resize.** [`Pool::resize`] grows at once; shrinking destroys idle
//!   connections beyond the new size at once and retires checked-out ones
//!   as they come back (their holders keep them until then).
//! * **Leaks.** With a [leak threshold](PoolBuilder::leak_threshold), a
//!   checkout held longer is reported once, with the file and line of the
//!   `get` that took it (`#[track_caller]`), to a handler
//!   ([`PoolBuilder::on_leak`]) and in [`PoolMetrics::leaks`]. The check
//!   runs on every checkout and check-in and in the maintenance task.
//!
//! Timeouts and their defaults (every one finite unless turned off with
//! `None`) are listed in [`PoolBuilder`]: a 30 s acquire timeout for the
//! whole `get`, 10 s per create, 5 s per health check, 10 min idle
//! timeout, 30 min maximum lifetime.
//!
//! What the tutorial's pool (a semaphore plus a queue of connections) gets
//! wrong, and this one does not: a failing `create_connection` leaks the
//! permit it took, so each failure shrinks the pool for good; a task
//! cancelled while creating leaks the permit too; connections are never
//! health-checked, expired or capped in age, so a dead one is handed out
//! again; a broken connection is put back like a good one; `get` waits
//! forever when the pool is exhausted; keeping "the" connection on the pool
//! object (`self.conn`) makes two concurrent `async with pool` blocks
//! overwrite each other's connection; and there is no way to see what the
//! pool is doing.
//!
//! # Cancellation guarantee
//!
//! A `get` future may be dropped at any await point; capacity, connections
//! and counts stay exact:
//!
//! * **while waiting for capacity**: it leaves the semaphore's queue; a
//!   permit granted to it just before is handed on to the next waiter;
//! * **while a connection is being health-checked**: that connection is
//!   destroyed (a check cut half-way may leave it in an unknown state,
//!   such as a query sent and its reply unread), and its permit is
//!   returned;
//! * **while a connection is being created**: the manager's `create` future
//!   is dropped with it, so whatever it had opened is closed by its
//!   destructors; the creation slot and the permit are returned. No
//!   connection is ever made and then lost: one that `create` returned is
//!   owned by the lease at once, before the next await.
//!
//! In each case `waiters`, `creating`, `in_use` and `size` in
//! [`PoolMetrics`] go back to what they were without that `get`, and the
//! next waiting `get` is served. A dropped [`PooledConnection`] checks its
//! connection in; [`PooledConnection::detach`] takes it out of the pool and
//! frees its capacity. Dropping a [`Pool`] handle while connections are
//! out is fine: each guard keeps the pool alive until it is dropped, and
//! the maintenance task ends when the last handle and guard are gone.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use weft_patterns::conn_pool::{ConnectionInfo, Manager, Pool, PoolError};
//!
//! /// A pretend database: connections are numbers, and each knows whether it died.
//! struct Database;
//!
//! struct Conn {
//!     id: u32,
//!     alive: bool,
//! }
//!
//! impl Manager for Database {
//!     type Connection = Conn;
//!     type Error = String;
//!
//!     async fn create(&self) -> Result<Conn, String> {
//!         weft_runtime::sleep(Duration::from_millis(20)).await; // the handshake
//!         Ok(Conn { id: 1, alive: true })
//!     }
//!
//!     async fn recycle(&self, conn: &mut Conn, _: &ConnectionInfo) -> Result<(), String> {
//!         // A real manager would run `SELECT 1` here.
//!         if conn.alive { Ok(()) } else { Err(format!("connection {} is dead", conn.id)) }
//!     }
//! }
//!
//! let rt = weft_runtime::Builder::new().start_paused(true).build();
//! rt.block_on(async {
//!     let pool = Pool::builder(Database)
//!         .max_size(2)
//!         .acquire_timeout(Duration::from_secs(1))
//!         .build()
//!         .unwrap();
//!
//!     let mut conn = pool.get().await.unwrap();
//!     conn.alive = false; // it dies while in use
//!     drop(conn);
//!
//!     // The health check catches it: destroyed and replaced, unseen by the caller.
//!     let conn = pool.get().await.unwrap();
//!     assert!(conn.alive);
//!     let metrics = pool.metrics();
//!     assert_eq!((metrics.created, metrics.recycle_errors, metrics.destroyed), (2, 1, 1));
//!
//!     // Two out of two: a third `get` times out instead of waiting forever.
//!     let other = pool.get().await.unwrap();
//!     assert!(matches!(pool.get().await, Err(PoolError::Timeout { .. })));
//!     # drop((conn, other));
//! });
//! ```

mod builder;
mod config;
mod error;
mod guard;
mod inner;
mod leak;
mod lease;
mod maintenance;
mod manager;
mod metrics;
mod pool;
mod state;

pub use builder::PoolBuilder;
pub use config::{ConfigError, IdleOrder};
pub use error::{BuildError, PoolError, TimeoutKind};
pub use guard::PooledConnection;
pub use leak::LeakReport;
pub use manager::{ConnectionInfo, Manager};
pub use metrics::PoolMetrics;
pub use pool::Pool;
