//! The reactor: the runtime's one `mio::Poll`, and readiness for I/O objects.
//!
//! Every I/O object (socket, signal pipe) is registered once, edge-triggered,
//! with a token that is its slot in a slab of [`IoState`]s (the object's side
//! of the registration is `io_source.rs`). When the reactor turns, each OS
//! event sets readiness bits in that slot and wakes the task waiting for
//! that direction:
//!
//! ```text
//!  epoll_wait ──▶ event(token, readable) ──▶ slab[token].ready |= READ ──▶ wake reader
//!
//!  task: poll_ready(Read) ──▶ bit set? ──yes──▶ try the read
//!                               │no                 │ WouldBlock
//!                               ▼                   ▼
//!                          store waker        clear_ready(Read), poll_ready again
//! ```
//!
//! Because registration is edge-triggered, a bit is cleared only when the OS
//! said `WouldBlock`: then the next edge is sure to come, and nothing is
//! missed or counted twice. One waker is kept per direction, so one task may
//! read while another writes (a split stream).
//!
//! The runtime is single-threaded, so this state lives in `Cell`/`RefCell`;
//! only the `mio::Waker` crosses threads.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use mio::event::Source;
use mio::{Events, Interest, Token};
use slab::Slab;

/// The token of the runtime's `mio::Waker` (cross-thread wake-ups).
const WAKE_TOKEN: Token = Token(usize::MAX);

/// Which half of an I/O object a task waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// Readiness bits that let an operation in this direction proceed:
    /// data or space, but also a closed side or an error, which the
    /// operation itself then reports.
    fn mask(self) -> u8 {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR,
        }
    }
}

const READABLE: u8 = 1;
const WRITABLE: u8 = 2;
const READ_CLOSED: u8 = 4;
const WRITE_CLOSED: u8 = 8;
const ERROR: u8 = 16;

/// Readiness and waiting tasks of one registered I/O object.
#[derive(Default)]
pub(crate) struct IoState {
    ready: Cell<u8>,
    reader: RefCell<Option<Waker>>,
    writer: RefCell<Option<Waker>>,
}

impl IoState {
    fn waiter(&self, dir: Direction) -> &RefCell<Option<Waker>> {
        match dir {
            Direction::Read => &self.reader,
            Direction::Write => &self.writer,
        }
    }

    /// Whether the OS said the direction can make progress.
    #[inline]
    pub(crate) fn is_ready(&self, dir: Direction) -> bool {
        self.ready.get() & dir.mask() != 0
    }

    /// Ready when the OS said the direction can make progress; otherwise
    /// the task is woken on the next edge.
    #[inline]
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<()> {
        if self.is_ready(dir) {
            return Poll::Ready(());
        }
        let mut waiter = self.waiter(dir).borrow_mut();
        match &*waiter {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *waiter = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// Forgets readiness after the OS said `WouldBlock`; the next edge sets
    /// it again. The "closed" and "error" bits stay: they do not go away.
    #[inline]
    pub(crate) fn clear_ready(&self, dir: Direction) {
        let keep = READ_CLOSED | WRITE_CLOSED | ERROR;
        let clear = match dir {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        };
        self.ready.set(self.ready.get() & (keep | !clear));
    }
}

/// The runtime's `mio::Poll` and the slab of registered I/O objects.
pub(crate) struct Reactor {
    poll: RefCell<mio::Poll>,
    events: RefCell<Events>,
    io: RefCell<Slab<Rc<IoState>>>,
    events_total: Cell<u64>,
    /// I/O objects ever registered (live or not): a simulation's check
    /// that no real I/O took place.
    #[cfg(feature = "sim")]
    registered_total: Cell<u64>,
}

impl Reactor {
    /// A reactor and the `mio::Waker` that wakes it from other threads.
    pub(crate) fn new() -> io::Result<(Self, mio::Waker)> {
        let poll = mio::Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN)?;
        let reactor = Self {
            poll: RefCell::new(poll),
            events: RefCell::new(Events::with_capacity(1024)),
            io: RefCell::new(Slab::new()),
            events_total: Cell::new(0),
            #[cfg(feature = "sim")]
            registered_total: Cell::new(0),
        };
        Ok((reactor, waker))
    }

    /// Waits for OS events for at most `timeout` (`None`: until one comes)
    /// and wakes the tasks they concern. Wakers are called after the slab's
    /// borrow ends; a wake only queues a task, it never runs one.
    pub(crate) fn turn(&self, timeout: Option<Duration>) {
        let mut events = self.events.borrow_mut();
        if let Err(e) = self.poll.borrow_mut().poll(&mut events, timeout) {
            // EINTR (a signal arrived) is an ordinary early return.
            if e.kind() != io::ErrorKind::Interrupted {
                panic!("weft reactor: epoll_wait failed: {e}");
            }
            return;
        }
        let mut wake = Vec::new();
        {
            let io = self.io.borrow();
            for event in events.iter() {
                if event.token() == WAKE_TOKEN {
                    continue;
                }
                self.events_total.set(self.events_total.get() + 1);
                let Some(state) = io.get(event.token().0) else {
                    continue;
                };
                let mut bits = 0;
                if event.is_readable() {
                    bits |= READABLE;
                }
                if event.is_writable() {
                    bits |= WRITABLE;
                }
                if event.is_read_closed() {
                    bits |= READ_CLOSED;
                }
                if event.is_write_closed() {
                    bits |= WRITE_CLOSED;
                }
                if event.is_error() {
                    bits |= ERROR;
                }
                state.ready.set(state.ready.get() | bits);
                for dir in [Direction::Read, Direction::Write] {
                    if bits & dir.mask() != 0 {
                        wake.extend(state.waiter(dir).borrow_mut().take());
                    }
                }
            }
        }
        drop(events);
        for waker in wake {
            waker.wake();
        }
    }

    /// The poller's own fd: readable while OS events (or a remote wake)
    /// wait to be taken by [`Reactor::turn`].
    #[cfg(unix)]
    pub(crate) fn poll_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&*self.poll.borrow())
    }

    /// OS events delivered so far (the waker's own events excluded).
    pub(crate) fn events_total(&self) -> u64 {
        self.events_total.get()
    }

    /// Registered I/O objects.
    pub(crate) fn registrations(&self) -> usize {
        self.io.borrow().len()
    }

    /// I/O objects registered since the runtime started, deregistered or
    /// not (a run that registered none did no real I/O).
    #[cfg(feature = "sim")]
    pub(crate) fn registered_total(&self) -> u64 {
        self.registered_total.get()
    }

    /// Registers `source` for both directions; returns its token and the
    /// readiness state its events will update.
    pub(crate) fn register(&self, source: &mut impl Source) -> io::Result<(usize, Rc<IoState>)> {
        #[cfg(feature = "sim")]
        self.registered_total.set(self.registered_total.get() + 1);
        let state = Rc::new(IoState::default());
        let key = self.io.borrow_mut().insert(state.clone());
        let registered = self.poll.borrow().registry().register(
            source,
            Token(key),
            Interest::READABLE | Interest::WRITABLE,
        );
        if let Err(e) = registered {
            self.io.borrow_mut().remove(key);
            return Err(e);
        }
        Ok((key, state))
    }

    /// Undoes [`Reactor::register`] and frees the slot.
    pub(crate) fn deregister(&self, key: usize, source: &mut impl Source) {
        // Deregistering may fail only if the fd is already gone; either way
        // the OS will deliver no more events for it, so the slot can go.
        let _ = self.poll.borrow().registry().deregister(source);
        self.io.borrow_mut().remove(key);
    }
}
