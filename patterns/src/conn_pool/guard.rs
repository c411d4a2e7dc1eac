//! [`PooledConnection`]: a checked-out connection that goes back to the pool
//! when dropped.

use std::fmt;
use std::ops::{Deref, DerefMut};

use super::lease::{End, Lease};
use super::manager::{ConnectionInfo, Manager};

/// A connection checked out of a [`Pool`](super::Pool). It dereferences to
/// the connection, and dropping it checks the connection back in: the
/// manager's [`is_broken`](Manager::is_broken) hook looks at it, then it
/// becomes idle, or is destroyed if it is broken, past its lifetime, beyond
/// a reduced maximum size or the pool was closed. Either way its capacity
/// is free again and the next waiting `get` is served.
///
/// The guard owns a reference to the pool, so it can move into another task
/// and outlive the [`Pool`](super::Pool) handle it came from.
///
/// [`detach`](Self::detach) takes the connection out of the pool for good.
/// The methods are associated functions (`PooledConnection::detach(conn)`)
/// so that they never shadow the connection's own methods.
///
/// ```
/// use weft_patterns::conn_pool::{ConnectionInfo, Manager, Pool, PooledConnection};
/// # struct Text;
/// # impl Manager for Text {
/// #     type Connection = String;
/// #     type Error = std::convert::Infallible;
/// #     async fn create(&self) -> Result<String, Self::Error> { Ok(String::new()) }
/// #     async fn recycle(&self, _: &mut String, _: &ConnectionInfo) -> Result<(), Self::Error> { Ok(()) }
/// # }
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let pool = Pool::builder(Text).max_size(1).build().unwrap();
///     let mut conn = pool.get().await.unwrap();
///     conn.push_str("hello"); // DerefMut to the String
///     drop(conn); // back to the pool
///
///     let conn = pool.get().await.unwrap();
///     assert_eq!(*conn, "hello"); // the same connection again
///     let mine: String = PooledConnection::detach(conn);
///     assert_eq!(pool.metrics().size, 0); // gone from the pool, capacity free
///     # drop(mine);
/// });
/// ```
pub struct PooledConnection<M: Manager> {
    lease: Lease<M>,
}

impl<M: Manager> PooledConnection<M> {
    /// Wraps a lease that holds a checked-out connection.
    pub(super) fn new(lease: Lease<M>) -> Self {
        Self { lease }
    }

    /// Removes the connection from the pool and returns it: the pool forgets
    /// it (counted in [`PoolMetrics::detached`](super::PoolMetrics::detached))
    /// and its capacity is free for a new connection.
    pub fn detach(mut this: Self) -> M::Connection {
        this.lease
            .finish(End::Detach)
            .expect("a checked-out connection is held until it is detached")
    }

    /// What the pool knows about this connection.
    pub fn info(this: &Self) -> &ConnectionInfo {
        &this.lease.entry().info
    }
}

impl<M: Manager> Deref for PooledConnection<M> {
    type Target = M::Connection;

    fn deref(&self) -> &M::Connection {
        &self.lease.entry().conn
    }
}

impl<M: Manager> DerefMut for PooledConnection<M> {
    fn deref_mut(&mut self) -> &mut M::Connection {
        &mut self.lease.entry_mut().conn
    }
}

impl<M: Manager> Drop for PooledConnection<M> {
    fn drop(&mut self) {
        self.lease.check_in();
    }
}

impl<M: Manager> fmt::Debug for PooledConnection<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledConnection")
            .field("info", &self.lease.entry().info)
            .finish_non_exhaustive()
    }
}
