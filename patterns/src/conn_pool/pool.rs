//! [`Pool`]: the handle users hold, and the `get` algorithm.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weft_primitives::{Event, Semaphore, TryAcquireError};
use weft_runtime::time;

use super::config::{check_sizes, ConfigError, PoolConfig};
use super::error::{PoolError, TimeoutKind};
use super::guard::PooledConnection;
use super::inner::{Inner, PoolClosed};
use super::lease::{End, Lease, Reserved};
use super::maintenance;
use super::manager::Manager;
use super::metrics::PoolMetrics;
use super::state::PoolState;
use crate::deadline::{deadline_after, has_passed, step_deadline, within};

/// A pool of connections made by a [`Manager`]; see the [module
/// docs](super) for the algorithm, the defaults and the guarantees.
///
/// `Pool` is a cheap handle: clones share the same pool. It is `Send` and
/// `Sync` when the manager is `Send + Sync` and its connections are `Send`.
///
/// ```
/// use std::convert::Infallible;
/// use std::time::Duration;
/// use weft_patterns::conn_pool::{ConnectionInfo, Manager, Pool};
///
/// struct Counter;
///
/// impl Manager for Counter {
///     type Connection = Vec<&'static str>;
///     type Error = Infallible;
///     async fn create(&self) -> Result<Self::Connection, Infallible> {
///         Ok(Vec::new())
///     }
///     async fn recycle(&self, log: &mut Self::Connection, _: &ConnectionInfo) -> Result<(), Infallible> {
///         log.push("recycled");
///         Ok(())
///     }
/// }
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let pool = Pool::builder(Counter)
///         .max_size(4)
///         .acquire_timeout(Duration::from_secs(5))
///         .build()
///         .unwrap();
///     let mut conn = pool.get().await.unwrap();
///     conn.push("used");
///     drop(conn);
///     let conn = pool.get().await.unwrap(); // the same one, health-checked
///     assert_eq!(*conn, ["used", "recycled"]);
/// });
/// ```
pub struct Pool<M: Manager> {
    inner: Arc<Inner<M>>,
}

/// Counts a `get` as waiting for capacity while it lives.
struct Waiting<'a, M: Manager>(&'a Inner<M>);

impl<'a, M: Manager> Waiting<'a, M> {
    fn new(inner: &'a Inner<M>) -> Self {
        inner.lock().add_waiter();
        Self(inner)
    }
}

impl<M: Manager> Drop for Waiting<'_, M> {
    fn drop(&mut self) {
        self.0.lock().remove_waiter();
    }
}

impl<M: Manager> Pool<M> {
    /// Builds the pool from a checked configuration (see
    /// [`PoolBuilder::build`](super::PoolBuilder::build)).
    pub(super) fn from_config(manager: M, config: PoolConfig) -> Self {
        let inner = Arc::new(Inner {
            capacity: Arc::new(Semaphore::new(config.max_size)),
            state: Mutex::new(PoolState::new(config.max_size)),
            wake: Arc::new(Event::new()),
            manager,
            config,
        });
        maintenance::ensure_running(&inner);
        Self { inner }
    }

