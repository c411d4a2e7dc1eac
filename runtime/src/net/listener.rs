//! [`TcpListener`]: a socket that accepts connections.
//!
//! Accepting follows the same edge-triggered rule as reading: the listener
//! is readable while connections wait in its backlog, `accept(2)` takes one,
//! and `WouldBlock` (an empty backlog) clears readiness until the next edge.
//! Every accepted connection is registered with the runtime as a
//! [`TcpStream`]. Each accept spends one unit of the task's cooperative
//! budget, so a flood of connections cannot keep an accept loop from
//! yielding.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use super::addr::{self, ToSocketAddrs};
use super::listen_options::ListenOptions;
use super::ops::retry_interrupted;
use super::raw_access::{self, impl_raw_access};
use super::stream::TcpStream;
use crate::driver::io_source::IoSource;
use crate::driver::reactor::Direction;
use crate::scheduler::context;

/// A TCP socket listening for connections, registered with the current
/// weft runtime. Dropping it closes the socket: later connection attempts
/// are refused.
///
/// ```
/// use weft_runtime::net::{TcpListener, TcpStream};
///
/// weft_runtime::run(async {
///     let mut listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let client = weft_runtime::spawn(async move { TcpStream::connect(addr).await.unwrap() });
///     let (stream, peer) = listener.accept().await.unwrap();
///     let client = client.await.unwrap();
///     assert_eq!(peer, client.local_addr().unwrap());
///     assert_eq!(stream.peer_addr().unwrap(), peer);
/// });
/// ```
#[derive(Debug)]
pub struct TcpListener {
    io: IoSource<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (port 0 picks a free port) and starts listening,
    /// trying each address it resolves to in turn; the error is the last
    /// address's, and names it. The socket gets the default
    /// [`ListenOptions`]: a backlog of 1024 and, on Unix, `SO_REUSEADDR`, so
    /// a restarted server can bind its port at once. A host name is
    /// resolved off the runtime's thread (see [`ToSocketAddrs`]).
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     let taken = weft_runtime::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = taken.local_addr().unwrap();
    ///     let err = weft_runtime::net::TcpListener::bind(addr).await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    ///     assert!(err.to_string().contains(&addr.to_string()));
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        Self::bind_with(addr, &ListenOptions::default()).await
    }

    /// [`bind`](TcpListener::bind) with the socket set up by `options`
    /// first: backlog, `SO_REUSEADDR`, `SO_REUSEPORT`, buffer sizes.
    ///
    /// ```
    /// use weft_runtime::net::{ListenOptions, TcpListener};
    ///
    /// weft_runtime::run(async {
    ///     let options = ListenOptions::new().backlog(16);
    ///     let listener = TcpListener::bind_with(("127.0.0.1", 0), &options).await.unwrap();
    ///     assert!(listener.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub async fn bind_with(
        addr: impl ToSocketAddrs,
        options: &ListenOptions,
    ) -> io::Result<TcpListener> {
        let mut last_error = None;
        for addr in addr::resolve(addr).await? {
            match options.listen(addr).and_then(Self::from_std) {
                Ok(listener) => return Ok(listener),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.expect("resolve returns at least one address"))
    }

    /// Registers a listening standard-library socket with the current
    /// runtime (it is switched to non-blocking mode).
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let addr = std_listener.local_addr().unwrap();
    ///     let listener = weft_runtime::net::TcpListener::from_std(std_listener).unwrap();
    ///     assert_eq!(listener.local_addr().unwrap(), addr);
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: IoSource::new(
                mio::net::TcpListener::from_std(listener),
                context::reactor(),
            )?,
        })
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// Takes `&mut self` because the listener keeps one waiting task; to
    /// accept from several tasks, accept in one and hand the streams out.
    /// Cancel-safe: a connection is taken from the backlog only when the
    /// future completes.
    pub async fn accept(&mut self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// The poll form of [`accept`](TcpListener::accept), for hand-written
    /// futures.
    pub fn poll_accept(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let accepted = self.io.poll_io(cx, Direction::Read, |listener| {
            retry_interrupted(|| listener.accept())
        });
        accepted.map(|result| {
            let (stream, peer) = result?;
            Ok((TcpStream::from_mio(stream)?, peer))
        })
    }

    /// The local address the listener is bound to (with the port the OS
    /// picked, if it was 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Takes the listener out of the runtime as a standard-library one
    /// (still in non-blocking mode; see [`net`](super)'s notes on raw
    /// access).
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     let listener = weft_runtime::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let std_listener = listener.into_std().unwrap();
    ///     assert_eq!(std_listener.local_addr().unwrap(), addr);
    /// });
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        raw_access::into_std(self.io)
    }

    /// Sets `IP_TTL`, which accepted connections inherit.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The `IP_TTL` option.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }
}

impl_raw_access!(TcpListener);
