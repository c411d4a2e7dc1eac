//! The operations every byte-stream handle shares (TCP, and Unix streams
//! on Unix), written once over the registered socket; [`TcpStream`](super::TcpStream),
//! [`UnixStream`](super::unix::UnixStream) and their split halves only
//! delegate here.
//!
//! The poll functions go through [`IoSource::poll_io`], which waits for
//! readiness, clears it on `WouldBlock` and spends one unit of the task's
//! cooperative budget. The `try_` functions make one syscall without
//! waiting, for callers that must not block (a stream writer's `write`).
//!
//! **Short transfers clear readiness too** (where the OS poller is epoll or
//! kqueue). A `recv` that returns fewer bytes than asked emptied the
//! socket's receive queue, and a `send` that took fewer bytes than offered
//! filled the send buffer: the next call would only say `WouldBlock`. So
//! readiness is cleared right away and that syscall is saved (one per
//! request in a request/response exchange). Nothing can be missed: epoll
//! and kqueue report, edge-triggered, every arrival of data and every
//! freeing of buffer space after the call, and the reactor only applies
//! reports between polls, so none can slip in between the syscall and the
//! clear. Other pollers (Windows' completion-port emulation, `poll(2)`)
//! give no such promise, so there only `WouldBlock` clears readiness. A
//! `recv` of 0 bytes (end of stream) clears nothing: the "closed"
//! readiness stays, and every later read returns 0 at once.
//!
//! This holds for byte streams only: a short datagram says nothing about
//! the datagrams queued behind it (see `net/datagram.rs`).

use std::fmt::Debug;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::task::{Context, Poll};

use mio::event::Source;

use crate::driver::io_source::IoSource;
use crate::driver::reactor::Direction;

/// A connected byte-stream socket as mio gives it: TCP, or a Unix stream.
/// The one trait the shared operations are written against.
pub trait ByteStream: Source + Debug {
    /// The kind of address its ends have.
    type Addr;

    /// One `recv(2)`.
    fn read_some(&self, buf: &mut [u8]) -> io::Result<usize>;
    /// One `send(2)`.
    fn write_some(&self, buf: &[u8]) -> io::Result<usize>;
    /// `shutdown(2)`.
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
    /// The address of the peer.
    fn peer_addr(&self) -> io::Result<Self::Addr>;
    /// The address of this end.
    fn local_addr(&self) -> io::Result<Self::Addr>;
    /// Takes the pending error (`SO_ERROR`).
    fn take_error(&self) -> io::Result<Option<io::Error>>;
    /// Sets `SO_LINGER` to 0: closing the socket then resets the connection
    /// (TCP sends RST and drops unsent bytes). Unix sockets have no reset;
    /// the option is accepted and changes nothing.
    fn reset_on_close(&self) -> io::Result<()>;
}

/// [`ByteStream`] for a mio stream type, by delegating to its own methods.
macro_rules! impl_byte_stream {
    ($stream:ty, $addr:ty) => {
        impl ByteStream for $stream {
            type Addr = $addr;

            fn read_some(&self, buf: &mut [u8]) -> io::Result<usize> {
                (&*self).read(buf)
            }

            fn write_some(&self, buf: &[u8]) -> io::Result<usize> {
                (&*self).write(buf)
            }

            fn shutdown(&self, how: Shutdown) -> io::Result<()> {
                <$stream>::shutdown(self, how)
            }

            fn peer_addr(&self) -> io::Result<Self::Addr> {
                <$stream>::peer_addr(self)
            }

            fn local_addr(&self) -> io::Result<Self::Addr> {
                <$stream>::local_addr(self)
            }

            fn take_error(&self) -> io::Result<Option<io::Error>> {
                <$stream>::take_error(self)
            }

            fn reset_on_close(&self) -> io::Result<()> {
                socket2::SockRef::from(self).set_linger(Some(std::time::Duration::ZERO))
            }
        }
    };
}

impl_byte_stream!(mio::net::TcpStream, std::net::SocketAddr);
#[cfg(unix)]
impl_byte_stream!(mio::net::UnixStream, std::os::unix::net::SocketAddr);

/// Runs a syscall again when a signal interrupted it: `EINTR` says nothing
/// about the socket.
pub(crate) fn retry_interrupted<R>(mut op: impl FnMut() -> io::Result<R>) -> io::Result<R> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            result => return result,
        }
    }
}