    /// Checks a connection out: waits (first come, first served) for
    /// capacity, then takes an idle connection and health-checks it with
    /// [`Manager::recycle`], trying the next one or creating a new one when
    /// a check fails, or creates one if none is idle.
    ///
    /// Fails with [`PoolError::Timeout`] when the acquire timeout (for the
    /// whole call) or the create timeout runs out, with
    /// [`PoolError::Create`] when the manager cannot create a connection,
    /// and with [`PoolError::Closed`] once the pool is closed. The call site
    /// is recorded for leak reports.
    ///
    /// The future owns a handle to the pool (it is `'static`) and is
    /// cancel-safe: dropping it at any point loses no capacity and no
    /// connection (see the [module docs](super#cancellation-guarantee)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_patterns::conn_pool::{ConnectionInfo, Manager, Pool, PoolError, TimeoutKind};
    /// # struct Unit;
    /// # impl Manager for Unit {
    /// #     type Connection = ();
    /// #     type Error = std::convert::Infallible;
    /// #     async fn create(&self) -> Result<(), Self::Error> { Ok(()) }
    /// #     async fn recycle(&self, _: &mut (), _: &ConnectionInfo) -> Result<(), Self::Error> { Ok(()) }
    /// # }
    ///
    /// let rt = weft_runtime::Builder::new().start_paused(true).build();
    /// rt.block_on(async {
    ///     let pool = Pool::builder(Unit).max_size(1).build().unwrap();
    ///     let held = pool.get().await.unwrap();
    ///     let start = weft_runtime::time::now();
    ///     let error = pool.get().await.unwrap_err(); // the default acquire timeout: 30 s
    ///     assert_eq!(error, PoolError::Timeout { kind: TimeoutKind::Acquire, limit: Duration::from_secs(30) });
    ///     assert_eq!(weft_runtime::time::now() - start, Duration::from_secs(30));
    ///     # drop(held);
    /// });
    /// ```
    #[track_caller]
    pub fn get(
        &self,
    ) -> impl Future<Output = Result<PooledConnection<M>, PoolError<M::Error>>> + 'static {
        let location = Location::caller();
        let inner = self.inner.clone();
        async move {
            let outcome = checkout(&inner, location).await;
            if let Err(PoolError::Timeout { .. }) = outcome {
                inner.lock().counters.timeouts += 1;
            }
            outcome
        }
    }

    /// A snapshot of the pool's gauges and counters, read together.
    ///
    /// ```
    /// # use weft_patterns::conn_pool::{ConnectionInfo, Manager, Pool};
    /// # struct Unit;
    /// # impl Manager for Unit {
    /// #     type Connection = ();
    /// #     type Error = std::convert::Infallible;
    /// #     async fn create(&self) -> Result<(), Self::Error> { Ok(()) }
    /// #     async fn recycle(&self, _: &mut (), _: &ConnectionInfo) -> Result<(), Self::Error> { Ok(()) }
    /// # }
    /// let pool = Pool::builder(Unit).build().unwrap();
    /// let metrics = pool.metrics();
    /// assert_eq!((metrics.max_size, metrics.size, metrics.waiters), (10, 0, 0));
    /// ```
    pub fn metrics(&self) -> PoolMetrics {
        self.inner.lock().metrics()
    }

    /// Changes the maximum size at run time.
    ///
    /// Growing serves waiting `get`s at once. Shrinking destroys idle
    /// connections beyond the new size at once, and never takes a
    /// checked-out connection from its holder: those are destroyed as they
    /// come back, until the pool fits; no new `get` is served until then.
    /// Fails (and changes nothing) if `max_size` is zero or below `min_idle`.
    ///
    /// ```
    /// # use weft_patterns::conn_pool::{ConnectionInfo, Manager, Pool};
    /// # struct Unit;
    /// # impl Manager for Unit {
    /// #     type Connection = ();
    /// #     type Error = std::convert::Infallible;
    /// #     async fn create(&self) -> Result<(), Self::Error> { Ok(()) }
    /// #     async fn recycle(&self, _: &mut (), _: &ConnectionInfo) -> Result<(), Self::Error> { Ok(()) }
    /// # }
    /// let rt = weft_runtime::Builder::new().start_paused(true).build();
    /// rt.block_on(async {
    ///     let pool = Pool::builder(Unit).max_size(2).build().unwrap();
    ///     let (a, b) = (pool.get().await.unwrap(), pool.get().await.unwrap());
    ///     pool.resize(1).unwrap();
    ///     drop(a); // retired: two were open, one fits
    ///     assert_eq!(pool.metrics().size, 1);
    ///     drop(b); // kept idle
    ///     assert_eq!((pool.metrics().idle, pool.metrics().destroyed), (1, 1));
    ///     assert!(pool.resize(0).is_err());
    /// });
    /// ```
    pub fn resize(&self, max_size: usize) -> Result<(), ConfigError> {
        let inner = &self.inner;
        check_sizes(max_size, inner.config.min_idle)?;
        let mut state = inner.lock();
        let retired = state.resize(max_size, &inner.capacity);
        let top_up = state.below_min_idle(inner.config.min_idle);
        drop(state);
        inner.after_unlock(top_up, Vec::new());
        drop(retired);
        Ok(())
    }

    /// Closes the pool: waiting and later `get`s fail with
    /// [`PoolError::Closed`], idle connections are destroyed now and
    /// checked-out ones when they come back, and the maintenance task stops.
    ///
    /// ```
    /// # use weft_patterns::conn_pool::{ConnectionInfo, Manager, Pool, PoolError};
    /// # struct Unit;
    /// # impl Manager for Unit {
    /// #     type Connection = ();
    /// #     type Error = std::convert::Infallible;
    /// #     async fn create(&self) -> Result<(), Self::Error> { Ok(()) }
    /// #     async fn recycle(&self, _: &mut (), _: &ConnectionInfo) -> Result<(), Self::Error> { Ok(()) }
    /// # }
    /// let rt = weft_runtime::Builder::new().start_paused(true).build();
    /// rt.block_on(async {
    ///     let pool = Pool::builder(Unit).build().unwrap();
    ///     drop(pool.get().await.unwrap());
    ///     pool.close();
    ///     assert_eq!(pool.get().await.unwrap_err(), PoolError::Closed);
    ///     assert_eq!((pool.metrics().size, pool.metrics().destroyed), (0, 1));
    /// });
    /// ```
    pub fn close(&self) {
        let (idle, maintenance) = {
            let mut state = self.inner.lock();
            (state.close(), state.maintenance.take())
        };
        self.inner.capacity.close();
        drop(maintenance); // aborts the task
        drop(idle);
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// The pool's manager.
    pub fn manager(&self) -> &M {
        &self.inner.manager
    }
}

