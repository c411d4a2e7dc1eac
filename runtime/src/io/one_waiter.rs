//! One waiting task per direction: the rule weft's reactor imposes on a
//! shared I/O object, enforced, and the three forms of an operation that
//! waits for readiness (`wait_op`, `poll_op`, `try_op`).
//!
//! The reactor keeps one waker per direction of a registered object. A
//! byte stream makes that safe through its types (reading takes
//! `&mut self`; two tasks split it). Datagram sockets and
//! [`AsyncFd`](crate::io::AsyncFd) take `&self`, as in tokio, so that one
//! task can receive while another sends on an `Rc`-shared socket. A second
//! task waiting in the *same* direction would silently take the first one's
//! place, and the first would never be woken. So each waiting operation
//! claims its direction for as long as its future lives, and a second
//! claim fails at once with an error that says why:
//!
//! ```text
//!   task A: recv().await ──▶ claim(READ) ok ──▶ waits ───────────────────▶ done: claim released
//!   task B: recv().await ──▶ claim(READ) taken ──▶ Err("another task is already waiting to receive…")
//!   task C: send().await ──▶ claim(WRITE) ok ──▶ …                          (other direction: fine)
//! ```
//!
//! The claim is a `Cell<bool>`: the runtime is single-threaded, and a
//! dropped future drops its claim, so cancellation frees the direction.
//!
//! Every operation clears readiness only when the OS said `WouldBlock`:
//! that is the one answer that proves the next edge will come. (Byte
//! streams may also clear on a short transfer, see `net/ops.rs`; a short
//! *datagram* says nothing about the queue behind it.)

use std::cell::Cell;
use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

use mio::event::Source;

use crate::driver::io_source::IoSource;
use crate::driver::reactor::Direction;
use crate::net::retry_interrupted;

/// Which directions of one I/O object have a task waiting.
#[derive(Debug, Default)]
pub(crate) struct WaiterClaims {
    read: Cell<bool>,
    write: Cell<bool>,
}

/// A direction claimed by a waiting operation; dropping it frees the
/// direction.
pub(crate) struct Claim<'a>(&'a Cell<bool>);

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

impl WaiterClaims {
    /// Claims `dir` for a task about to wait; `what` says what it waits to
    /// do ("receive on this UdpSocket"), for the error if another task
    /// holds the claim.
    pub(crate) fn claim(&self, dir: Direction, what: &str) -> io::Result<Claim<'_>> {
        let flag = match dir {
            Direction::Read => &self.read,
            Direction::Write => &self.write,
        };
        if flag.replace(true) {
            return Err(io::Error::other(format!(
                "another task is already waiting to {what}: weft wakes one waiting task \
                 per direction of a socket, so wait in that direction from one task at a time"
            )));
        }
        Ok(Claim(flag))
    }
}

/// Runs `op` in direction `dir` once readiness allows, waiting as long as
/// the OS says `WouldBlock`, with `dir` claimed meanwhile. Cancel-safe if
/// `op` is: a dropped future ran no `op` that succeeded.
pub(crate) async fn wait_op<S: Source, R>(
    io: &IoSource<S>,
    claims: &WaiterClaims,
    dir: Direction,
    what: &str,
    mut op: impl FnMut(&S) -> io::Result<R>,
) -> io::Result<R> {
    let _claim = claims.claim(dir, what)?;
    poll_fn(|cx| poll_op(io, cx, dir, &mut op)).await
}

/// The poll form of [`wait_op`], without the claim (a hand-written future
/// has no place to keep one): only the most recent poller's waker is kept.
pub(crate) fn poll_op<S: Source, R>(
    io: &IoSource<S>,
    cx: &mut Context<'_>,
    dir: Direction,
    mut op: impl FnMut(&S) -> io::Result<R>,
) -> Poll<io::Result<R>> {
    io.poll_io(cx, dir, |source| retry_interrupted(|| op(source)))
}

/// One attempt of `op`, without waiting; `WouldBlock` clears `dir`'s
/// readiness, so the next waiter waits for the next edge.
pub(crate) fn try_op<S: Source, R>(
    io: &IoSource<S>,
    dir: Direction,
    mut op: impl FnMut(&S) -> io::Result<R>,
) -> io::Result<R> {
    let result = retry_interrupted(|| op(io.get_ref()));
    if matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
        io.clear_ready(dir);
    }
    result
}
