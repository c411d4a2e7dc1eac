//! [`AsyncFd`]: any pollable file descriptor on weft's reactor.
//!
//! `AsyncFd` registers a descriptor it does not own the I/O of: the caller
//! keeps doing the reads and writes (with `libc`, std, or a C library), and
//! weft only says *when* to try. It registers the descriptor once,
//! edge-triggered, for both directions, like weft's own sockets, so the
//! caller must keep to the reactor's rule:
//!
//! ```text
//!   readable().await ──▶ guard ──▶ guard.try_io(|fd| read(fd)) ──┬─ data / EOF / error ──▶ done
//!        ▲                                                       └─ WouldBlock: readiness cleared
//!        └────────────────────────────────────────────────────────────── wait for the next edge
//! ```
//!
//! Readiness is cleared only when an operation said `WouldBlock` (or the
//! caller says so with [`ReadyGuard::clear_ready`]). Clearing it after a
//! read that did *not* drain the descriptor would wait for an edge that
//! never comes: with edge-triggered polling, the OS reports new data, not
//! data still there. [`read_with`](AsyncFd::read_with) and
//! [`write_with`](AsyncFd::write_with) run that loop for a closure.
//!
//! The descriptor must be in non-blocking mode (otherwise an operation
//! that should say `WouldBlock` blocks the runtime's thread), and must be
//! something the OS can poll: a pipe, a socket, a terminal, an `eventfd`.
//! A regular file or a directory cannot be (epoll refuses it with `EPERM`;
//! its reads never wait anyway): [`AsyncFd::new`] returns an error that
//! says so; use [`spawn_blocking`](crate::spawn_blocking) for files.
//!
//! Like the datagram sockets, an `AsyncFd` is used through `&self` and
//! admits one waiting task per direction; a second task waiting in the same
//! direction gets an error instead of being left asleep.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{ready, Context, Poll};

use mio::unix::SourceFd;
use mio::{event, Interest, Registry, Token};

use super::one_waiter::{wait_op, WaiterClaims};
use crate::driver::io_source::IoSource;
use crate::driver::reactor::Direction;
use crate::executor::coop;
use crate::scheduler::context;

/// A file descriptor registered with the current weft runtime's reactor,
/// owning the value `T` that holds it (a `File`, an `OwnedFd`, a socket
/// type of another crate).
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use weft_runtime::io::AsyncFd;
///
/// weft_runtime::run(async {
///     // Any pollable descriptor in non-blocking mode; a socket pair here.
///     let (ours, mut theirs) = UnixStream::pair().unwrap();
///     ours.set_nonblocking(true).unwrap();
///     let ours = AsyncFd::new(ours).unwrap();
///     theirs.write_all(b"through the reactor").unwrap();
///     let mut buf = [0; 32];
///     let n = ours.read_with(|mut s| s.read(&mut buf)).await.unwrap();
///     assert_eq!(&buf[..n], b"through the reactor");
/// });
/// ```
pub struct AsyncFd<T: AsRawFd> {
    // Declared first so that it is dropped first: the descriptor leaves
    // the reactor before `inner` closes it.
    io: IoSource<RawFdSource>,
    claims: WaiterClaims,
    inner: T,
}

/// A raw descriptor as a mio event source (mio's `SourceFd` borrows the
/// descriptor; the reactor needs an owned value).
#[derive(Debug)]
struct RawFdSource(RawFd);

