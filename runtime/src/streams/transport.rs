//! The connections a [`StreamReader`](super::StreamReader) and a
//! [`StreamWriter`](super::StreamWriter) sit on: the halves of a TCP
//! stream, or of a Unix stream (on Unix).
//!
//! An enum, so that the reader and the writer are one type whatever the
//! transport (one handler serves `start_server` and `start_unix_server`),
//! and each I/O call costs one match on the variant, which the branch
//! predictor learns at once. The TCP and Unix halves share their code
//! already (`net/split.rs`), so each arm is a one-line call.
//!
//! A reader can also sit on an in-memory [`Feed`] that a test fills
//! (asyncio's `feed_data`), so a protocol parser runs without a socket.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::task::{Context, Poll};

use super::feed::Feed;
use crate::net::{OwnedReadHalf, OwnedWriteHalf, SocketCloser};

/// Runs `$call` on whichever half `$side` holds.
macro_rules! on_half {
    ($side:expr, $half:ident => $call:expr) => {
        match $side {
            Self::Tcp($half) => $call,
            #[cfg(unix)]
            Self::Unix($half) => $call,
        }
    };
}

/// Runs `$call` if `$side` is a TCP half; an error that says so otherwise.
macro_rules! on_tcp {
    ($side:expr, $half:ident => $call:expr) => {
        match $side {
            Self::Tcp($half) => $call,
            #[allow(unreachable_patterns)] // for a writer on Windows: TCP only
            _ => Err(not_ip()),
        }
    };
}

/// The reading half of a stream connection.
#[derive(Debug)]
pub(crate) enum ReadSide {
    Tcp(OwnedReadHalf),
    #[cfg(unix)]
    Unix(crate::net::unix::OwnedReadHalf),
    /// Bytes fed by the program (`StreamReader::from_feed`).
    Memory(Feed),
}

/// The writing half of a stream connection.
#[derive(Debug)]
pub(crate) enum WriteSide {
    Tcp(OwnedWriteHalf),
    #[cfg(unix)]
    Unix(crate::net::unix::OwnedWriteHalf),
}

impl ReadSide {
    pub(crate) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self {
            Self::Tcp(half) => half.poll_read(cx, buf),
            #[cfg(unix)]
            Self::Unix(half) => half.poll_read(cx, buf),
            Self::Memory(feed) => feed.poll_read(cx, buf),
        }
    }

    pub(crate) async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    pub(crate) fn peer_addr(&self) -> io::Result<SocketAddr> {
        on_tcp!(self, half => half.peer_addr())
    }

    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        on_tcp!(self, half => half.local_addr())
    }
}

impl WriteSide {
    pub(crate) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        on_half!(self, half => half.poll_write(cx, buf))
    }

    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        on_half!(self, half => half.try_write(buf))
    }

    pub(crate) fn shutdown(&self) -> io::Result<()> {
        on_half!(self, half => half.shutdown())
    }

    pub(crate) fn peer_addr(&self) -> io::Result<SocketAddr> {
        on_tcp!(self, half => half.peer_addr())
    }

    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        on_tcp!(self, half => half.local_addr())
    }

    /// Resets the connection (see `OwnedWriteHalf::abort`).
    pub(crate) fn abort(&self) -> io::Result<()> {
        on_half!(self, half => half.abort())
    }

    /// A handle that shuts this connection down from outside.
    pub(crate) fn closer(&self) -> Closer {
        match self {
            Self::Tcp(half) => Closer::Tcp(half.closer()),
            #[cfg(unix)]
            Self::Unix(half) => Closer::Unix(half.closer()),
        }
    }

    /// The Unix socket address of the peer; an error on TCP.
    #[cfg(unix)]
    pub(crate) fn unix_peer_addr(&self) -> io::Result<std::os::unix::net::SocketAddr> {
        match self {
            Self::Tcp(_) => Err(not_unix()),
            Self::Unix(half) => half.peer_addr(),
        }
    }

    /// The Unix socket address of this end; an error on TCP.
    #[cfg(unix)]
    pub(crate) fn unix_local_addr(&self) -> io::Result<std::os::unix::net::SocketAddr> {
        match self {
            Self::Tcp(_) => Err(not_unix()),
            Self::Unix(half) => half.local_addr(),
        }
    }
}

/// A weak handle on a connection's socket, to end it from outside (a server closing its
/// clients); see `net::SocketCloser`.
#[derive(Debug)]
pub(crate) enum Closer {
    Tcp(SocketCloser<mio::net::TcpStream>),
    #[cfg(unix)]
    Unix(SocketCloser<mio::net::UnixStream>),
}

impl Closer {
    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        on_half!(self, closer => closer.shutdown(how))
    }

    pub(crate) fn reset(&self) -> io::Result<()> {
        on_half!(self, closer => closer.reset())
    }
}

fn not_ip() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "this stream has no IP address: it runs over a Unix socket (use \
         StreamWriter::unix_peer_addr / unix_local_addr) or in memory",
    )
}

#[cfg(unix)]
fn not_unix() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "this stream runs over TCP, not a Unix socket: use peer_addr / local_addr",
    )
}