/// The body of [`Pool::get`].
async fn checkout<M: Manager>(
    inner: &Arc<Inner<M>>,
    location: &'static Location<'static>,
) -> Result<PooledConnection<M>, PoolError<M::Error>> {
    let config = &inner.config;
    maintenance::ensure_running(inner);
    let deadline = deadline_after(time::now(), config.acquire_timeout);
    let acquire_timeout = || PoolError::Timeout {
        kind: TimeoutKind::Acquire,
        limit: config.acquire_timeout.unwrap_or(Duration::MAX),
    };
    let mut lease = wait_for_capacity(inner, deadline)
        .await?
        .ok_or_else(acquire_timeout)?;
    let recycled = loop {
        match lease.reserve().map_err(|PoolClosed| PoolError::Closed)? {
            Reserved::Idle => {
                let limit = step_deadline(config.recycle_timeout, deadline);
                let entry = lease.entry_mut();
                let check = inner.manager.recycle(&mut entry.conn, &entry.info);
                if let Some(Ok(())) = within(limit, check).await {
                    break true;
                }
                lease.discard_unhealthy();
                if has_passed(deadline) {
                    return Err(acquire_timeout());
                }
            }
            Reserved::Create => {
                let limit = step_deadline(config.create_timeout, deadline);
                match within(limit, inner.manager.create()).await {
                    Some(Ok(conn)) => {
                        lease.created(conn);
                        break false;
                    }
                    Some(Err(error)) => {
                        lease.finish(End::CreateFailed);
                        return Err(PoolError::Create(error));
                    }
                    None => {
                        lease.finish(End::CreateFailed);
                        return Err(if has_passed(deadline) {
                            acquire_timeout()
                        } else {
                            PoolError::Timeout {
                                kind: TimeoutKind::Create,
                                limit: config.create_timeout.unwrap_or(Duration::MAX),
                            }
                        });
                    }
                }
            }
        }
    };
    inner.manager.on_checkout(&mut lease.entry_mut().conn);
    lease.check_out(location, recycled);
    Ok(PooledConnection::new(lease))
}

/// Takes a permit, waiting in the semaphore's FIFO queue if none is free;
/// `Ok(None)` if the deadline passed first.
async fn wait_for_capacity<M: Manager>(
    inner: &Arc<Inner<M>>,
    deadline: Option<Instant>,
) -> Result<Option<Lease<M>>, PoolError<M::Error>> {
    let permit = match inner.capacity.clone().try_acquire_owned() {
        Ok(permit) => permit,
        Err(TryAcquireError::Closed) => return Err(PoolError::Closed),
        Err(TryAcquireError::NoPermits) => {
            let _waiting = Waiting::new(inner);
            match within(deadline, inner.capacity.clone().acquire_owned()).await {
                Some(Ok(permit)) => permit,
                Some(Err(_closed)) => return Err(PoolError::Closed),
                None => return Ok(None),
            }
        }
    };
    Ok(Some(Lease::new(inner.clone(), permit)))
}

impl<M: Manager> Clone for Pool<M> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<M: Manager> fmt::Debug for Pool<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("config", &self.inner.config)
            .field("metrics", &self.metrics())
            .field("closed", &self.is_closed())
            .finish()
    }
}