/// Whether the OS poller reports, edge-triggered, every change after a
/// syscall (epoll, kqueue), so that a short transfer may clear readiness.
const SHORT_TRANSFER_CLEARS: bool = cfg!(any(
    // epoll
    target_os = "linux",
    target_os = "android",
    target_os = "illumos",
    target_os = "redox",
    // kqueue
    target_os = "macos",
    target_os = "ios",
    target_os = "tvos",
    target_os = "watchos",
    target_os = "visionos",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly",
));

/// Clears `dir`'s readiness after a transfer of `done` of `asked` bytes
/// that left the socket drained (reads) or full (writes); see the module
/// docs.
fn clear_if_short<S: Source>(
    io: &IoSource<S>,
    dir: Direction,
    asked: usize,
    done: &io::Result<usize>,
) {
    match done {
        Ok(n) if SHORT_TRANSFER_CLEARS && *n > 0 && *n < asked => io.clear_ready(dir),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => io.clear_ready(dir),
        _ => {}
    }
}

/// Ready once the handshake started by a non-blocking `connect` ended,
/// with its outcome. Writable means "the handshake ended", not "it
/// succeeded", so the outcome is read from the socket itself.
pub(crate) fn poll_connected<S: ByteStream>(
    io: &IoSource<S>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    if io.poll_ready(cx, Direction::Write).is_pending() {
        return Poll::Pending;
    }
    if let Some(e) = io.get_ref().take_error()? {
        return Poll::Ready(Err(e));
    }
    match io.get_ref().peer_addr() {
        Ok(_) => Poll::Ready(Ok(())),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => {
            // A writable edge before the handshake ended: wait for the
            // next one. Readiness that survives the clear is a closed or
            // failed socket, and then "not connected" is the answer.
            io.clear_ready(Direction::Write);
            match io.poll_ready(cx, Direction::Write) {
                Poll::Ready(()) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        }
        Err(e) => Poll::Ready(Err(e)),
    }
}

/// Reads into `buf` once the socket is readable; `Ok(0)` is end of stream
/// (or an empty `buf`, which returns at once).
pub(crate) fn poll_read<S: ByteStream>(
    io: &IoSource<S>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    if buf.is_empty() {
        return Poll::Ready(Ok(0));
    }
    let asked = buf.len();
    let read = io.poll_io(cx, Direction::Read, |socket| {
        retry_interrupted(|| socket.read_some(buf))
    });
    if let Poll::Ready(done) = &read {
        clear_if_short(io, Direction::Read, asked, done);
    }
    read
}

/// Writes some of `buf` once the socket is writable; returns how much the
/// kernel took (an empty `buf` returns `Ok(0)` at once).
pub(crate) fn poll_write<S: ByteStream>(
    io: &IoSource<S>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    if buf.is_empty() {
        return Poll::Ready(Ok(0));
    }
    let written = io.poll_io(cx, Direction::Write, |socket| {
        retry_interrupted(|| socket.write_some(buf))
    });
    if let Poll::Ready(done) = &written {
        clear_if_short(io, Direction::Write, buf.len(), done);
    }
    written
}

/// One non-blocking send, without waiting. `WouldBlock` or a short send
/// clears the write readiness, as in [`poll_write`], so that the next
/// waiter waits for the next edge.
pub(crate) fn try_write<S: ByteStream>(io: &IoSource<S>, buf: &[u8]) -> io::Result<usize> {
    let written = retry_interrupted(|| io.get_ref().write_some(buf));
    clear_if_short(io, Direction::Write, buf.len(), &written);
    written
}

/// One non-blocking receive, without waiting; see [`try_write`].
pub(crate) fn try_read<S: ByteStream>(io: &IoSource<S>, buf: &mut [u8]) -> io::Result<usize> {
    let read = retry_interrupted(|| io.get_ref().read_some(buf));
    clear_if_short(io, Direction::Read, buf.len(), &read);
    read
}

pub(crate) async fn read<S: ByteStream>(io: &IoSource<S>, buf: &mut [u8]) -> io::Result<usize> {
    poll_fn(|cx| poll_read(io, cx, buf)).await
}

pub(crate) async fn write<S: ByteStream>(io: &IoSource<S>, buf: &[u8]) -> io::Result<usize> {
    poll_fn(|cx| poll_write(io, cx, buf)).await
}

/// Writes the whole of `buf`, in as many sends as the kernel needs.
pub(crate) async fn write_all<S: ByteStream>(io: &IoSource<S>, buf: &[u8]) -> io::Result<()> {
    let mut sent = 0;
    while sent < buf.len() {
        match write(io, &buf[sent..]).await? {
            0 => {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!(
                        "write_all: the socket took 0 bytes after {sent} of {}",
                        buf.len()
                    ),
                ))
            }
            n => sent += n,
        }
    }
    Ok(())
}

