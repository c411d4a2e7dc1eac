//! [`TcpStream`]: a connected TCP socket.
//!
//! Connecting is non-blocking: `connect(2)` returns at once with the
//! handshake in flight, the socket is registered, and the task waits for it
//! to become writable. Writable means "the handshake ended", not "it
//! succeeded", so the outcome is read from the socket itself:
//!
//! ```text
//!   connect() ─▶ register ─▶ wait writable ─▶ SO_ERROR set? ──yes──▶ Err(refused, unreachable…)
//!                                  ▲                │no
//!                                  │           peer_addr() ok? ──yes──▶ Ok(stream)
//!                                  └─── NotConnected: wait for the next edge
//! ```

use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;

use super::addr::{self, ToSocketAddrs};
use super::ops;
use super::raw_access::{self, impl_raw_access};
use super::split;
use crate::driver::io_source::IoSource;
use crate::scheduler::context;

/// A connected TCP socket registered with the current runtime.
pub(super) type Socket = IoSource<mio::net::TcpStream>;

/// The reading half of a [`TcpStream`](super::TcpStream), from
/// [`into_split`](super::TcpStream::into_split); it can move to another task.
///
/// ```
/// use weft_runtime::net::{TcpListener, TcpStream};
///
/// weft_runtime::run(async {
///     let mut listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (server, _) = listener.accept().await.unwrap();
///     let (mut reader, _writer) = server.into_split();
///     let reading = weft_runtime::spawn(async move {
///         let mut buf = [0; 2];
///         reader.read_exact(&mut buf).await.unwrap();
///         buf
///     });
///     client.write_all(b"hi").await.unwrap();
///     assert_eq!(&reading.await.unwrap(), b"hi");
/// });
/// ```
pub type OwnedReadHalf = split::OwnedReadHalf<mio::net::TcpStream>;

/// The writing half of a [`TcpStream`](super::TcpStream), from
/// [`into_split`](super::TcpStream::into_split); it can move to another task.
/// Dropping it shuts down the writing side (the peer reads end of stream).
///
/// ```
/// use weft_runtime::net::{TcpListener, TcpStream};
///
/// weft_runtime::run(async {
///     let mut listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
///     let (mut server, _) = listener.accept().await.unwrap();
///     let (_reader, mut writer) = client.into_split();
///     writer.write_all(b"bye").await.unwrap();
///     drop(writer);
///     let mut buf = [0; 8];
///     assert_eq!(server.read(&mut buf).await.unwrap(), 3);
///     assert_eq!(server.read(&mut buf).await.unwrap(), 0); // end of stream
/// });
/// ```
pub type OwnedWriteHalf = split::OwnedWriteHalf<mio::net::TcpStream>;

/// The reading half of a borrowed split, from
/// [`TcpStream::split`](super::TcpStream::split).
pub type ReadHalf<'a> = split::ReadHalf<'a, mio::net::TcpStream>;

/// The writing half of a borrowed split, from
/// [`TcpStream::split`](super::TcpStream::split).
pub type WriteHalf<'a> = split::WriteHalf<'a, mio::net::TcpStream>;

/// A TCP connection registered with the current weft runtime.
///
/// Reading and writing take `&mut self`: one task drives a stream. To read
/// in one task and write in another, [`split`](TcpStream::split) it or
/// [`into_split`](TcpStream::into_split) it. Dropping the stream closes the
/// socket and frees its reactor slot.
///
/// ```
/// use weft_runtime::net::{TcpListener, TcpStream};
///
/// weft_runtime::run(async {
///     let mut listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = weft_runtime::spawn(async move {
///         let (mut stream, _) = listener.accept().await.unwrap();
///         let mut buf = [0; 5];
///         stream.read_exact(&mut buf).await.unwrap();
///         stream.write_all(&buf).await.unwrap();
///     });
///     let mut stream = TcpStream::connect(addr).await.unwrap();
///     stream.set_nodelay(true).unwrap();
///     stream.write_all(b"hello").await.unwrap();
///     let mut echo = [0; 5];
///     stream.read_exact(&mut echo).await.unwrap();
///     assert_eq!(&echo, b"hello");
///     server.await.unwrap();
/// });
/// ```
#[derive(Debug)]
pub struct TcpStream {
    pub(super) io: Socket,
}

