//! The halves of a split simulated [`TcpStream`](super::TcpStream), as the
//! real stream has them: owned halves share the connection's end through
//! an `Rc` and may move to two tasks; borrowed halves serve two futures of
//! one task. Each half keeps the alarm of its own direction, so a reader
//! and a writer wait independently.

use std::io;
use std::rc::Rc;

use super::ops::{self, End};
use super::wait::Alarm;

/// The reading half of a simulated stream, from
/// [`into_split`](super::TcpStream::into_split).
#[derive(Debug)]
pub struct OwnedReadHalf {
    end: Rc<End>,
    read_alarm: Alarm,
}

impl OwnedReadHalf {
    pub(super) fn new(end: Rc<End>, read_alarm: Alarm) -> Self {
        Self { end, read_alarm }
    }

    ops::read_methods!();
    ops::addr_methods!();
}

/// The writing half of a simulated stream, from
/// [`into_split`](super::TcpStream::into_split). Dropping it shuts down
/// the writing side: the peer reads end of stream.
#[derive(Debug)]
pub struct OwnedWriteHalf {
    end: Rc<End>,
    write_alarm: Alarm,
}

impl OwnedWriteHalf {
    pub(super) fn new(end: Rc<End>, write_alarm: Alarm) -> Self {
        Self { end, write_alarm }
    }

    ops::write_methods!();
    ops::addr_methods!();

    /// Shuts down the writing side now: the peer reads end of stream after
    /// the bytes already sent.
    pub fn shutdown(&self) -> io::Result<()> {
        self.end.shutdown_write()
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        // Fails only if the connection failed: nobody is left to tell.
        let _ = self.shutdown();
    }
}

/// The reading half of a borrowed split, from
/// [`TcpStream::split`](super::TcpStream::split).
#[derive(Debug)]
pub struct ReadHalf<'a> {
    end: &'a End,
    read_alarm: &'a mut Alarm,
}

impl<'a> ReadHalf<'a> {
    pub(super) fn new(end: &'a End, read_alarm: &'a mut Alarm) -> Self {
        Self { end, read_alarm }
    }

    ops::read_methods!();
    ops::addr_methods!();
}

/// The writing half of a borrowed split, from
/// [`TcpStream::split`](super::TcpStream::split).
#[derive(Debug)]
pub struct WriteHalf<'a> {
    end: &'a End,
    write_alarm: &'a mut Alarm,
}

impl<'a> WriteHalf<'a> {
    pub(super) fn new(end: &'a End, write_alarm: &'a mut Alarm) -> Self {
        Self { end, write_alarm }
    }

    ops::write_methods!();
    ops::addr_methods!();

    /// Shuts down the writing side: the peer reads end of stream after the
    /// bytes already sent.
    pub fn shutdown(&self) -> io::Result<()> {
        self.end.shutdown_write()
    }
}
