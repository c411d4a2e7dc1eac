//! The operations every TCP handle shares, written once over the registered
//! socket ([`Socket`]); [`TcpStream`](super::TcpStream) and the split halves
//! only delegate here.
//!
//! The poll functions go through [`IoSource::poll_io`], which waits for
//! readiness, clears it on `WouldBlock` and spends one unit of the task's
//! cooperative budget. The `try_` functions make one syscall without
//! waiting, for callers that must not block (a stream writer's `write`).
//!
//! **Short transfers clear readiness too.** A `recv` that returns fewer
//! bytes than asked emptied the socket's receive queue, and a `send` that
//! took fewer bytes than offered filled the send buffer: the next call
//! would only say `WouldBlock`. So readiness is cleared right away and
//! that syscall is saved (one per request in a request/response
//! exchange). Nothing can be missed: epoll reports, in edge-triggered mode,
//! every arrival of data and every freeing of buffer space after the call,
//! and the reactor only applies reports between polls, so none can slip in
//! between the syscall and the clear. A `recv` of 0 bytes (end of stream)
//! clears nothing: the "closed" readiness stays, and every later read
//! returns 0 at once.

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::task::{Context, Poll};

use crate::driver::io_source::IoSource;
use crate::driver::reactor::Direction;

/// A connected TCP socket registered with the current runtime.
pub(crate) type Socket = IoSource<mio::net::TcpStream>;

/// Runs a syscall again when a signal interrupted it: `EINTR` says nothing
/// about the socket.
fn retry_interrupted<R>(mut op: impl FnMut() -> io::Result<R>) -> io::Result<R> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            result => return result,
        }
    }
}

/// Clears `dir`'s readiness after a transfer of `done` of `asked` bytes
/// that left the socket drained (reads) or full (writes); see the module
/// docs.
fn clear_if_short(io: &Socket, dir: Direction, asked: usize, done: &io::Result<usize>) {
    match done {
        Ok(n) if *n > 0 && *n < asked => io.clear_ready(dir),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => io.clear_ready(dir),
        _ => {}
    }
}

/// Reads into `buf` once the socket is readable; `Ok(0)` is end of stream
/// (or an empty `buf`, which returns at once).
pub(crate) fn poll_read(
    io: &Socket,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    if buf.is_empty() {
        return Poll::Ready(Ok(0));
    }
    let asked = buf.len();
    let read = io.poll_io(cx, Direction::Read, |mut socket| {
        retry_interrupted(|| socket.read(buf))
    });
    if let Poll::Ready(done) = &read {
        clear_if_short(io, Direction::Read, asked, done);
    }
    read
}

/// Writes some of `buf` once the socket is writable; returns how much the
/// kernel took (an empty `buf` returns `Ok(0)` at once).
pub(crate) fn poll_write(io: &Socket, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
    if buf.is_empty() {
        return Poll::Ready(Ok(0));
    }
    let written = io.poll_io(cx, Direction::Write, |mut socket| {
        retry_interrupted(|| socket.write(buf))
    });
    if let Poll::Ready(done) = &written {
        clear_if_short(io, Direction::Write, buf.len(), done);
    }
    written
}

/// One non-blocking send, without waiting. `WouldBlock` or a short send
/// clears the write readiness, as in [`poll_write`], so that the next
/// waiter waits for the next edge.
pub(crate) fn try_write(io: &Socket, buf: &[u8]) -> io::Result<usize> {
    let written = retry_interrupted(|| io.get_ref().write(buf));
    clear_if_short(io, Direction::Write, buf.len(), &written);
    written
}

/// One non-blocking receive, without waiting; see [`try_write`].
pub(crate) fn try_read(io: &Socket, buf: &mut [u8]) -> io::Result<usize> {
    let read = retry_interrupted(|| io.get_ref().read(buf));
    clear_if_short(io, Direction::Read, buf.len(), &read);
    read
}

pub(crate) async fn read(io: &Socket, buf: &mut [u8]) -> io::Result<usize> {
    poll_fn(|cx| poll_read(io, cx, buf)).await
}

pub(crate) async fn write(io: &Socket, buf: &[u8]) -> io::Result<usize> {
    poll_fn(|cx| poll_write(io, cx, buf)).await
}

/// Writes the whole of `buf`, in as many sends as the kernel needs.
pub(crate) async fn write_all(io: &Socket, buf: &[u8]) -> io::Result<()> {
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
pub(crate) async fn read_exact(io: &Socket, buf: &mut [u8]) -> io::Result<()> {
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

/// Every address `addr` stands for, in the resolver's order. A host name is
/// resolved by the OS resolver, on this thread.
pub(crate) fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to no socket address",
        ));
    }
    Ok(addrs)
}

/// The reading methods of a handle whose `io` field derefs to a [`Socket`]:
/// the same code and docs for [`TcpStream`](super::TcpStream) and both read
/// halves.
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

/// The writing methods of a handle whose `io` field derefs to a [`Socket`];
/// see [`read_methods`].
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

/// The address methods every handle has.
macro_rules! addr_methods {
    () => {
        /// The address of the peer.
        pub fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
            self.io.get_ref().peer_addr()
        }

        /// The local address of this end.
        pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
            self.io.get_ref().local_addr()
        }
    };
}
pub(crate) use addr_methods;
