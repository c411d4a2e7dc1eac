//! Building, entering and shutting down a runtime.
//!
//! [`run`] is asyncio's `asyncio.run`: build a runtime, drive one future to
//! completion, then drop every task that is left. [`Builder`] and
//! [`Runtime::block_on`] give control over the settings and the lifetime.
//! Each runtime is owned by the thread that runs it; start one runtime per
//! thread for thread-per-core scaling.

use std::future::Future;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::handle::Handle;
use super::spawner::Spawner;
use crate::scheduler::context;
use crate::scheduler::core::{Config, Core};
use crate::scheduler::metrics::{RuntimeMetrics, TaskSnapshot};

/// Runs `fut` to completion on a new runtime, then cancels every task still
/// alive (their futures are dropped), like `asyncio.run`.
///
/// ```
/// use std::time::Duration;
///
/// let answer = weft_runtime::run(async {
///     let h = weft_runtime::spawn(async { 40 + 2 });
///     weft_runtime::sleep(Duration::from_millis(5)).await;
///     h.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
///
/// # Panics
///
/// If called from within a running runtime, if `fut` panics, or if the OS
/// refuses the runtime an epoll instance.
pub fn run<F: Future>(fut: F) -> F::Output {
    Runtime::new().block_on(fut)
}

/// Settings for a [`Runtime`].
///
/// ```
/// use std::time::Duration;
///
/// let rt = weft_runtime::Builder::new()
///     .start_paused(true)
///     .slow_poll_threshold(Duration::from_millis(50))
///     .max_blocking_threads(4)
///     .build();
/// rt.block_on(async {
///     // With the paused clock, an hour passes at once.
///     weft_runtime::sleep(Duration::from_secs(3600)).await;
/// });
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    pub(super) config: Config,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// Default settings: real clock, no slow-poll warning, at most 64
    /// blocking threads that exit after 10 s idle.
    pub fn new() -> Self {
        Self {
            config: Config {
                start_paused: false,
                slow_poll_threshold: None,
                max_blocking_threads: 64,
                blocking_keep_alive: Duration::from_secs(10),
                #[cfg(feature = "sim")]
                sim: Default::default(),
            },
        }
    }

    /// With `true`, time stands still and jumps to the next timer whenever
    /// every task is idle (no I/O pending, no blocking job running), so tests
    /// of long timeouts run in microseconds and always give the same result.
    pub fn start_paused(mut self, paused: bool) -> Self {
        self.config.start_paused = paused;
        self
    }

    /// Warns on stderr, naming the task, whenever one poll keeps the loop
    /// busy longer than `threshold` (asyncio's debug mode does this): it
    /// catches blocking calls inside tasks.
    pub fn slow_poll_threshold(mut self, threshold: Duration) -> Self {
        self.config.slow_poll_threshold = Some(threshold);
        self
    }

    /// The most threads `spawn_blocking` may use at once (at least 1).
    pub fn max_blocking_threads(mut self, n: usize) -> Self {
        self.config.max_blocking_threads = n.max(1);
        self
    }

    /// How long an idle blocking thread waits for work before it exits.
    pub fn thread_keep_alive(mut self, keep_alive: Duration) -> Self {
        self.config.blocking_keep_alive = keep_alive;
        self
    }

    /// Builds the runtime, or returns the OS error if it refuses an epoll
    /// instance or an eventfd.
    pub fn try_build(&self) -> io::Result<Runtime> {
        Ok(Runtime {
            core: Rc::new(Core::new(&self.config)?),
        })
    }

    /// Builds the runtime.
    ///
    /// # Panics
    ///
    /// If the OS refuses an epoll instance or an eventfd (see
    /// [`Builder::try_build`]).
    pub fn build(&self) -> Runtime {
        self.try_build()
            .unwrap_or_else(|e| panic!("weft: cannot build a runtime: {e}"))
    }
}

/// A single-threaded runtime: an executor, a reactor and a timer wheel.
///
/// Tasks spawned during one `block_on` stay alive for the next one; dropping
/// the runtime drops every task left (their handles report cancelled).
///
/// ```
/// let rt = weft_runtime::Runtime::new();
/// let h = rt.block_on(async { weft_runtime::spawn(async { 1 }) });
/// assert_eq!(rt.block_on(h).unwrap(), 1);
/// ```
pub struct Runtime {
    pub(super) core: Rc<Core>,
}

impl Default for Runtime {
    fn default() -> Self {
        Self::new()
    }
}

impl Runtime {
    /// A runtime with default settings (see [`Builder::new`]).
    pub fn new() -> Self {
        Builder::new().build()
    }

