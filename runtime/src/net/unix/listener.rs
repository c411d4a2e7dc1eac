//! [`UnixListener`]: a Unix socket that accepts connections, on the same
//! edge-triggered rule as [`TcpListener`](crate::net::TcpListener): readable
//! while connections wait, `WouldBlock` clears readiness, one unit of
//! cooperative budget per accept.

use std::future::poll_fn;
use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{Context, Poll};

use super::stream::UnixStream;
use crate::driver::io_source::IoSource;
use crate::driver::reactor::Direction;
use crate::net::ops::retry_interrupted;
use crate::net::raw_access::{self, impl_raw_access};
use crate::scheduler::context;

/// A Unix socket listening for connections at a path, registered with the
/// current weft runtime. Dropping it closes the socket (the socket file
/// stays).
///
/// ```
/// use weft_runtime::net::unix::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("weft-listener-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("l.sock");
/// weft_runtime::run(async {
///     let mut listener = UnixListener::bind(&path).unwrap();
///     let client = UnixStream::connect(&path).await.unwrap();
///     let (server, _) = listener.accept().await.unwrap();
///     assert_eq!(server.local_addr().unwrap().as_pathname(), Some(path.as_path()));
///     drop(client);
/// });
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug)]
pub struct UnixListener {
    io: IoSource<mio::net::UnixListener>,
}

impl UnixListener {
    /// Creates the socket file at `path` and listens on it. A path that
    /// exists already gives `AddrInUse`, a path that is too long
    /// `InvalidInput`; both errors name the path.
    ///
    /// ```
    /// let err = weft_runtime::run(async {
    ///     let long = format!("/tmp/{}", "x".repeat(200));
    ///     weft_runtime::net::unix::UnixListener::bind(&long).unwrap_err()
    /// });
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// assert!(err.to_string().contains("bytes long"));
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let path = path.as_ref();
        let listener =
            mio::net::UnixListener::bind(path).map_err(|e| super::path_error(e, "bind", path))?;
        Ok(UnixListener {
            io: IoSource::new(listener, context::reactor())?,
        })
    }

    /// Registers a listening standard-library Unix listener with the
    /// current runtime (it is switched to non-blocking mode).
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: IoSource::new(
                mio::net::UnixListener::from_std(listener),
                context::reactor(),
            )?,
        })
    }

    /// Takes the listener out of the runtime as a standard-library one
    /// (still in non-blocking mode).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        raw_access::into_std(self.io)
    }

    /// Waits for a connection and returns it with the peer's address
    /// (usually unnamed: clients rarely bind). Cancel-safe: a connection is
    /// taken from the backlog only when the future completes.
    pub async fn accept(&mut self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// The poll form of [`accept`](UnixListener::accept).
    pub fn poll_accept(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let accepted = self.io.poll_io(cx, Direction::Read, |listener| {
            retry_interrupted(|| listener.accept())
        });
        accepted.map(|result| {
            let (stream, peer) = result?;
            Ok((UnixStream::from_mio(stream)?, peer))
        })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl_raw_access!(UnixListener);
