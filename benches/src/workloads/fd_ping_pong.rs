//! fd_ping_pong: round trips over a socket pair registered as raw file
//! descriptors.
//!
//! `UnixStream::pair()` gives two connected descriptors; each is put in
//! non-blocking mode and handed to the runtime's "any fd" wrapper (weft's
//! `AsyncFd`, tokio's `AsyncFd`, smol's `Async`), which only says when to
//! try; the reads and writes are std's. The asking half writes message i
//! and reads its echo; the answering half reads a message and writes it
//! back. Both halves are joined in the runtime's `block_on` future (the
//! same `zip` on every runtime), because weft's `AsyncFd` belongs to its
//! runtime's thread and is not `Send`.
//!
//! ```text
//!   ask:    write message i ──▶ ┐
//!                               │ socket pair          (× N)
//!   answer: read, write back ◀──┘ ──▶ ask: read the echo, check i
//! ```
//!
//! The echoed sequence numbers must add up to `0 + 1 + … + (N - 1)`.

use std::future::Future;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;

use futures_lite::future::zip;

use super::io_message::{message, sequence_of, MESSAGE};
use super::{expect_eq, Verified};
use crate::runtimes::{BenchRuntime, Smol, Tokio, Weft};

/// A runtime's wrapper for a descriptor it polls but does not own the I/O
/// of.
pub trait FdRuntime: BenchRuntime {
    /// The wrapper around a `UnixStream`.
    type Fd;

    /// Registers `stream` (already non-blocking) with the current runtime.
    fn register(stream: UnixStream) -> io::Result<Self::Fd>;

    /// Reads into `buf` once the descriptor is readable.
    fn read(fd: &Self::Fd, buf: &mut [u8]) -> impl Future<Output = io::Result<usize>>;

    /// Writes from `buf` once the descriptor is writable.
    fn write(fd: &Self::Fd, buf: &[u8]) -> impl Future<Output = io::Result<usize>>;
}

impl FdRuntime for Weft {
    type Fd = weft_runtime::io::AsyncFd<UnixStream>;

    fn register(stream: UnixStream) -> io::Result<Self::Fd> {
        weft_runtime::io::AsyncFd::new(stream)
    }

    async fn read(fd: &Self::Fd, buf: &mut [u8]) -> io::Result<usize> {
        fd.read_with(|mut stream| stream.read(buf)).await
    }

    async fn write(fd: &Self::Fd, buf: &[u8]) -> io::Result<usize> {
        fd.write_with(|mut stream| stream.write(buf)).await
    }
}

impl FdRuntime for Tokio {
    type Fd = tokio::io::unix::AsyncFd<UnixStream>;

    fn register(stream: UnixStream) -> io::Result<Self::Fd> {
        // SAFETY: the `UnixStream` owns its descriptor, always returns that
        // same descriptor from `as_raw_fd`, and lives inside the `AsyncFd`,
        // so the descriptor stays open for as long as it is registered.
        unsafe { tokio::io::unix::AsyncFd::register(stream) }.map_err(io::Error::from)
    }

    async fn read(fd: &Self::Fd, buf: &mut [u8]) -> io::Result<usize> {
        fd.async_io(tokio::io::Interest::READABLE, |mut stream| stream.read(buf))
            .await
    }

    async fn write(fd: &Self::Fd, buf: &[u8]) -> io::Result<usize> {
        fd.async_io(tokio::io::Interest::WRITABLE, |mut stream| {
            stream.write(buf)
        })
        .await
    }
}

impl FdRuntime for Smol {
    type Fd = smol::Async<UnixStream>;

    fn register(stream: UnixStream) -> io::Result<Self::Fd> {
        smol::Async::new(stream)
    }

    async fn read(fd: &Self::Fd, buf: &mut [u8]) -> io::Result<usize> {
        fd.read_with(|mut stream| stream.read(buf)).await
    }

    async fn write(fd: &Self::Fd, buf: &[u8]) -> io::Result<usize> {
        fd.write_with(|mut stream| stream.write(buf)).await
    }
}

/// Reads one whole message (a stream may hand it over in pieces).
async fn read_message<R: FdRuntime>(fd: &R::Fd, buf: &mut [u8; MESSAGE]) {
    let mut filled = 0;
    while filled < MESSAGE {
        let n = R::read(fd, &mut buf[filled..])
            .await
            .expect("fd_ping_pong: read");
        assert!(n > 0, "fd_ping_pong: the other end closed early");
        filled += n;
    }
}

/// Writes one whole message.
async fn write_message<R: FdRuntime>(fd: &R::Fd, buf: &[u8; MESSAGE]) {
    let mut written = 0;
    while written < MESSAGE {
        written += R::write(fd, &buf[written..])
            .await
            .expect("fd_ping_pong: write");
    }
}

/// `round_trips` 64-byte round trips over a socket pair wrapped by `R`.
///
/// # Panics
///
/// If the socket pair cannot be made or registered, or an I/O call fails.
///
/// ```
/// use weft_benches::runtimes::{BenchRuntime, Tokio};
/// use weft_benches::workloads::fd_ping_pong;
///
/// let rt = Tokio::new();
/// assert!(rt.block_on(fd_ping_pong::<Tokio>(100)).is_ok());
/// ```
pub async fn fd_ping_pong<R: FdRuntime>(round_trips: u64) -> Verified {
    let (ask, answer) = UnixStream::pair().expect("fd_ping_pong: socket pair");
    for end in [&ask, &answer] {
        end.set_nonblocking(true)
            .expect("fd_ping_pong: non-blocking mode");
    }
    let ask = R::register(ask).expect("fd_ping_pong: register");
    let answer = R::register(answer).expect("fd_ping_pong: register");
    let answering = async {
        let mut buf = [0; MESSAGE];
        for _ in 0..round_trips {
            read_message::<R>(&answer, &mut buf).await;
            write_message::<R>(&answer, &buf).await;
        }
    };
    let asking = async {
        let (mut buf, mut sum) = ([0; MESSAGE], 0);
        for i in 0..round_trips {
            write_message::<R>(&ask, &message(i)).await;
            read_message::<R>(&ask, &mut buf).await;
            sum += sequence_of(&buf);
        }
        sum
    };
    let ((), sum) = zip(answering, asking).await;
    expect_eq(
        "sum of sequence numbers echoed",
        round_trips * round_trips.saturating_sub(1) / 2,
        sum,
    )
}
