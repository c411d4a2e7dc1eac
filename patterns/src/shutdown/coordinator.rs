//! [`Shutdown`]: stop accepting, let in-flight work finish within a grace
//! period, cancel the rest, and say what was cancelled.
//!
//! # Algorithm
//!
//! The coordinator owns two tokens and a table of the work it tracks:
//!
//! ```text
//!   requested ──(cancelled when shutdown begins)──▶ accept loops stop; spawn refuses
//!   abort     ──(cancelled at the deadline)───────▶ every tracked task drops its work
//!   running:  { id → name }   cancelled: [(id, name)]   drained: Event
//! ```
//!
//! [`spawn`](Shutdown::spawn) registers the work under the table's lock,
//! refusing it if shutdown was requested, and spawns a task that runs it
//! under `abort.run_until_cancelled`. When that task ends, for whatever
//! reason (done, cancelled, panicked, aborted), a guard removes it from the
//! table and records its name if the deadline cancelled it; the guard that
//! empties the table after shutdown was requested sets `drained`.
//!
//! [`shutdown`](Shutdown::shutdown) cancels `requested`, waits for `drained`
//! until the deadline, and, if that passes, cancels `abort` and waits for
//! `drained` again, which comes as soon as every tracked task has had one
//! more turn to drop its work. The report is built from what the tasks
//! themselves recorded, so a task that finished on its own at the last
//! moment is never reported as cancelled.
//!
//! Why no work slips in after shutdown began: `shutdown` cancels `requested`
//! before it locks the table, and `spawn` checks `requested` while holding
//! that lock, so `spawn` either sees the request or registers its work
//! before `shutdown` counts what is in flight.
//!
//! # Cancellation guarantee
//!
//! * Dropping the [`shutdown`](Shutdown::shutdown) future half-way leaves the
//!   coordinator refusing new work, while the tracked work keeps running and
//!   is not cancelled. Calling `shutdown` again resumes, with a new deadline.
//! * Dropping a tracked task's `JoinHandle` detaches it; it is still tracked
//!   and still cancelled at the deadline.
//! * Work cancelled at the deadline is dropped at its next turn: its
//!   destructors run before `shutdown` returns.

use std::collections::HashMap;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Poll;
use std::time::Duration;

use weft_primitives::Event;
use weft_runtime::signal::{self, Signal, SignalKind};
use weft_runtime::{time, JoinHandle};

use super::CancellationToken;
use crate::deadline::drain_then_abort;

/// Coordinates a graceful shutdown: tracks in-flight work, stops accepting
/// on a signal or a token, gives the work a grace period, then cancels what
/// is left and reports it.
///
/// Cloning gives another handle on the same coordinator. It is
/// `Send + Sync`; the work it spawns runs on the current weft runtime.
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::shutdown::Shutdown;
/// use weft_runtime::sleep;
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let shutdown = Shutdown::new();
///     shutdown.spawn("quick request", sleep(Duration::from_millis(10))).unwrap();
///     shutdown.spawn("long download", sleep(Duration::from_secs(600))).unwrap();
///
///     let report = shutdown.shutdown(Duration::from_secs(1)).await;
///     assert_eq!(report.in_flight, 2);
///     assert_eq!(report.finished, 1);
///     assert_eq!(report.cancelled, ["long download"]);
///     assert_eq!(report.elapsed, Duration::from_secs(1));
///     // Once shutdown began, new work is refused and handed back.
///     assert!(shutdown.spawn("late", async {}).is_err());
/// });
/// ```
#[derive(Clone)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

struct Inner {
    /// Cancelled when shutdown begins: stop accepting.
    requested: CancellationToken,
    /// Cancelled at the deadline: drop the tracked work that is left.
    abort: CancellationToken,
    /// Set once shutdown was requested and no tracked work is left.
    drained: Event,
    table: Mutex<Table>,
}

struct Table {
    next_id: u64,
    running: HashMap<u64, Arc<str>>,
    /// Work that the deadline cancelled, with its id for a stable order.
    cancelled: Vec<(u64, Arc<str>)>,
}

impl Inner {
    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Removes an ended task from the table, records it if the deadline
    /// cancelled it, and sets `drained` if it was the last one.
    fn end(&self, id: u64, cancelled: bool) {
        let drained = {
            let mut table = self.table();
            if let Some(name) = table.running.remove(&id) {
                if cancelled {
                    table.cancelled.push((id, name));
                }
            }
            table.running.is_empty() && self.requested.is_cancelled()
        };
        if drained {
            self.drained.set();
        }
    }
}

/// Held by a tracked task; unregisters it however the task ends.
struct Registration {
    inner: Arc<Inner>,
    id: u64,
    /// Set when the deadline cancelled the work.
    cancelled: bool,
}

impl Registration {
    /// Unregisters the task now, noting whether the deadline cancelled it.
    fn finish(mut self, cancelled: bool) {
        self.cancelled = cancelled;
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.inner.end(self.id, self.cancelled);
    }
}

