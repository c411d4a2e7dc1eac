//! The operations every simulated TCP handle shares, written once over an
//! [`End`] of a connection and the [`Alarm`] of the direction in use;
//! [`TcpStream`](super::TcpStream) and its halves only delegate here,
//! through the macros at the bottom (one set of method docs for all five
//! types, as the real sockets have).

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use super::conn::Side;
use super::wait::Alarm;
use super::world::{Step, WorldRef};

/// One end of a simulated connection, held by a stream or shared by its
/// owned halves. Dropping the last holder closes the end: the peer reads
/// end of stream after the bytes already sent.
#[derive(Debug)]
pub(super) struct End {
    pub(super) world: WorldRef,
    pub(super) conn: u64,
    pub(super) side: Side,
    pub(super) local: SocketAddr,
    pub(super) peer: SocketAddr,
}

impl End {
    pub(super) fn new(world: WorldRef, conn: u64, side: Side) -> Self {
        let (local, peer) = world.with(|w| (w.tcp_addr(conn, side), w.tcp_addr(conn, side.peer())));
        Self {
            world,
            conn,
            side,
            local,
            peer,
        }
    }

    pub(super) fn shutdown_write(&self) -> io::Result<()> {
        self.world
            .with(|w| w.tcp_shutdown_write(self.conn, self.side))
    }
}

impl Drop for End {
    fn drop(&mut self) {
        self.world.with(|w| w.tcp_close(self.conn, self.side));
    }
}

pub(super) fn poll_read(
    end: &End,
    alarm: &mut Alarm,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    alarm.poll_step(cx, |cx| {
        end.world
            .with(|w| w.tcp_read(end.conn, end.side, buf, Some(cx.waker())))
    })
}

pub(super) fn poll_write(
    end: &End,
    alarm: &mut Alarm,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    alarm.poll_step(cx, |cx| {
        end.world
            .with(|w| w.tcp_write(end.conn, end.side, buf, Some(cx.waker())))
    })
}

/// A result now, or `WouldBlock`.
fn now_or_would_block(step: Step<io::Result<usize>>) -> io::Result<usize> {
    match step {
        Step::Ready(result) => result,
        Step::Wait(_) => Err(io::ErrorKind::WouldBlock.into()),
    }
}

pub(super) fn try_read(end: &End, buf: &mut [u8]) -> io::Result<usize> {
    now_or_would_block(
        end.world
            .with(|w| w.tcp_read(end.conn, end.side, buf, None)),
    )
}

pub(super) fn try_write(end: &End, buf: &[u8]) -> io::Result<usize> {
    now_or_would_block(
        end.world
            .with(|w| w.tcp_write(end.conn, end.side, buf, None)),
    )
}

pub(super) async fn read_exact(end: &End, alarm: &mut Alarm, buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = poll_fn(|cx| poll_read(end, alarm, cx, &mut buf[filled..])).await?;
        if n == 0 {
            let message = format!(
                "read_exact: the simulated stream ended after {filled} of {} bytes (they are at the start of the buffer)",
                buf.len()
            );
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, message));
        }
        filled += n;
    }
    Ok(())
}

pub(super) async fn write_all(end: &End, alarm: &mut Alarm, buf: &[u8]) -> io::Result<()> {
    let mut sent = 0;
    while sent < buf.len() {
        // A simulated write takes at least one byte or waits: never 0.
        sent += poll_fn(|cx| poll_write(end, alarm, cx, &buf[sent..])).await?;
    }
    Ok(())
}

/// The reading methods of a handle with fields `end` (an [`End`], owned
/// or shared) and `read_alarm` (an [`Alarm`]).
macro_rules! read_methods {
    () => {
        /// Reads some bytes into `buf` and returns how many, once some have
        /// arrived; `Ok(0)` means the peer closed its side (or `buf` is
        /// empty). Cancel-safe: if the future is dropped before it
        /// completes, nothing was consumed.
        pub async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            std::future::poll_fn(|cx| self.poll_read(cx, buf)).await
        }

        /// Reads exactly `buf.len()` bytes. At end of stream the error, of
        /// kind `UnexpectedEof`, says how many bytes arrived (they are at
        /// the start of `buf`). Not cancel-safe.
        pub async fn read_exact(&mut self, buf: &mut [u8]) -> std::io::Result<()> {
            $crate::sim::net::ops::read_exact(&self.end, &mut self.read_alarm, buf).await
        }

        /// The poll form of `read`: on `Pending` the task is woken when
        /// data arrives (or the connection fails).
        pub fn poll_read(
            &mut self,
            cx: &mut std::task::Context<'_>,
            buf: &mut [u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            $crate::sim::net::ops::poll_read(&self.end, &mut self.read_alarm, cx, buf)
        }

        /// Reads what has arrived without waiting: `WouldBlock` if nothing
        /// has.
        pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
            $crate::sim::net::ops::try_read(&self.end, buf)
        }
    };
}
pub(super) use read_methods;

/// The writing methods of a handle with fields `end` and `write_alarm`;
/// see [`read_methods`].
macro_rules! write_methods {
    () => {
        /// Writes some of `buf` (as much as the window takes, at least one
        /// byte) and returns how much. Cancel-safe: if the future is
        /// dropped before it completes, nothing was sent.
        pub async fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            std::future::poll_fn(|cx| self.poll_write(cx, buf)).await
        }

        /// Writes all of `buf`. Not cancel-safe: dropped half-way, it does
        /// not say how much was sent.
        pub async fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
            $crate::sim::net::ops::write_all(&self.end, &mut self.write_alarm, buf).await
        }

        /// The poll form of `write`: on `Pending` (the window is full) the
        /// task is woken when the peer reads.
        pub fn poll_write(
            &mut self,
            cx: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            $crate::sim::net::ops::poll_write(&self.end, &mut self.write_alarm, cx, buf)
        }

        /// Writes without waiting: `WouldBlock` if the window is full.
        pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
            $crate::sim::net::ops::try_write(&self.end, buf)
        }
    };
}
pub(super) use write_methods;

/// The address methods every handle has (field `end`).
macro_rules! addr_methods {
    () => {
        /// The address of the peer.
        pub fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
            Ok(self.end.peer)
        }

        /// The local address of this end.
        pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
            Ok(self.end.local)
        }
    };
}
pub(super) use addr_methods;
