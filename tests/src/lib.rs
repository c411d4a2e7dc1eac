//! Integration and conformance tests across weft's crates live in `tests/`
//! beside this file. This library holds the few helpers they share (the loom
//! models and the tests of `weft-patterns` use them too): a waker that
//! counts its wake-ups, a way to poll a future exactly once, which is how
//! the tests cancel a future "after its first poll" or "after its wake-up
//! but before its next poll", a flag that proves a future's destructors
//! ran, a runtime on a paused clock (seeded from `WEFT_SEED` if asked),
//! a runtime with a time limit for
//! networked tests, and a temporary directory for Unix socket paths.
//!
//! It depends on the runtime and the primitives only, so that the crates
//! above them can use it in their tests without a dependency cycle.
//!
//! ```
//! use std::future::Future;
//! use std::task::Poll;
//! use weft_tests::{poll_once, WakeCounter};
//!
//! let counter = WakeCounter::new();
//! let mut fut = std::pin::pin!(async { 7 });
//! assert_eq!(poll_once(fut.as_mut(), &counter), Poll::Ready(7));
//! assert_eq!(counter.count(), 0);
//! ```

use std::cell::Cell;
use std::future::{pending, Future};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// A waker that counts how often it was woken, so a test can tell "this
/// waiter was woken" from "this waiter was left asleep" without timing.
#[derive(Debug, Clone, Default)]
pub struct WakeCounter {
    hits: Arc<Hits>,
}

#[derive(Debug, Default)]
struct Hits(AtomicUsize);

impl Wake for Hits {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl WakeCounter {
    /// A counter that has seen no wake-up yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A waker whose every wake-up this counter records.
    pub fn waker(&self) -> Waker {
        Waker::from(self.hits.clone())
    }

    /// How many wake-ups happened so far (clones included).
    pub fn count(&self) -> usize {
        self.hits.0.load(Ordering::SeqCst)
    }

    /// Whether at least one wake-up happened.
    pub fn woken(&self) -> bool {
        self.count() > 0
    }
}

/// Polls `fut` once with `counter`'s waker.
pub fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>, counter: &WakeCounter) -> Poll<F::Output> {
    let waker = counter.waker();
    let mut cx = Context::from_waker(&waker);
    fut.poll(&mut cx)
}

/// Sets its flag when dropped: proves a future's destructors ran.
#[derive(Debug)]
pub struct DropFlag(pub Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// Runs `test` to completion on a new runtime whose clock is paused (and
/// jumps to the next timer whenever every task waits), so that tests of
/// timeouts and backoffs are exact and take no real time.
///
/// ```
/// use std::time::Duration;
///
/// let slept = weft_tests::paused(async {
///     let start = weft_runtime::time::now();
///     weft_runtime::sleep(Duration::from_secs(3600)).await;
///     weft_runtime::time::now() - start
/// });
/// assert_eq!(slept, Duration::from_secs(3600));
/// ```
pub fn paused<F: Future>(test: F) -> F::Output {
    weft_runtime::Builder::new()
        .start_paused(true)
        .build()
        .block_on(test)
}

/// Like [`paused`], with every scheduling choice taken from a seed: the
/// value of the `WEFT_SEED` environment variable if it is set, else 0.
/// The same seed replays the same schedule; a run that no task can finish
/// panics with a deadlock report instead of hanging.
///
/// ```
/// let (sum, digest) = weft_tests::seeded(async {
///     let a = weft_runtime::spawn(async { 1 });
///     let b = weft_runtime::spawn(async { 2 });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(sum, 3);
/// assert!(digest.simulated());
/// ```
///
/// # Panics
///
/// If `WEFT_SEED` is set to something that is not a `u64`, or if `test`
/// panics or deadlocks.
pub fn seeded<F: Future>(test: F) -> (F::Output, weft_runtime::sim::ScheduleDigest) {
    let seed = weft_runtime::sim::seed_from_env().unwrap_or(0);
    let rt = weft_runtime::Builder::new()
        .start_paused(true)
        .seed(seed)
        .build();
    let output = rt.block_on(test);
    let digest = rt
        .schedule_digest()
        .expect("a seeded runtime keeps a digest");
    (output, digest)
}

/// A future that never completes and sets `flag` when it is dropped.
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// let flag = Rc::new(Cell::new(false));
/// drop(weft_tests::pending_with_flag(&flag));
/// assert!(flag.get());
/// ```
pub fn pending_with_flag(flag: &Rc<Cell<bool>>) -> impl Future<Output = ()> {
    let guard = DropFlag(flag.clone());
    async move {
        let _guard = guard;
        pending::<()>().await;
    }
}

pub use weft_runtime::panic_message;

/// Runs `test` on a fresh runtime and fails it if it takes over a minute,
/// so that a lost wake-up fails a networked test instead of hanging it.
///
/// ```
/// assert_eq!(weft_tests::run_bounded(async { 1 + 1 }), 2);
/// ```
pub fn run_bounded<F: Future>(test: F) -> F::Output {
    weft_runtime::run(async {
        weft_runtime::timeout(Duration::from_secs(60), test)
            .await
            .expect("the test did not finish within 60 s: a lost wake-up or a starved task")
    })
}

/// A fresh directory under the system's temporary directory, removed with
/// everything in it when dropped: a home for Unix socket files. Its path
/// is short, since a socket path must fit in about 100 bytes.
///
/// ```
/// let dir = weft_tests::TempDir::new();
/// let socket = dir.join("a.sock");
/// assert!(socket.starts_with(dir.path()));
/// let kept = dir.path().to_path_buf();
/// drop(dir);
/// assert!(!kept.exists());
/// ```
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates the directory.
    ///
    /// # Panics
    ///
    /// If it cannot be created.
    pub fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("weft-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).expect("cannot create a temporary directory");
        Self { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Best effort: a leftover directory in /tmp harms nothing.
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
