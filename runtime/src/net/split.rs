//! The halves of a split byte stream ([`TcpStream`](super::TcpStream), or
//! a [`UnixStream`](super::unix::UnixStream) on Unix): one reads, the other
//! writes, and they can wait at the same time.
//!
//! The reactor keeps one waker per direction, so a read half and a write
//! half of one socket never overwrite each other's waker:
//!
//! ```text
//!                    ┌── OwnedReadHalf  ── waits on READ  ── task A
//!   Rc<IoSource> ────┤
//!   (one reactor     └── OwnedWriteHalf ── waits on WRITE ── task B
//!    registration)
//! ```
//!
//! Owned halves share the registered socket through an `Rc` (the runtime is
//! single-threaded, so no atomic count is needed); the socket is closed and
//! its reactor slot freed when the last half is dropped. Dropping an
//! [`OwnedWriteHalf`] also shuts the writing side down, so the peer reads end
//! of stream even while the read half lives on (tokio does the same).
//! Borrowed halves ([`ReadHalf`], [`WriteHalf`]) come from `split` and do
//! nothing on drop.
//!
//! The halves are written once, generic over the mio socket `S`; the public
//! names are aliases: `net::OwnedReadHalf` is the TCP one,
//! `net::unix::OwnedReadHalf` the Unix one, and so on.

use std::cell::Cell;
use std::io;
use std::net::Shutdown;
use std::rc::{Rc, Weak};

use super::ops::{self, ByteStream};
use crate::driver::io_source::IoSource;

/// The reading half of a split stream, from `into_split`; it can move to
/// another task. See the aliases [`net::OwnedReadHalf`](super::OwnedReadHalf)
/// and `net::unix::OwnedReadHalf`.
#[derive(Debug)]
pub struct OwnedReadHalf<S: ByteStream> {
    pub(super) io: Rc<IoSource<S>>,
}

impl<S: ByteStream> OwnedReadHalf<S> {
    pub(super) fn new(io: Rc<IoSource<S>>) -> Self {
        Self { io }
    }

    ops::read_methods!();
    ops::addr_methods!(S::Addr);

    /// Whether `write` is this half's twin and nothing else holds their
    /// socket, so that [`reunite`](Self::reunite) succeeds.
    pub(crate) fn is_twin(&self, write: &OwnedWriteHalf<S>) -> bool {
        Rc::ptr_eq(&self.io, &write.io) && Rc::strong_count(&self.io) == 2
    }

    /// The socket back from its two halves, if `write` is this half's
    /// twin and nothing else holds the socket; the halves back otherwise.
    /// The writing side is not shut down.
    pub(crate) fn reunite(
        self,
        write: OwnedWriteHalf<S>,
    ) -> Result<IoSource<S>, (Self, OwnedWriteHalf<S>)> {
        if !self.is_twin(&write) {
            return Err((self, write));
        }
        let io = self.io.clone();
        write.shutdown_on_drop.set(false);
        drop((self, write));
        Ok(Rc::into_inner(io).expect("the two halves were the only other holders"))
    }
}

/// The writing half of a split stream, from `into_split`; it can move to
/// another task. Dropping it shuts down the writing side (the peer reads
/// end of stream). See the aliases
/// [`net::OwnedWriteHalf`](super::OwnedWriteHalf) and
/// `net::unix::OwnedWriteHalf`.
#[derive(Debug)]
pub struct OwnedWriteHalf<S: ByteStream> {
    pub(super) io: Rc<IoSource<S>>,
    /// Cleared by `abort` (a reset connection must not send FIN first) and
    /// by a successful `shutdown` (a second one would be a wasted call).
    shutdown_on_drop: Cell<bool>,
}

impl<S: ByteStream> OwnedWriteHalf<S> {
    pub(super) fn new(io: Rc<IoSource<S>>) -> Self {
        Self {
            io,
            shutdown_on_drop: Cell::new(true),
        }
    }

