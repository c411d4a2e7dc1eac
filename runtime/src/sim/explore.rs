//! Schedule exploration: run one async test body under many seeds and
//! stop at the first schedule that breaks it.
//!
//! ```text
//!   for seed in first_seed .. first_seed + runs        (or only $WEFT_SEED)
//!       fresh runtime: paused clock, seeded with `seed`, the chosen policy
//!       run the body; catch its panic
//!       panic, Err(..) or deadlock? ──▶ print seed, digest, replay command; stop
//! ```
//!
//! Each run is a whole simulation on its own runtime, so a failure found
//! at seed `s` comes back with seed `s` alone: set `WEFT_SEED=s` and the
//! explorer runs that seed only, and fails the same way with the same
//! schedule digest (as long as the body stays inside the simulation: see
//! [`ScheduleDigest::simulated`]).
//!
//! A deadlock needs no timeout: a seeded runtime on the paused clock knows
//! when nothing can happen any more and panics with a report naming every
//! waiting task, which the explorer turns into [`FailureKind::Deadlock`].

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::Policy;
use crate::api::runtime::Builder;
use crate::executor::panic_message::panic_message;
use crate::scheduler::simulation::{ScheduleDigest, DEADLOCK};

/// The environment variable that makes an [`Explorer`] (and the test
/// helpers) run one given seed.
pub const SEED_VAR: &str = "WEFT_SEED";

/// The seed in `$WEFT_SEED`, if it is set.
///
/// ```
/// match weft_runtime::sim::seed_from_env() {
///     Some(seed) => println!("replaying seed {seed}"),
///     None => println!("exploring"),
/// }
/// ```
///
/// # Panics
///
/// If the variable is set to something that is not a `u64`.
pub fn seed_from_env() -> Option<u64> {
    let seed = std::env::var(SEED_VAR).ok()?;
    let parsed = seed
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{SEED_VAR}={seed:?}: expected a seed, a number in 0..2^64"));
    Some(parsed)
}

/// Which seeds to try, and how to schedule.
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use weft_runtime::sim::{Explorer, Policy};
///
/// // A lost update: both tasks read, yield, then write.
/// let found = Explorer::new().runs(200).policy(Policy::Random).run(|| async {
///     let counter = Rc::new(Cell::new(0));
///     let bump = |c: Rc<Cell<i32>>| async move {
///         let seen = c.get();
///         weft_runtime::yield_now().await;
///         c.set(seen + 1);
///     };
///     let a = weft_runtime::spawn(bump(counter.clone()));
///     let b = weft_runtime::spawn(bump(counter.clone()));
///     a.await.unwrap();
///     b.await.unwrap();
///     if counter.get() == 2 { Ok(()) } else { Err(format!("lost an update: {}", counter.get())) }
/// });
/// let failure = found.unwrap_err();
/// assert!(failure.message().contains("lost an update"));
/// ```
#[derive(Debug, Clone)]
pub struct Explorer {
    runs: u64,
    first_seed: u64,
    policy: Policy,
    test_name: Option<String>,
}

impl Default for Explorer {
    fn default() -> Self {
        Self::new()
    }
}

impl Explorer {
    /// 1 000 runs from seed 0, uniformly random schedules.
    pub fn new() -> Self {
        Self {
            runs: 1_000,
            first_seed: 0,
            policy: Policy::Random,
            test_name: None,
        }
    }

    /// How many seeds to try.
    pub fn runs(mut self, runs: u64) -> Self {
        self.runs = runs;
        self
    }

    /// The first seed; the others follow it.
    pub fn first_seed(mut self, seed: u64) -> Self {
        self.first_seed = seed;
        self
    }

    /// The scheduling policy of every run.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The test name the replay command gives; by default the name of the
    /// current thread, which the Rust test harness sets to the test's.
    pub fn test_name(mut self, name: impl Into<String>) -> Self {
        self.test_name = Some(name.into());
        self
    }

