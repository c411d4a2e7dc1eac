//! Deterministic simulation (cargo feature `sim`): seeded schedules and
//! their exploration, a seeded random stream, a simulated network with
//! seeded faults, and a picture of the schedule.
//!
//! * [`SimRng`] (`rng.rs`): SplitMix64, the stream every simulated
//!   decision draws from. The same seed gives the same numbers on every
//!   machine and every version (a test pins them).
//! * [`Policy`] (`policy.rs`): how a runtime built with
//!   `Builder::seed` picks the next task: uniformly at random, or PCT.
//!   [`ScheduleDigest`] is what `Runtime::schedule_digest` reports: a hash
//!   of the tasks polled, in order, and whether the run stayed simulated.
//! * [`Explorer`] and [`explore`] (`explore.rs`): a test body under many
//!   seeds, stopping at the first panic, error or deadlock with the seed
//!   and a replay command (`WEFT_SEED=<seed> cargo test ...`).
//! * [`net`]: hosts with their own IP addresses, in-memory TCP and UDP
//!   sockets with the methods of weft's real ones, and faults (latency,
//!   jitter, loss, reordering, resets, partitions) drawn from a seed.
//! * [`trace`]: the events of a run (spawns, polls, wake-ups, timers, I/O,
//!   parks) and two writers: Chrome trace-event JSON for Perfetto, and a
//!   self-contained SVG timeline.
//!
//! # What is deterministic, and when
//!
//! A simulated run repeats exactly when everything that decides it comes
//! from the program and the seed:
//!
//! * the runtime runs on the **paused clock** (`Builder::start_paused`),
//!   so time moves only from timer to timer, never with the wall clock;
//! * there is **no real I/O**: no OS sockets, files, `spawn_blocking` or
//!   signals, whose timing the OS decides;
//! * the tasks are polled in the same order, which the runtime's FIFO
//!   scheduler, and a seeded one given the same seed, guarantee under the
//!   two conditions above;
//! * the program itself draws no randomness of its own (use a
//!   [`SimRng`] seeded from the same seed) and iterates no `HashMap` in
//!   a way that changes what it sends.
//!
//! Then every fault decision, arrival time and log entry of [`net`] is the
//! same on every run and every machine. Break a condition and the
//! simulation still runs, with the same semantics, but two runs may
//! differ.

mod explore;
pub mod net;
pub(crate) mod policy;
mod rng;
pub mod trace;

pub use crate::scheduler::simulation::ScheduleDigest;
pub use explore::{
    explore, seed_from_env, Explored, Explorer, Failure, FailureKind, Outcome, SEED_VAR,
};
pub use policy::Policy;
pub use rng::SimRng;