    /// Resets the connection instead of closing it: the reading side is
    /// shut down now (a task waiting on the read half wakes to end of
    /// stream), and when the last half is dropped the socket is closed
    /// with `SO_LINGER` 0, which on TCP sends RST and discards unsent
    /// bytes. Dropping this half then skips its usual shutdown, which would
    /// send FIN ahead of the reset.
    pub(crate) fn abort(&self) -> io::Result<()> {
        self.shutdown_on_drop.set(false);
        SocketCloser::from(&self.io).reset()
    }

    /// A handle that can shut the connection down from outside (see
    /// [`SocketCloser`]).
    pub(crate) fn closer(&self) -> SocketCloser<S> {
        SocketCloser::from(&self.io)
    }

    ops::write_methods!();
    ops::addr_methods!(S::Addr);

    /// Shuts down the writing side now: the peer reads end of stream after
    /// the bytes already sent. The read half is unaffected, and dropping
    /// this half afterwards makes no second `shutdown(2)`.
    pub fn shutdown(&self) -> io::Result<()> {
        self.io.get_ref().shutdown(Shutdown::Write)?;
        self.shutdown_on_drop.set(false);
        Ok(())
    }
}

impl<S: ByteStream> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        // Fails only if the connection is already gone (reset, or shut
        // down before): then there is nothing left to tell the peer.
        if self.shutdown_on_drop.get() {
            let _ = self.shutdown();
        }
    }
}

/// A third handle on a split stream's socket, for whoever must be able to
/// end a connection it does not read or write (a server closing its
/// clients). It only shuts down or resets, and does nothing once both
/// halves are gone; it does not keep the socket open.
#[derive(Debug)]
pub(crate) struct SocketCloser<S: ByteStream> {
    io: Weak<IoSource<S>>,
}

impl<S: ByteStream> SocketCloser<S> {
    fn from(io: &Rc<IoSource<S>>) -> Self {
        Self {
            io: Rc::downgrade(io),
        }
    }

    /// `shutdown(2)` on the socket. A task waiting on a half wakes: to end
    /// of stream after `Shutdown::Read`, to an error after `Write`.
    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self.io.upgrade() {
            Some(io) => io.get_ref().shutdown(how),
            None => Ok(()),
        }
    }

    /// Sets `SO_LINGER` 0 (the close resets the connection) and shuts the
    /// reading side down so a waiting reader wakes.
    pub(crate) fn reset(&self) -> io::Result<()> {
        let Some(io) = self.io.upgrade() else {
            return Ok(());
        };
        let linger = io.get_ref().reset_on_close();
        // The reader is woken even if the option could not be set.
        io.get_ref().shutdown(Shutdown::Read).and(linger)
    }
}

/// The reading half of a borrowed split, from `split`. See the aliases
/// [`net::ReadHalf`](super::ReadHalf) and `net::unix::ReadHalf`.
#[derive(Debug)]
pub struct ReadHalf<'a, S: ByteStream> {
    pub(super) io: &'a IoSource<S>,
}

impl<'a, S: ByteStream> ReadHalf<'a, S> {
    pub(super) fn new(io: &'a IoSource<S>) -> Self {
        Self { io }
    }

    ops::read_methods!();
    ops::addr_methods!(S::Addr);
}

/// The writing half of a borrowed split, from `split`. See the aliases
/// [`net::WriteHalf`](super::WriteHalf) and `net::unix::WriteHalf`.
#[derive(Debug)]
pub struct WriteHalf<'a, S: ByteStream> {
    pub(super) io: &'a IoSource<S>,
}

impl<'a, S: ByteStream> WriteHalf<'a, S> {
    pub(super) fn new(io: &'a IoSource<S>) -> Self {
        Self { io }
    }

    ops::write_methods!();
    ops::addr_methods!(S::Addr);

    /// Shuts down the writing side: the peer reads end of stream after the
    /// bytes already sent.
    pub fn shutdown(&self) -> io::Result<()> {
        self.io.get_ref().shutdown(Shutdown::Write)
    }
}