impl Shutdown {
    /// A coordinator with no work in flight, triggered only through its own
    /// [`token`](Self::token), [`shutdown`](Self::shutdown) or a signal.
    ///
    /// ```
    /// let shutdown = weft_patterns::shutdown::Shutdown::new();
    /// assert!(!shutdown.is_shutting_down());
    /// ```
    pub fn new() -> Self {
        Self::with_token(CancellationToken::new())
    }

    /// A coordinator whose shutdown is also requested when `parent` is
    /// cancelled (an application-wide token, say). Cancelling the
    /// coordinator leaves `parent` alone.
    ///
    /// ```
    /// use weft_patterns::shutdown::{CancellationToken, Shutdown};
    ///
    /// let app = CancellationToken::new();
    /// let shutdown = Shutdown::with_parent(&app);
    /// app.cancel();
    /// assert!(shutdown.is_shutting_down());
    /// ```
    pub fn with_parent(parent: &CancellationToken) -> Self {
        Self::with_token(parent.child_token())
    }

    fn with_token(requested: CancellationToken) -> Self {
        Shutdown {
            inner: Arc::new(Inner {
                requested,
                abort: CancellationToken::new(),
                drained: Event::new(),
                table: Mutex::new(Table {
                    next_id: 0,
                    running: HashMap::new(),
                    cancelled: Vec::new(),
                }),
            }),
        }
    }

    /// The token that is cancelled when shutdown begins. Accept loops wait
    /// on it to stop accepting; cancelling it requests shutdown (the work
    /// keeps running until [`shutdown`](Self::shutdown) enforces a deadline).
    ///
    /// ```
    /// let shutdown = weft_patterns::shutdown::Shutdown::new();
    /// shutdown.token().cancel();
    /// assert!(shutdown.is_shutting_down());
    /// ```
    pub fn token(&self) -> CancellationToken {
        self.inner.requested.clone()
    }

    /// Whether shutdown was requested.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.requested.is_cancelled()
    }

    /// The number of tracked tasks that have not ended yet.
    ///
    /// ```
    /// let rt = weft_runtime::Builder::new().start_paused(true).build();
    /// rt.block_on(async {
    ///     let shutdown = weft_patterns::shutdown::Shutdown::new();
    ///     let task = shutdown.spawn("job", async {}).unwrap();
    ///     assert_eq!(shutdown.in_flight(), 1);
    ///     task.await.unwrap();
    ///     assert_eq!(shutdown.in_flight(), 0);
    /// });
    /// ```
    pub fn in_flight(&self) -> usize {
        self.inner.table().running.len()
    }

    /// Spawns `work` as a tracked task named `name` (the name shows in
    /// runtime snapshots and in the [`ShutdownReport`]).
    ///
    /// The task's handle gives `Some(output)`, or `None` if the deadline
    /// cancelled the work. Once shutdown was requested, the work is refused
    /// and handed back in the error.
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub fn spawn<F>(
        &self,
        name: impl Into<Arc<str>>,
        work: F,
    ) -> Result<JoinHandle<Option<F::Output>>, ShuttingDown<F>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let name = name.into();
        let id = {
            let mut table = self.inner.table();
            // Checked under the lock that `shutdown` takes after cancelling
            // `requested`: see the module docs.
            if self.inner.requested.is_cancelled() {
                return Err(ShuttingDown(work));
            }
            let id = table.next_id;
            table.next_id += 1;
            table.running.insert(id, name.clone());
            id
        };
        let registration = Registration {
            inner: self.inner.clone(),
            id,
            cancelled: false,
        };
        let abort = self.inner.abort.clone();
        Ok(weft_runtime::spawn_named(name, async move {
            let output = abort.run_until_cancelled(work).await;
            registration.finish(output.is_none());
            output
        }))
    }

    /// Shuts down: stops accepting new work at once, waits up to `grace`
    /// for the tracked work to end, then cancels what is left and waits for
    /// it to be dropped.
    ///
    /// Every call returns a report of the whole shutdown so far; calling it
    /// from several tasks is fine, each enforcing its own deadline.
    pub async fn shutdown(&self, grace: Duration) -> ShutdownReport {
        let started = time::now();
        self.inner.requested.cancel();
        let in_flight = self.inner.table().running.len();
        if in_flight == 0 {
            // Nothing left to end and set it; new work is refused by now.
            self.inner.drained.set();
        }
        let inner = &self.inner;
        drain_then_abort(
            started,
            grace,
            || inner.drained.wait(),
            || inner.abort.cancel(),
        )
        .await;
        let mut cancelled = self.inner.table().cancelled.clone();
        cancelled.sort_by_key(|(id, _)| *id);
        let cancelled: Vec<String> = cancelled.iter().map(|(_, name)| name.to_string()).collect();
        ShutdownReport {
            in_flight,
            finished: in_flight.saturating_sub(cancelled.len()),
            cancelled,
            elapsed: time::now() - started,
        }
    }

    /// Starts listening for Ctrl-C (SIGINT) and SIGTERM now; the returned
    /// [`ShutdownSignals`] tells which came first, or that shutdown was
    /// requested through the token.
    ///
    /// # Errors
    ///
    /// When a signal listener cannot be installed.
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub fn signals(&self) -> io::Result<ShutdownSignals> {
        Ok(ShutdownSignals {
            interrupt: signal::signal(SignalKind::interrupt())?,
            terminate: signal::signal(SignalKind::terminate())?,
            requested: self.token(),
        })
    }

    /// The whole recipe: waits for Ctrl-C, SIGTERM or a cancelled
    /// [`token`](Self::token), then [`shutdown`](Self::shutdown)s with `grace`.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use weft_patterns::shutdown::Shutdown;
    ///
    /// weft_runtime::run(async {
    ///     let shutdown = Shutdown::new();
    ///     // ... an accept loop spawns each connection with shutdown.spawn(..)
    ///     let (trigger, report) = shutdown.run_until_signal(Duration::from_secs(5)).await.unwrap();
    ///     println!("{trigger}: {report}");
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// When a signal listener cannot be installed.
    pub async fn run_until_signal(
        &self,
        grace: Duration,
    ) -> io::Result<(ShutdownTrigger, ShutdownReport)> {
        let trigger = self.signals()?.triggered().await;
        Ok((trigger, self.shutdown(grace).await))
    }
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shutdown")
            .field("shutting_down", &self.is_shutting_down())
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

