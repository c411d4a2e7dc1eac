//! The pool's metrics: gauges of what it holds now and counters of what it
//! did, read together under the pool's lock so that they add up.

/// A consistent snapshot of a pool, from [`Pool::metrics`](super::Pool::metrics).
///
/// All fields are read at the same instant, so these always hold:
///
/// * `size == idle + in_use`
/// * `size + creating <= max_size`, except for a while after a shrinking
///   [`resize`](super::Pool::resize): connections still checked out are
///   retired as they come back;
/// * `created == size + destroyed + detached`: every connection ever made is
///   open, or was destroyed, or was detached.
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
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let pool = Pool::builder(Unit).build().unwrap();
///     let first = pool.get().await.unwrap();
///     drop(pool.get().await.unwrap());
///     let metrics = pool.metrics();
///     assert_eq!((metrics.size, metrics.idle, metrics.in_use), (2, 1, 1));
///     assert_eq!((metrics.created, metrics.checkouts), (2, 2));
///     # drop(first);
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PoolMetrics {
    /// The current maximum size.
    pub max_size: usize,
    /// Open connections: `idle + in_use`.
    pub size: usize,
    /// Connections waiting in the pool.
    pub idle: usize,
    /// Connections handed out, or being health-checked for a `get`.
    pub in_use: usize,
    /// Connections being created (by a `get` or to keep `min_idle`).
    pub creating: usize,
    /// `get` calls waiting for capacity.
    pub waiters: usize,
    /// Connections handed out, in total.
    pub checkouts: u64,
    /// Connections created, in total.
    pub created: u64,
    /// `create` calls that failed or timed out.
    pub create_errors: u64,
    /// Successful health checks ([`Manager::recycle`](super::Manager::recycle)).
    pub recycled: u64,
    /// Health checks that failed or timed out (each destroyed its connection).
    pub recycle_errors: u64,
    /// Connections destroyed: broken, expired, retired by a resize, failed a
    /// health check, abandoned by a cancelled `get`, or closed with the pool.
    pub destroyed: u64,
    /// Connections taken out of the pool with
    /// [`PooledConnection::detach`](super::PooledConnection::detach).
    pub detached: u64,
    /// `get` calls that failed with a timeout.
    pub timeouts: u64,
    /// Checkouts reported as leaks.
    pub leaks: u64,
}
