//! [`Manager`]: what the pool asks of the code that knows the connections.
//!
//! The pool never opens, checks or closes a connection itself. It calls its
//! manager to create one, to check an idle one before handing it out again,
//! and to look at one that comes back; closing is dropping. Every call is
//! made outside the pool's lock, so a manager may take as long as it likes
//! (within the pool's timeouts) and may even use the pool.

use std::future::Future;
use std::time::Instant;

/// Creates connections and checks their health for a
/// [`Pool`](super::Pool).
///
/// `create` and `recycle` return futures (write them as `async fn` in the
/// impl). The pool runs them inside the caller's [`get`](super::Pool::get),
/// under the create and recycle timeouts, and drops them if the caller
/// gives up, so a half-made connection held by a dropped `create` future is
/// destroyed with it. The futures need not be `Send`: weft runs a task on
/// one thread.
///
/// When is each method called:
///
/// | method | when | on failure |
/// |---|---|---|
/// | [`create`](Self::create) | a `get` finds no idle connection, or the pool tops up `min_idle` | the error goes to the caller of `get`, the capacity is freed |
/// | [`recycle`](Self::recycle) | before an idle connection is handed out again | the connection is destroyed and the `get` tries the next one (or creates one) |
/// | [`on_checkout`](Self::on_checkout) | just before any connection is handed out | (cannot fail) |
/// | [`is_broken`](Self::is_broken) | when a [`PooledConnection`](super::PooledConnection) is dropped | `true` destroys the connection instead of keeping it idle |
///
/// ```
/// use std::convert::Infallible;
/// use weft_patterns::conn_pool::{ConnectionInfo, Manager};
///
/// /// Hands out numbered "connections"; a real manager would open sockets.
/// struct Numbers;
///
/// impl Manager for Numbers {
///     type Connection = u32;
///     type Error = Infallible;
///
///     async fn create(&self) -> Result<u32, Infallible> {
///         Ok(7)
///     }
///
///     async fn recycle(&self, conn: &mut u32, _info: &ConnectionInfo) -> Result<(), Infallible> {
///         *conn += 1; // a real manager would run a cheap health-check query
///         Ok(())
///     }
/// }
/// ```
pub trait Manager: 'static {
    /// The pooled resource: a database connection, a TCP stream, a client.
    type Connection: 'static;
    /// What [`create`](Self::create) and [`recycle`](Self::recycle) fail with.
    type Error;

    /// Opens a new connection.
    fn create(&self) -> impl Future<Output = Result<Self::Connection, Self::Error>>;

    /// Checks (and if need be resets) an idle connection before it is handed
    /// out again: the pool's health check. An error, or running past the
    /// recycle timeout, destroys the connection; the caller of `get` never
    /// sees that error and is served another connection.
    ///
    /// `info` tells how old the connection is and when it was last used, so a
    /// manager can skip an expensive check for a connection used a moment ago.
    fn recycle(
        &self,
        conn: &mut Self::Connection,
        info: &ConnectionInfo,
    ) -> impl Future<Output = Result<(), Self::Error>>;

    /// Runs on every checkout, after `create` or `recycle` succeeded and just
    /// before the connection is handed to the caller. The default does
    /// nothing.
    fn on_checkout(&self, conn: &mut Self::Connection) {
        let _ = conn;
    }

    /// The check-in hook: runs when a [`PooledConnection`](super::PooledConnection)
    /// is dropped, and may reset the connection's state. Returning `true`
    /// destroys the connection instead of keeping it idle (a stream that saw
    /// an I/O error, a transaction left open). It is synchronous because it
    /// runs inside a `drop`. The default keeps every connection.
    fn is_broken(&self, conn: &mut Self::Connection) -> bool {
        let _ = conn;
        false
    }
}

/// What the pool knows about one connection; given to
/// [`Manager::recycle`] and available from
/// [`PooledConnection::info`](super::PooledConnection::info).
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
///     let pool = Pool::builder(Unit).build().unwrap();
///     let conn = pool.get().await.unwrap();
///     let info = weft_patterns::conn_pool::PooledConnection::info(&conn);
///     assert_eq!((info.id, info.checkouts), (0, 1));
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// Unique within its pool, in order of creation, from 0.
    pub id: u64,
    /// When `create` returned it.
    pub created_at: Instant,
    /// When it was last created or checked in.
    pub last_used: Instant,
    /// How many times it has been handed out, the current checkout included.
    pub checkouts: u64,
}