impl event::Source for RawFdSource {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        SourceFd(&self.0).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interests: Interest,
    ) -> io::Result<()> {
        SourceFd(&self.0).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        SourceFd(&self.0).deregister(registry)
    }
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner`'s descriptor with the current runtime, for both
    /// directions. The descriptor should be in non-blocking mode. A
    /// descriptor the OS cannot poll (a regular file, a directory) gives an
    /// error naming it.
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     let file = std::fs::File::open("Cargo.toml").unwrap();
    ///     let err = weft_runtime::io::AsyncFd::new(file).unwrap_err();
    ///     assert!(err.to_string().contains("cannot be polled"));
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub fn new(inner: T) -> io::Result<Self> {
        let fd = inner.as_raw_fd();
        let io = IoSource::new(RawFdSource(fd), context::reactor()).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "AsyncFd: file descriptor {fd} cannot be polled ({e}); the reactor takes \
                     pipes, sockets, terminals and the like, not regular files or \
                     directories (read those with spawn_blocking)"
                ),
            )
        })?;
        Ok(Self {
            io,
            claims: WaiterClaims::default(),
            inner,
        })
    }

    /// The wrapped value.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped value, mutably (the descriptor must stay the same).
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Removes the descriptor from the reactor and returns the wrapped
    /// value, descriptor open.
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let fd = weft_runtime::io::AsyncFd::new(a).unwrap();
    ///     let a = fd.into_inner();
    ///     assert!(a.peer_addr().is_ok()); // still open
    /// });
    /// ```
    pub fn into_inner(self) -> T {
        let Self { io, inner, .. } = self;
        drop(io);
        inner
    }

    /// Waits until the descriptor is readable (or closed, or failed) and
    /// returns a guard to try the read with. Fails at once if another task
    /// is already waiting for it to turn readable.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use weft_runtime::io::AsyncFd;
    ///
    /// weft_runtime::run(async {
    ///     let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = AsyncFd::new(a).unwrap();
    ///     b.write_all(b"ready").unwrap();
    ///     let mut buf = [0; 8];
    ///     let n = loop {
    ///         let mut guard = a.readable().await.unwrap();
    ///         match guard.try_io(|mut socket| socket.read(&mut buf)) {
    ///             Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
    ///             result => break result.unwrap(),
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], b"ready");
    /// });
    /// ```
    pub async fn readable(&self) -> io::Result<ReadyGuard<'_, T>> {
        self.ready(Direction::Read, "wait for this AsyncFd to turn readable")
            .await
    }

    /// Waits until the descriptor is writable (or closed, or failed); see
    /// [`readable`](AsyncFd::readable).
    pub async fn writable(&self) -> io::Result<ReadyGuard<'_, T>> {
        self.ready(Direction::Write, "wait for this AsyncFd to turn writable")
            .await
    }

    async fn ready(&self, dir: Direction, what: &str) -> io::Result<ReadyGuard<'_, T>> {
        let _claim = self.claims.claim(dir, what)?;
        Ok(poll_fn(|cx| self.poll_ready(cx, dir)).await)
    }

    /// The poll form of [`readable`](AsyncFd::readable), for hand-written
    /// futures (an `AsyncRead` over a descriptor). Only the waker of the
    /// most recent poll is kept.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<ReadyGuard<'_, T>> {
        self.poll_ready(cx, Direction::Read)
    }

    /// The poll form of [`writable`](AsyncFd::writable).
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<ReadyGuard<'_, T>> {
        self.poll_ready(cx, Direction::Write)
    }

    /// Ready with a guard once `dir` is ready. Each readiness handed out
    /// spends a unit of the task's cooperative budget: a descriptor that is
    /// always ready cannot keep its task from yielding.
    fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<ReadyGuard<'_, T>> {
        ready!(coop::poll_proceed(cx));
        self.io
            .poll_ready(cx, dir)
            .map(|()| ReadyGuard { fd: self, dir })
    }

    /// Runs `op` on the wrapped value once the descriptor is readable, and
    /// again after each edge for as long as `op` says `WouldBlock`; returns
    /// `op`'s first other result. Cancel-safe when `op` is: a dropped
    /// future ran no `op` that succeeded.
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let what = "read from this AsyncFd";
        wait_op(&self.io, &self.claims, Direction::Read, what, |_| {
            op(&self.inner)
        })
        .await
    }

    /// [`read_with`](AsyncFd::read_with) for writing: runs `op` once the
    /// descriptor is writable, until it does not say `WouldBlock`.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use weft_runtime::io::AsyncFd;
    ///
    /// weft_runtime::run(async {
    ///     let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     a.set_nonblocking(true).unwrap();
    ///     let a = AsyncFd::new(a).unwrap();
    ///     let n = a.write_with(|mut socket| socket.write(b"out")).await.unwrap();
    ///     let mut buf = [0; 3];
    ///     b.read_exact(&mut buf).unwrap();
    ///     assert_eq!((n, &buf), (3, b"out"));
    /// });
    /// ```
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let what = "write to this AsyncFd";
        wait_op(&self.io, &self.claims, Direction::Write, what, |_| {
            op(&self.inner)
        })
        .await
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl<T: AsRawFd + AsFd> AsFd for AsyncFd<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", &self.inner)
            .field("io", &self.io)
            .finish()
    }
}

/// Proof that a descriptor was ready in one direction, from
/// [`AsyncFd::readable`] or [`AsyncFd::writable`]: try the operation with
/// [`try_io`](ReadyGuard::try_io), which clears the readiness if it says
/// `WouldBlock`.
pub struct ReadyGuard<'a, T: AsRawFd> {
    fd: &'a AsyncFd<T>,
    dir: Direction,
}

impl<'a, T: AsRawFd> ReadyGuard<'a, T> {
    /// The wrapped value.
    pub fn get_inner(&self) -> &'a T {
        &self.fd.inner
    }

    /// Forgets the readiness: the next [`readable`](AsyncFd::readable) or
    /// [`writable`](AsyncFd::writable) waits for the next edge. Call it
    /// only once the descriptor is drained (a read said `WouldBlock`), or
    /// that edge may never come.
    pub fn clear_ready(&mut self) {
        self.fd.io.clear_ready(self.dir);
    }

    /// Runs `op` on the wrapped value; if it says `WouldBlock`, clears the
    /// readiness and returns that error, so the caller waits again. Any
    /// other result leaves the readiness set. `op` runs again if a signal
    /// interrupted it (`Interrupted`).
    pub fn try_io<R>(&mut self, mut op: impl FnMut(&'a T) -> io::Result<R>) -> io::Result<R> {
        let inner = &self.fd.inner;
        let result = crate::net::retry_interrupted(|| op(inner));
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            self.clear_ready();
        }
        result
    }
}

impl<T: AsRawFd> fmt::Debug for ReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadyGuard")
            .field("fd", &self.fd.as_raw_fd())
            .field("direction", &self.dir)
            .finish()
    }
}
