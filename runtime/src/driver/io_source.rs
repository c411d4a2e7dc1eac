//! [`IoSource`]: an I/O object registered with a reactor, and the loop that
//! runs a non-blocking operation on it.
//!
//! ```text
//!  task: poll_io(Read, op) ──▶ budget left? ──no──▶ wake self, Pending (coop)
//!                                 │yes
//!                                 ▼
//!                          ready bit set? ──no──▶ store waker, Pending
//!                                 │yes
//!                                 ▼
//!                              op(&source) ──WouldBlock──▶ clear_ready, look again
//!                                 │ any other result
//!                                 ▼
//!                               Ready(result)
//! ```
//!
//! The object knows its reactor, given when it is registered: this layer
//! never looks up which runtime is current (the I/O types above it do).

use std::io;
use std::rc::Rc;
use std::task::{Context, Poll};

use mio::event::Source;

use super::reactor::{Direction, IoState, Reactor};
use crate::executor::coop;

/// An I/O object registered with a runtime's reactor.
///
/// It deregisters itself and frees its slot when dropped, so a server that
/// handled a million connections holds no more reactor memory than one that
/// handled ten (the slab keeps its high-water capacity).
pub(crate) struct IoSource<S: Source> {
    source: S,
    state: Rc<IoState>,
    key: usize,
    reactor: Rc<Reactor>,
}

impl<S: Source> IoSource<S> {
    /// Registers `source` for both directions with `reactor`.
    pub(crate) fn new(mut source: S, reactor: Rc<Reactor>) -> io::Result<Self> {
        let (key, state) = reactor.register(&mut source)?;
        Ok(Self {
            source,
            state,
            key,
            reactor,
        })
    }

    /// The registered object.
    pub(crate) fn get_ref(&self) -> &S {
        &self.source
    }

    /// Ready when the OS said the direction can make progress; otherwise
    /// the task is woken on the next edge.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<()> {
        self.state.poll_ready(cx, dir)
    }

    /// Forgets readiness after the OS said `WouldBlock`; the next edge sets
    /// it again. The "closed" and "error" bits stay: they do not go away.
    pub(crate) fn clear_ready(&self, dir: Direction) {
        self.state.clear_ready(dir);
    }

    /// Runs a non-blocking `op` in direction `dir` once readiness allows:
    /// `WouldBlock` clears readiness and waits for the next edge; any other
    /// result is returned. Each call spends one unit of the task's
    /// cooperative budget (see `executor/coop.rs`), so a busy socket cannot starve
    /// the other tasks.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        loop {
            if self.poll_ready(cx, dir).is_pending() {
                return Poll::Pending;
            }
            match op(&self.source) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.clear_ready(dir);
                    if self.state.is_ready(dir) {
                        // A sticky "closed"/"error" bit says ready while the
                        // OS says WouldBlock: yield instead of spinning here.
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                }
                result => return Poll::Ready(result),
            }
        }
    }
}

impl<S: Source> Drop for IoSource<S> {
    fn drop(&mut self) {
        self.reactor.deregister(self.key, &mut self.source);
    }
}

impl<S: Source + std::fmt::Debug> std::fmt::Debug for IoSource<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IoSource")
            .field("source", &self.source)
            .field("token", &self.key)
            .finish()
    }
}