/// Fills the whole of `buf`; at end of stream the error says how many bytes
/// arrived (they are at the start of `buf`).
pub(crate) async fn read_exact<S: ByteStream>(io: &IoSource<S>, buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match read(io, &mut buf[filled..]).await? {
            0 => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "read_exact: the stream ended after {filled} of {} bytes (they are at the start of the buffer)",
                        buf.len()
                    ),
                ))
            }
            n => filled += n,
        }
    }
    Ok(())
}

/// The reading methods of a handle whose `io` field derefs to an
/// [`IoSource`] of a [`ByteStream`]: the same code and docs for the TCP and
/// Unix streams and their read halves.
macro_rules! read_methods {
    () => {
        /// Reads some bytes into `buf` and returns how many; `Ok(0)` means
        /// the peer closed its side (or `buf` is empty). Cancel-safe: if the
        /// future is dropped before it completes, nothing was consumed.
        pub async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            $crate::net::ops::read(&self.io, buf).await
        }

        /// Reads exactly `buf.len()` bytes. At end of stream the error, of
        /// kind `UnexpectedEof`, says how many bytes arrived (they are at the
        /// start of `buf`). Not cancel-safe.
        pub async fn read_exact(&mut self, buf: &mut [u8]) -> std::io::Result<()> {
            $crate::net::ops::read_exact(&self.io, buf).await
        }

        /// The poll form of `read`, for hand-written futures: on `Pending`
        /// the task is woken when the socket turns readable.
        pub fn poll_read(
            &mut self,
            cx: &mut std::task::Context<'_>,
            buf: &mut [u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            $crate::net::ops::poll_read(&self.io, cx, buf)
        }

        /// One non-blocking receive: `WouldBlock` if no data is there yet.
        pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
            $crate::net::ops::try_read(&self.io, buf)
        }
    };
}
pub(crate) use read_methods;

/// The writing methods of a handle whose `io` field derefs to an
/// [`IoSource`] of a [`ByteStream`]; see [`read_methods`].
macro_rules! write_methods {
    () => {
        /// Writes some of `buf` and returns how many bytes the kernel took.
        /// Cancel-safe: if the future is dropped before it completes,
        /// nothing was sent.
        pub async fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            $crate::net::ops::write(&self.io, buf).await
        }

        /// Writes all of `buf`. Not cancel-safe: dropped half-way, it does
        /// not say how much was sent.
        pub async fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
            $crate::net::ops::write_all(&self.io, buf).await
        }

        /// The poll form of `write`, for hand-written futures: on `Pending`
        /// the task is woken when the socket turns writable.
        pub fn poll_write(
            &mut self,
            cx: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            $crate::net::ops::poll_write(&self.io, cx, buf)
        }

        /// One non-blocking send: `WouldBlock` if the send buffer is full.
        pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
            $crate::net::ops::try_write(&self.io, buf)
        }
    };
}
pub(crate) use write_methods;

/// The address methods every byte-stream handle has, returning `$addr`
/// (`std::net::SocketAddr` for TCP, a Unix socket address for Unix
/// streams).
macro_rules! addr_methods {
    ($addr:ty) => {
        /// The address of the peer.
        pub fn peer_addr(&self) -> std::io::Result<$addr> {
            $crate::net::ops::ByteStream::peer_addr(self.io.get_ref())
        }

        /// The local address of this end.
        pub fn local_addr(&self) -> std::io::Result<$addr> {
            $crate::net::ops::ByteStream::local_addr(self.io.get_ref())
        }
    };
}
pub(crate) use addr_methods;