    /// Runs `body` under each seed (only `$WEFT_SEED` if it is set), each
    /// time in a fresh seeded runtime on the paused clock, and stops at the
    /// first run that panics, returns an error or deadlocks; the failure
    /// is also printed on stderr with a replay command.
    ///
    /// # Panics
    ///
    /// If `WEFT_SEED` is set to something that is not a `u64`.
    pub fn run<F, Fut>(&self, body: F) -> Result<Explored, Failure>
    where
        F: Fn() -> Fut,
        Fut: Future,
        Fut::Output: Outcome,
    {
        let seeds = match seed_from_env() {
            Some(seed) => seed..seed + 1,
            None => self.first_seed..self.first_seed.saturating_add(self.runs),
        };
        let mut schedules = HashSet::new();
        let mut runs = 0;
        for seed in seeds {
            runs += 1;
            let rt = Builder::new()
                .start_paused(true)
                .seed(seed)
                .policy(self.policy)
                .build();
            let outcome = catch_unwind(AssertUnwindSafe(|| rt.block_on(body())));
            let digest = rt
                .schedule_digest()
                .expect("a seeded runtime keeps a digest");
            drop(rt);
            schedules.insert(digest.hash());
            let (kind, message) = match outcome {
                Ok(outcome) => match outcome.into_result() {
                    Ok(()) => continue,
                    Err(message) => (FailureKind::Error, message),
                },
                Err(payload) => {
                    let message = panic_message(&*payload)
                        .unwrap_or("a panic with a payload that is not a string")
                        .to_owned();
                    let kind = if message.starts_with(DEADLOCK) {
                        FailureKind::Deadlock
                    } else {
                        FailureKind::Panic
                    };
                    (kind, message)
                }
            };
            let failure = Failure {
                seed,
                run: runs,
                policy: self.policy,
                digest,
                kind,
                message,
                replay: self.replay_command(seed),
            };
            eprintln!("{failure}");
            return Err(failure);
        }
        Ok(Explored {
            runs,
            distinct_schedules: schedules.len(),
        })
    }

    /// `WEFT_SEED=<seed> cargo test [-p <package>] <test> -- --exact`.
    fn replay_command(&self, seed: u64) -> String {
        let test = self
            .test_name
            .clone()
            .or_else(|| std::thread::current().name().map(str::to_owned))
            .unwrap_or_else(|| "<test name>".to_owned());
        let package = std::env::var("CARGO_PKG_NAME")
            .map(|p| format!("-p {p} "))
            .unwrap_or_default();
        format!("{SEED_VAR}={seed} cargo test {package}{test} -- --exact")
    }
}

/// Runs `body` under `explorer`'s seeds and panics with the report of the
/// first failing run: the one-line form for a test.
///
/// ```
/// use weft_runtime::sim::{explore, Explorer};
///
/// let explored = explore(Explorer::new().runs(50), || async {
///     let h = weft_runtime::spawn(async { 2 });
///     assert_eq!(h.await.unwrap(), 2);
/// });
/// assert_eq!(explored.runs, 50);
/// ```
///
/// # Panics
///
/// At the first run that fails, with the seed and the replay command.
pub fn explore<F, Fut>(explorer: Explorer, body: F) -> Explored
where
    F: Fn() -> Fut,
    Fut: Future,
    Fut::Output: Outcome,
{
    explorer
        .run(body)
        .unwrap_or_else(|failure| panic!("{failure}"))
}

/// What a test body returns: `()` (failures are panics) or a `Result`
/// whose `Err` is a failure.
pub trait Outcome {
    /// `Err` with a description when the run failed.
    fn into_result(self) -> Result<(), String>;
}

impl Outcome for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<T, E: fmt::Debug> Outcome for Result<T, E> {
    fn into_result(self) -> Result<(), String> {
        self.map(drop).map_err(|e| format!("{e:?}"))
    }
}

/// An exploration in which every run passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Explored {
    /// Runs made.
    pub runs: u64,
    /// How many different schedules (digests) they took.
    pub distinct_schedules: usize,
}

/// How a run failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The body panicked.
    Panic,
    /// The body returned an error.
    Error,
    /// No task could make progress any more.
    Deadlock,
}

/// The first failing run of an exploration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    seed: u64,
    run: u64,
    policy: Policy,
    digest: ScheduleDigest,
    kind: FailureKind,
    message: String,
    replay: String,
}

impl Failure {
    /// The seed of the failing run.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The digest of its schedule: a replay gives the same.
    pub fn digest(&self) -> ScheduleDigest {
        self.digest
    }

    /// Panic, error or deadlock.
    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// The panic message, the error, or the deadlock report.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The command that runs this seed again.
    pub fn replay_command(&self) -> &str {
        &self.replay
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "weft explore: seed {} failed ({:?}, run {}, policy {:?}, schedule {})",
            self.seed, self.kind, self.run, self.policy, self.digest
        )?;
        writeln!(f, "{}", self.message)?;
        write!(f, "replay: {}", self.replay)
    }
}
