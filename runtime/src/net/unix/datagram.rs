//! [`UnixDatagram`]: datagrams between Unix sockets, on the same rules as
//! [`UdpSocket`](crate::net::UdpSocket) (see `net/datagram.rs`, which
//! also holds the methods the two share): `&self` operations, one waiting
//! task per direction, readiness cleared only on `WouldBlock`, every
//! waiting operation cancel-safe. Unlike UDP, a Unix datagram is never
//! lost or reordered on the way: a full receive queue makes the sender
//! wait instead.

use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{Context, Poll};

use crate::driver::io_source::IoSource;
use crate::driver::reactor::Direction;
use crate::io::one_waiter::{poll_op, try_op, wait_op, WaiterClaims};
use crate::net::datagram::datagram_methods;
use crate::net::raw_access::{self, impl_raw_access};
use crate::scheduler::context;

/// A Unix datagram socket registered with the current weft runtime.
///
/// ```
/// use weft_runtime::net::unix::UnixDatagram;
///
/// weft_runtime::run(async {
///     let (a, b) = UnixDatagram::pair().unwrap();
///     a.send(b"one").await.unwrap();
///     a.send(b"two").await.unwrap();
///     let mut buf = [0; 8];
///     assert_eq!(b.recv(&mut buf).await.unwrap(), 3); // datagram boundaries are kept
///     assert_eq!(&buf[..3], b"one");
///     assert_eq!(b.recv(&mut buf).await.unwrap(), 3);
/// });
/// ```
#[derive(Debug)]
pub struct UnixDatagram {
    io: IoSource<mio::net::UnixDatagram>,
    claims: WaiterClaims,
}

impl UnixDatagram {
    /// Creates the socket file at `path` and binds a datagram socket to
    /// it. The errors name the path (see
    /// [`UnixListener::bind`](super::UnixListener::bind)).
    ///
    /// ```
    /// use weft_runtime::net::unix::UnixDatagram;
    ///
    /// let dir = std::env::temp_dir().join(format!("weft-dgram-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("d.sock");
    /// weft_runtime::run(async {
    ///     let server = UnixDatagram::bind(&path).unwrap();
    ///     let client = UnixDatagram::unbound().unwrap();
    ///     client.send_to(b"hello", &path).await.unwrap();
    ///     let mut buf = [0; 8];
    ///     let (n, from) = server.recv_from(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"hello");
    ///     assert!(from.is_unnamed()); // the client never bound a path
    /// });
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let path = path.as_ref();
        let socket =
            mio::net::UnixDatagram::bind(path).map_err(|e| super::path_error(e, "bind", path))?;
        Self::from_mio(socket)
    }

    /// A socket bound to no path: it can send, and receive replies only
    /// through [`connect`](UnixDatagram::connect)ed peers or a pair.
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub fn unbound() -> io::Result<UnixDatagram> {
        Self::from_mio(mio::net::UnixDatagram::unbound()?)
    }

    /// Two connected, unnamed datagram sockets (`socketpair(2)`).
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        Ok((Self::from_mio(a)?, Self::from_mio(b)?))
    }

    /// Registers a standard-library Unix datagram socket with the current
    /// runtime (it is switched to non-blocking mode).
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        Self::from_mio(mio::net::UnixDatagram::from_std(socket))
    }

    fn from_mio(socket: mio::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: IoSource::new(socket, context::reactor())?,
            claims: WaiterClaims::default(),
        })
    }

    /// Takes the socket out of the runtime as a standard-library one (still
    /// in non-blocking mode).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        raw_access::into_std(self.io)
    }

    /// Sets the default peer: [`send`](UnixDatagram::send) goes to the
    /// socket at `path`, and [`recv`](UnixDatagram::recv) takes datagrams
    /// from it only.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        self.io
            .get_ref()
            .connect(path)
            .map_err(|e| super::path_error(e, "connect to", path))
    }

    datagram_methods!(SocketAddr, "UnixDatagram");

    /// Sends `buf` as one datagram to the socket at `path`. Cancel-safe.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        wait_op(&self.io, &self.claims, Direction::Write, SEND, |s| {
            s.send_to(buf, path)
        })
        .await
        .map_err(|e| super::path_error(e, "send to", path))
    }

    /// The poll form of [`send_to`](UnixDatagram::send_to).
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        path: &Path,
    ) -> Poll<io::Result<usize>> {
        poll_op(&self.io, cx, Direction::Write, |s| s.send_to(buf, path))
    }

    /// One non-blocking send to the socket at `path`.
    pub fn try_send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        try_op(&self.io, Direction::Write, |s| {
            s.send_to(buf, path.as_ref())
        })
    }

    /// Shuts down the reading side, the writing side or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }
}

/// What `send_to` waits to do, for the error a second waiting task gets.
const SEND: &str = "send on this UnixDatagram";

impl_raw_access!(UnixDatagram);