/// Listeners for Ctrl-C and SIGTERM, from [`Shutdown::signals`].
#[derive(Debug)]
pub struct ShutdownSignals {
    interrupt: Signal,
    terminate: Signal,
    requested: CancellationToken,
}

impl ShutdownSignals {
    /// Waits for the first of: SIGINT, SIGTERM, or the coordinator's token
    /// being cancelled. A listener whose signal pipe broke (which does not
    /// happen in practice) counts as its signal, so the program still stops.
    ///
    /// Cancel-safe: a signal that arrives while no one waits is kept for the
    /// next call.
    pub async fn triggered(&mut self) -> ShutdownTrigger {
        let mut interrupt = pin!(self.interrupt.recv());
        let mut terminate = pin!(self.terminate.recv());
        let mut requested = pin!(self.requested.cancelled());
        poll_fn(|cx| {
            if requested.as_mut().poll(cx).is_ready() {
                Poll::Ready(ShutdownTrigger::Requested)
            } else if interrupt.as_mut().poll(cx).is_ready() {
                Poll::Ready(ShutdownTrigger::Signal(SignalKind::interrupt()))
            } else if terminate.as_mut().poll(cx).is_ready() {
                Poll::Ready(ShutdownTrigger::Signal(SignalKind::terminate()))
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

/// What started a shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownTrigger {
    /// A signal arrived (SIGINT or SIGTERM).
    Signal(SignalKind),
    /// The coordinator's token was cancelled (by the program, or through a
    /// parent token).
    Requested,
}

display!(impl[] ShutdownTrigger, |self, f| match self {
    ShutdownTrigger::Signal(kind) if *kind == SignalKind::interrupt() => {
        f.write_str("interrupted (SIGINT)")
    }
    ShutdownTrigger::Signal(kind) if *kind == SignalKind::terminate() => {
        f.write_str("terminated (SIGTERM)")
    }
    ShutdownTrigger::Signal(kind) => write!(f, "signal {}", kind.as_raw()),
    ShutdownTrigger::Requested => f.write_str("shutdown requested"),
});

/// What a [`Shutdown::shutdown`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Tracked tasks running when this call began.
    pub in_flight: usize,
    /// Of those, how many ended by themselves.
    pub finished: usize,
    /// The names of the tasks the deadline cancelled, in spawn order.
    pub cancelled: Vec<String>,
    /// Time from the start of this call until everything had stopped.
    pub elapsed: Duration,
}

display!(impl[] ShutdownReport, |self, f| {
    write!(
        f,
        "{} task(s) in flight: {} finished, {} cancelled",
        self.in_flight,
        self.finished,
        self.cancelled.len()
    )?;
    if !self.cancelled.is_empty() {
        write!(f, " ({})", self.cancelled.join(", "))?;
    }
    write!(f, " in {:?}", self.elapsed)
});

work_refused! {
    /// [`Shutdown::spawn`] refused work because shutdown was requested; the
    /// work comes back unrun.
    ///
    /// ```
    /// let rt = weft_runtime::Builder::new().start_paused(true).build();
    /// rt.block_on(async {
    ///     let shutdown = weft_patterns::shutdown::Shutdown::new();
    ///     shutdown.token().cancel();
    ///     let refused = shutdown.spawn("late", async { 5 }).unwrap_err();
    ///     assert_eq!(refused.to_string(), "shutting down: no new work is accepted");
    ///     assert_eq!(refused.into_inner().await, 5);
    /// });
    /// ```
    ShuttingDown,
    "shutting down: no new work is accepted"
}