impl TcpStream {
    /// Opens a connection to `addr`, trying each address it resolves to in
    /// turn; the error is the last address's. A host name is resolved off
    /// the runtime's thread (see [`ToSocketAddrs`]).
    ///
    /// Dropping the future before it completes closes the half-open socket.
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     // Nobody listens on the port of a listener that was just closed.
    ///     let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    ///     let err = weft_runtime::net::TcpStream::connect(addr).await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let mut last_error = None;
        for addr in addr::resolve(addr).await? {
            match Self::connect_one(addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.expect("resolve returns at least one address"))
    }

    async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = Self::from_mio(mio::net::TcpStream::connect(addr)?)?;
        poll_fn(|cx| ops::poll_connected(&stream.io, cx)).await?;
        Ok(stream)
    }

    /// Registers an already connected standard-library stream with the
    /// current runtime (it is switched to non-blocking mode).
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let std_stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    ///     let stream = weft_runtime::net::TcpStream::from_std(std_stream).unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Self::from_mio(mio::net::TcpStream::from_std(stream))
    }

    pub(crate) fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: IoSource::new(stream, context::reactor())?,
        })
    }

    /// Takes the stream out of the runtime as a standard-library one
    /// (still in non-blocking mode; see [`net`](super)'s notes on raw
    /// access).
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use weft_runtime::net::{TcpListener, TcpStream};
    ///
    /// weft_runtime::run(async {
    ///     let mut listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     let mut client = client.into_std().unwrap();
    ///     client.set_nonblocking(false).unwrap();
    ///     client.write_all(b"plain std").unwrap();
    ///     let mut buf = [0; 9];
    ///     server.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"plain std");
    /// });
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        raw_access::into_std(self.io)
    }

    ops::read_methods!();
    ops::write_methods!();
    ops::addr_methods!(SocketAddr);

    /// Shuts down the reading side, the writing side or both. After
    /// `Shutdown::Write` the peer reads end of stream once it has read
    /// everything sent before (a TCP half-close); this stream can still
    /// read.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Turns Nagle's algorithm off (`true`) or on: with `TCP_NODELAY`, small
    /// writes leave at once instead of waiting to be coalesced.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Splits the stream into a read half and a write half that borrow it;
    /// they can be used at the same time, by two futures of one task.
    ///
    /// ```
    /// use weft_runtime::net::{TcpListener, TcpStream};
    ///
    /// weft_runtime::run(async {
    ///     let mut listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     // An echo with both directions in flight at once.
    ///     let (mut from_client, mut to_client) = server.split();
    ///     client.write_all(b"abc").await.unwrap();
    ///     let mut buf = [0; 3];
    ///     from_client.read_exact(&mut buf).await.unwrap();
    ///     to_client.write_all(&buf).await.unwrap();
    ///     client.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"abc");
    /// });
    /// ```
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (
            split::ReadHalf::new(&self.io),
            split::WriteHalf::new(&self.io),
        )
    }

    /// Splits the stream into owned halves that two tasks can use at once:
    /// one reads while the other writes. The socket closes when both halves
    /// are dropped; dropping the write half alone shuts down the writing
    /// side, so the peer sees end of stream.
    ///
    /// ```
    /// use weft_runtime::net::{TcpListener, TcpStream};
    ///
    /// weft_runtime::run(async {
    ///     let mut listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     let (_reader, mut writer) = client.into_split();
    ///     let sending = weft_runtime::spawn(async move {
    ///         writer.write_all(b"one way").await.unwrap();
    ///     }); // the write half is dropped when the task ends: end of stream
    ///     let (mut from_client, _to_client) = server.into_split();
    ///     let mut got = Vec::new();
    ///     let mut buf = [0; 64];
    ///     loop {
    ///         match from_client.read(&mut buf).await.unwrap() {
    ///             0 => break,
    ///             n => got.extend_from_slice(&buf[..n]),
    ///         }
    ///     }
    ///     assert_eq!(got, b"one way");
    ///     sending.await.unwrap();
    /// });
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let io = Rc::new(self.io);
        (
            split::OwnedReadHalf::new(io.clone()),
            split::OwnedWriteHalf::new(io),
        )
    }
}

impl TcpStream {
    /// The stream back from its owned halves (see
    /// `split::OwnedReadHalf::reunite`).
    pub(crate) fn reunite(
        read: OwnedReadHalf,
        write: OwnedWriteHalf,
    ) -> Result<TcpStream, (OwnedReadHalf, OwnedWriteHalf)> {
        read.reunite(write).map(|io| TcpStream { io })
    }
}

impl_raw_access!(TcpStream);
