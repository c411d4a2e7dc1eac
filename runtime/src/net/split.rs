//! The halves of a split [`TcpStream`](super::TcpStream): one reads, the
//! other writes, and they can wait at the same time.
//!
//! The reactor keeps one waker per direction, so a read half and a write
//! half of one socket never overwrite each other's waker:
//!
//! ```text
//!                    ┌── OwnedReadHalf  ── waits on READ  ── task A
//!   Rc<Socket> ──────┤
//!   (one reactor     └── OwnedWriteHalf ── waits on WRITE ── task B
//!    registration)
//! ```
//!
//! Owned halves share the registered socket through an `Rc` (the runtime is
//! single-threaded, so no atomic count is needed); the socket is closed and
//! its reactor slot freed when the last half is dropped. Dropping an
//! [`OwnedWriteHalf`] also shuts the writing side down, so the peer reads end
//! of stream even while the read half lives on (tokio does the same).
//! Borrowed halves ([`ReadHalf`], [`WriteHalf`]) come from
//! [`TcpStream::split`](super::TcpStream::split) and do nothing on drop.

use std::io;
use std::net::Shutdown;
use std::rc::Rc;

use super::ops::{self, Socket};

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
#[derive(Debug)]
pub struct OwnedReadHalf {
    pub(super) io: Rc<Socket>,
}

impl OwnedReadHalf {
    pub(super) fn new(io: Rc<Socket>) -> Self {
        Self { io }
    }

    ops::read_methods!();
    ops::addr_methods!();
}

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
#[derive(Debug)]
pub struct OwnedWriteHalf {
    pub(super) io: Rc<Socket>,
}

impl OwnedWriteHalf {
    pub(super) fn new(io: Rc<Socket>) -> Self {
        Self { io }
    }

    ops::write_methods!();
    ops::addr_methods!();

    /// Shuts down the writing side now: the peer reads end of stream after
    /// the bytes already sent. The read half is unaffected.
    pub fn shutdown(&self) -> io::Result<()> {
        self.io.get_ref().shutdown(Shutdown::Write)
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        // Fails only if the connection is already gone (reset, or shut
        // down before): then there is nothing left to tell the peer.
        let _ = self.shutdown();
    }
}

/// The reading half of a borrowed split, from
/// [`TcpStream::split`](super::TcpStream::split).
#[derive(Debug)]
pub struct ReadHalf<'a> {
    pub(super) io: &'a Socket,
}

impl<'a> ReadHalf<'a> {
    pub(super) fn new(io: &'a Socket) -> Self {
        Self { io }
    }

    ops::read_methods!();
    ops::addr_methods!();
}

/// The writing half of a borrowed split, from
/// [`TcpStream::split`](super::TcpStream::split).
#[derive(Debug)]
pub struct WriteHalf<'a> {
    pub(super) io: &'a Socket,
}

impl<'a> WriteHalf<'a> {
    pub(super) fn new(io: &'a Socket) -> Self {
        Self { io }
    }

    ops::write_methods!();
    ops::addr_methods!();

    /// Shuts down the writing side: the peer reads end of stream after the
    /// bytes already sent.
    pub fn shutdown(&self) -> io::Result<()> {
        self.io.get_ref().shutdown(Shutdown::Write)
    }
}