    /// Drives `fut` to completion on this thread, running the runtime's
    /// tasks, timers and I/O meanwhile.
    ///
    /// # Panics
    ///
    /// If another runtime is already running on this thread, or if `fut`
    /// panics (a panic inside a spawned task is caught instead).
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        let _enter = context::enter(self.core.clone());
        self.core.block_on(fut)
    }

    /// The runtime's counters.
    pub fn metrics(&self) -> RuntimeMetrics {
        self.core.metrics()
    }

    /// A snapshot of every live task.
    pub fn tasks(&self) -> Vec<TaskSnapshot> {
        self.core.task_snapshots()
    }

    /// A handle to spawn onto this runtime and inspect it.
    pub fn handle(&self) -> Handle {
        Handle::new(self.core.clone())
    }

    /// A [`Spawner`] for this runtime: `Send + Sync`, to spawn onto it from
    /// any thread.
    ///
    /// ```
    /// let rt = weft_runtime::Runtime::new();
    /// let spawner = rt.spawner();
    /// let handle = std::thread::spawn(move || spawner.spawn(async { 1 + 1 }).unwrap())
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(handle).unwrap(), 2);
    /// ```
    pub fn spawner(&self) -> Spawner {
        Spawner::new(self.core.shared().clone())
    }

    /// Runs one turn of the event loop, for a host loop that drives the
    /// runtime itself instead of calling [`block_on`](Self::block_on): polls
    /// the ready tasks (a bounded batch), takes in wakes and spawns from
    /// other threads, fires due timers and takes I/O events. It waits for
    /// one of these only if no task is ready, and then for at most
    /// `max_wait` (`None`: as long as it takes), never past the next timer.
    ///
    /// Between turns, a spawn or wake from another thread, or I/O, makes the
    /// runtime's fd readable (see the `AsRawFd` impl), so a host waiting on
    /// its own poller learns when to call `turn` again.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = weft_runtime::Runtime::new();
    /// let spawner = rt.spawner();
    /// let handle = spawner
    ///     .spawn_local(|| async {
    ///         weft_runtime::sleep(Duration::from_millis(5)).await;
    ///         "done"
    ///     })
    ///     .unwrap();
    /// while !handle.is_finished() {
    ///     // The host's own work for this frame goes here.
    ///     rt.turn(Some(Duration::from_millis(10)));
    /// }
    /// assert_eq!(rt.block_on(handle).unwrap(), "done");
    /// ```
    ///
    /// # Panics
    ///
    /// If another runtime is running on this thread.
    pub fn turn(&self, max_wait: Option<Duration>) -> Turn {
        let _enter = context::enter(self.core.clone());
        Turn {
            tasks_ready: self.core.turn(max_wait),
            next_timer: self.core.time.next_deadline(),
        }
    }
}

/// What [`Runtime::turn`] left behind: when the host should turn again.
///
/// ```
/// let rt = weft_runtime::Runtime::new();
/// let turn = rt.turn(Some(std::time::Duration::ZERO));
/// assert!(!turn.tasks_ready);
/// assert_eq!(turn.next_timer, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Turn {
    /// Tasks are ready to run (or sent by other threads): turn again soon,
    /// without waiting.
    pub tasks_ready: bool,
    /// When to turn again at the latest for the timers, on the runtime's
    /// clock (real time, unless the runtime was built with a paused clock):
    /// the earliest timer's deadline, or an earlier instant when that timer
    /// is far away (the timing wheel looks at far timers in steps, and a
    /// turn then only moves it closer). `None` when no timer is live.
    pub next_timer: Option<Instant>,
}

/// The runtime's poller (its epoll instance): readable, level-triggered,
/// while I/O events, or a wake or spawn from another thread, are waiting
/// for the runtime. A host that waits on its own poller registers this fd
/// for reading, and calls [`Runtime::turn`] when it is readable (or when
/// [`Turn::next_timer`] is due). Only `turn` clears it; do not read it.
///
/// ```
/// use std::os::fd::AsRawFd;
///
/// let rt = weft_runtime::Runtime::new();
/// assert!(rt.as_raw_fd() >= 0);
/// ```
#[cfg(unix)]
impl std::os::fd::AsRawFd for Runtime {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.core.reactor.poll_fd()
    }
}

/// The same fd as [`AsRawFd`](std::os::fd::AsRawFd), borrowed.
///
/// ```
/// use std::os::fd::AsFd;
///
/// let rt = weft_runtime::Runtime::new();
/// let fd = rt.as_fd().try_clone_to_owned().unwrap();
/// drop(fd);
/// ```
#[cfg(unix)]
impl std::os::fd::AsFd for Runtime {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        // SAFETY: the fd is the reactor's epoll instance, which the runtime
        // owns and closes only when it is dropped, after this borrow.
        unsafe { std::os::fd::BorrowedFd::borrow_raw(self.core.reactor.poll_fd()) }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Task destructors may need their runtime (to cancel a timer, to
        // deregister a socket), so it is installed while they run, unless
        // this thread is running another runtime right now.
        let _enter = context::try_current()
            .is_none()
            .then(|| context::enter(self.core.clone()));
        self.core.shutdown();
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("metrics", &self.metrics())
            .finish()
    }
}
