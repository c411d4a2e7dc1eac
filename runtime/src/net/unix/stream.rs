//! [`UnixStream`]: a connected Unix stream socket, with the same reading,
//! writing and splitting methods as [`TcpStream`](crate::net::TcpStream)
//! (written once, in `net/ops.rs` and `net/split.rs`).
//!
//! Connecting follows TCP's steps: a non-blocking `connect(2)`, then the
//! wait for writable and the check of `SO_ERROR`. A Unix connect usually
//! completes at once; when the listener's backlog is full, Linux answers
//! `WouldBlock` at once rather than waiting, and that error is returned.

use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::rc::Rc;

use crate::driver::io_source::IoSource;
use crate::net::ops;
use crate::net::raw_access::{self, impl_raw_access};
use crate::net::split;
use crate::scheduler::context;

/// The reading half of a [`UnixStream`], from
/// [`into_split`](UnixStream::into_split); it can move to another task.
///
/// ```
/// use weft_runtime::net::unix::UnixStream;
///
/// weft_runtime::run(async {
///     let (a, mut b) = UnixStream::pair().unwrap();
///     let (mut reader, _writer) = a.into_split();
///     let reading = weft_runtime::spawn(async move {
///         let mut buf = [0; 2];
///         reader.read_exact(&mut buf).await.unwrap();
///         buf
///     });
///     b.write_all(b"hi").await.unwrap();
///     assert_eq!(&reading.await.unwrap(), b"hi");
/// });
/// ```
pub type OwnedReadHalf = split::OwnedReadHalf<mio::net::UnixStream>;

/// The writing half of a [`UnixStream`], from
/// [`into_split`](UnixStream::into_split); it can move to another task.
/// Dropping it shuts down the writing side (the peer reads end of stream).
///
/// ```
/// use weft_runtime::net::unix::UnixStream;
///
/// weft_runtime::run(async {
///     let (a, mut b) = UnixStream::pair().unwrap();
///     let (_reader, mut writer) = a.into_split();
///     writer.write_all(b"bye").await.unwrap();
///     drop(writer);
///     let mut buf = [0; 8];
///     assert_eq!(b.read(&mut buf).await.unwrap(), 3);
///     assert_eq!(b.read(&mut buf).await.unwrap(), 0); // end of stream
/// });
/// ```
pub type OwnedWriteHalf = split::OwnedWriteHalf<mio::net::UnixStream>;

/// The reading half of a borrowed split, from [`UnixStream::split`].
pub type ReadHalf<'a> = split::ReadHalf<'a, mio::net::UnixStream>;

/// The writing half of a borrowed split, from [`UnixStream::split`].
pub type WriteHalf<'a> = split::WriteHalf<'a, mio::net::UnixStream>;

/// A Unix stream connection registered with the current weft runtime.
///
/// Reading and writing take `&mut self`: one task drives a stream; split
/// it to read in one task and write in another. Dropping it closes the
/// socket and frees its reactor slot.
///
/// ```
/// use weft_runtime::net::unix::UnixStream;
///
/// weft_runtime::run(async {
///     let (mut a, mut b) = UnixStream::pair().unwrap();
///     a.write_all(b"ping").await.unwrap();
///     let mut buf = [0; 4];
///     b.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"ping");
/// });
/// ```
#[derive(Debug)]
pub struct UnixStream {
    pub(in crate::net) io: IoSource<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket listening at `path`. A missing socket gives
    /// `NotFound`, a socket nobody listens on `ConnectionRefused`; the
    /// error names the path.
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     let err = weft_runtime::net::unix::UnixStream::connect("/nonexistent/weft.sock")
    ///         .await
    ///         .unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    ///     assert!(err.to_string().contains("/nonexistent/weft.sock"));
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let connected = async {
            let stream = Self::from_mio(mio::net::UnixStream::connect(path)?)?;
            poll_fn(|cx| ops::poll_connected(&stream.io, cx)).await?;
            Ok(stream)
        };
        connected
            .await
            .map_err(|e| super::path_error(e, "connect to", path))
    }

    /// Two connected, unnamed sockets (`socketpair(2)`).
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((Self::from_mio(a)?, Self::from_mio(b)?))
    }

    /// Registers a connected standard-library Unix stream with the current
    /// runtime (it is switched to non-blocking mode).
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     let mut a = weft_runtime::net::unix::UnixStream::from_std(a).unwrap();
    ///     a.write_all(b"x").await.unwrap();
    ///     let mut buf = [0; 1];
    ///     std::io::Read::read_exact(&mut &b, &mut buf).unwrap();
    ///     assert_eq!(&buf, b"x");
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        Self::from_mio(mio::net::UnixStream::from_std(stream))
    }

    pub(in crate::net) fn from_mio(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: IoSource::new(stream, context::reactor())?,
        })
    }

    /// Takes the stream out of the runtime as a standard-library one (still
    /// in non-blocking mode; see [`net`](crate::net)'s notes on raw access).
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     let (a, _b) = weft_runtime::net::unix::UnixStream::pair().unwrap();
    ///     let a = a.into_std().unwrap();
    ///     assert!(a.peer_addr().unwrap().is_unnamed());
    /// });
    /// ```
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        raw_access::into_std(self.io)
    }

    ops::read_methods!();
    ops::write_methods!();
    ops::addr_methods!(SocketAddr);

    /// Shuts down the reading side, the writing side or both; after
    /// `Shutdown::Write` the peer reads end of stream.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Splits the stream into a read half and a write half that borrow it,
    /// for two futures of one task.
    ///
    /// ```
    /// use weft_runtime::net::unix::UnixStream;
    ///
    /// weft_runtime::run(async {
    ///     let (mut a, mut b) = UnixStream::pair().unwrap();
    ///     let (mut from_b, mut to_b) = a.split();
    ///     b.write_all(b"abc").await.unwrap();
    ///     let mut buf = [0; 3];
    ///     from_b.read_exact(&mut buf).await.unwrap();
    ///     to_b.write_all(&buf).await.unwrap();
    ///     b.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"abc");
    /// });
    /// ```
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (
            split::ReadHalf::new(&self.io),
            split::WriteHalf::new(&self.io),
        )
    }

    /// Splits the stream into owned halves that two tasks can use at once
    /// (see [`OwnedReadHalf`] and [`OwnedWriteHalf`]). The socket closes
    /// when both are dropped.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let io = Rc::new(self.io);
        (
            split::OwnedReadHalf::new(io.clone()),
            split::OwnedWriteHalf::new(io),
        )
    }
}

impl UnixStream {
    /// The stream back from its owned halves (see
    /// `split::OwnedReadHalf::reunite`).
    pub(crate) fn reunite(
        read: OwnedReadHalf,
        write: OwnedWriteHalf,
    ) -> Result<UnixStream, (OwnedReadHalf, OwnedWriteHalf)> {
        read.reunite(write).map(|io| UnixStream { io })
    }
}

impl_raw_access!(UnixStream);
