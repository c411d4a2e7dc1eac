//! [`PoolBuilder`]: a pool's settings, each with a safe default.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::config::{IdleOrder, LeakHandler, PoolConfig};
use super::error::BuildError;
use super::leak::LeakReport;
use super::manager::Manager;
use super::pool::Pool;

/// Configures a [`Pool`]; from [`Pool::builder`].
///
/// Every limit has a finite default, so that no call waits forever and no
/// connection lives forever unless asked; a setter that takes an
/// `impl Into<Option<Duration>>` accepts `None` to turn its limit off.
///
/// | setting | default | meaning |
/// |---|---|---|
/// | [`max_size`](Self::max_size) | 10 | connections open at most (idle, in use and being created) |
/// | [`min_idle`](Self::min_idle) | 0 | idle connections the maintenance task keeps ready |
/// | [`acquire_timeout`](Self::acquire_timeout) | 30 s | the whole `get`: waiting, health checks, creating |
/// | [`create_timeout`](Self::create_timeout) | 10 s | one [`Manager::create`] |
/// | [`recycle_timeout`](Self::recycle_timeout) | 5 s | one [`Manager::recycle`] (the connection is then destroyed) |
/// | [`idle_timeout`](Self::idle_timeout) | 10 min | idle this long, a connection beyond `min_idle` is closed |
/// | [`max_lifetime`](Self::max_lifetime) | 30 min | older than this, a connection is closed instead of reused |
/// | [`leak_threshold`](Self::leak_threshold) | off | checked out this long, a connection is reported |
/// | [`on_leak`](Self::on_leak) | standard error | where leak reports go |
/// | [`maintenance_interval`](Self::maintenance_interval) | 30 s | how often the maintenance task runs |
/// | [`idle_order`](Self::idle_order) | [`IdleOrder::Lifo`] | which idle connection a `get` takes |
///
/// Leak detection is off by default because a connection legitimately held
/// for a long time (a long transaction, a subscription) would be reported.
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::conn_pool::{ConnectionInfo, IdleOrder, Manager, Pool};
/// # struct Unit;
/// # impl Manager for Unit {
/// #     type Connection = ();
/// #     type Error = std::convert::Infallible;
/// #     async fn create(&self) -> Result<(), Self::Error> { Ok(()) }
/// #     async fn recycle(&self, _: &mut (), _: &ConnectionInfo) -> Result<(), Self::Error> { Ok(()) }
/// # }
///
/// let pool = Pool::builder(Unit)
///     .max_size(16)
///     .min_idle(2)
///     .acquire_timeout(Duration::from_secs(2))
///     .max_lifetime(None) // connections may live forever
///     .leak_threshold(Duration::from_secs(60))
///     .on_leak(|report| eprintln!("leak: {report}"))
///     .idle_order(IdleOrder::Fifo)
///     .build()
///     .unwrap();
/// assert_eq!(pool.metrics().max_size, 16);
/// ```
pub struct PoolBuilder<M> {
    manager: M,
    config: PoolConfig,
}

// `Pool::builder` lives here, with the builder it starts, so that the pool
// itself does not depend on its builder.
impl<M: Manager> Pool<M> {
    /// Starts configuring a pool of `manager`'s connections.
    ///
    /// ```
    /// use weft_patterns::conn_pool::{ConnectionInfo, Manager, Pool};
    /// # struct Unit;
    /// # impl Manager for Unit {
    /// #     type Connection = ();
    /// #     type Error = std::convert::Infallible;
    /// #     async fn create(&self) -> Result<(), Self::Error> { Ok(()) }
    /// #     async fn recycle(&self, _: &mut (), _: &ConnectionInfo) -> Result<(), Self::Error> { Ok(()) }
    /// # }
    ///
    /// let pool = Pool::builder(Unit).max_size(2).min_idle(1).build().unwrap();
    /// assert_eq!(pool.metrics().max_size, 2);
    /// ```
    pub fn builder(manager: M) -> PoolBuilder<M> {
        PoolBuilder {
            manager,
            config: PoolConfig::default(),
        }
    }
}

impl<M: Manager> PoolBuilder<M> {
    setters! {
        /// The most connections open at once, idle, in use and being created
        /// together (default 10). [`Pool::resize`] changes it later.
        max_size(max_size: usize) => config.max_size = max_size;
        /// How many idle connections the maintenance task keeps ready (default
        /// 0): it creates them in the background when fewer are idle and the
        /// pool has room.
        min_idle(min_idle: usize) => config.min_idle = min_idle;
        /// How long a whole [`get`](Pool::get) may take, waiting for capacity
        /// included (default 30 s; `None`: no limit).
        acquire_timeout(timeout: impl Into<Option<Duration>>) =>
            config.acquire_timeout = timeout.into();
        /// How long one [`Manager::create`] may take (default 10 s; `None`: no
        /// limit other than the acquire timeout).
        create_timeout(timeout: impl Into<Option<Duration>>) =>
            config.create_timeout = timeout.into();
        /// How long one [`Manager::recycle`] may take before its connection is
        /// destroyed (default 5 s; `None`: no limit other than the acquire
        /// timeout).
        recycle_timeout(timeout: impl Into<Option<Duration>>) =>
            config.recycle_timeout = timeout.into();
        /// How long a connection may stay idle before the maintenance task closes
        /// it, as long as more than `min_idle` are idle (default 10 min; `None`:
        /// idle connections are kept).
        idle_timeout(timeout: impl Into<Option<Duration>>) =>
            config.idle_timeout = timeout.into();
        /// How long a connection may live: older, it is destroyed when it comes
        /// back or is found idle, never handed out again (default 30 min;
        /// `None`: no limit). A connection in use is not interrupted.
        max_lifetime(lifetime: impl Into<Option<Duration>>) =>
            config.max_lifetime = lifetime.into();
        /// Reports a connection checked out for this long, with the place of the
        /// `get` that took it (default `None`: off).
        leak_threshold(threshold: impl Into<Option<Duration>>) =>
            config.leak_threshold = threshold.into();
        /// Where leak reports go (default: one line on standard error). The
        /// handler runs outside the pool's lock, in the task that noticed the
        /// leak: the maintenance task, a `get` or a check-in.
        on_leak(handler: impl Fn(&LeakReport) + Send + Sync + 'static) =>
            config.on_leak = Some(LeakHandler(Arc::new(handler)));
        /// How often the maintenance task runs (default 30 s): expired idle
        /// connections are closed and leaks reported at most this late.
        maintenance_interval(interval: Duration) => config.maintenance_interval = interval;
        /// Which idle connection a `get` takes (default [`IdleOrder::Lifo`]).
        idle_order(order: IdleOrder) => config.idle_order = order;
    }

    /// Checks the settings and builds the pool. Inside a weft runtime the
    /// maintenance task starts now (and fills `min_idle`); otherwise at the
    /// first `get`.
    ///
    /// Fails if `max_size` is zero, `min_idle` exceeds it, or a duration is
    /// zero; the manager comes back inside the error.
    pub fn build(self) -> Result<Pool<M>, BuildError<M>> {
        match self.config.check() {
            Ok(()) => Ok(Pool::from_config(self.manager, self.config)),
            Err(reason) => Err(BuildError {
                reason,
                manager: self.manager,
            }),
        }
    }
}

impl<M> fmt::Debug for PoolBuilder<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
