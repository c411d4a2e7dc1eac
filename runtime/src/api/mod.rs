//! The API layer: what users of the runtime call.
//!
//! ```text
//!   runtime        run, Builder, Runtime: build, enter, block_on, shut down
//!   handle         Handle: the current runtime, to spawn onto and inspect
//!   spawn          spawn, spawn_named, spawn_blocking
//!   spawner        Spawner: spawn onto a runtime from any thread
//!   join_handle    JoinHandle: await, abort, detach a task
//!   simulation     (feature `sim`) Builder::seed / policy / trace,
//!                  Runtime::schedule_digest / trace
//!   model_support  a task and a pool without the loop, for loom (cfg(loom))
//! ```
//!
//! Each file turns a request into calls on the scheduler and the executor
//! below it, and wraps what comes back (a task block, a blocking job's
//! share) into a typed handle.

pub(crate) mod handle;
pub(crate) mod join_handle;
#[cfg(loom)]
pub mod model_support;
pub(crate) mod runtime;
#[cfg(feature = "sim")]
mod simulation;
pub(crate) mod spawn;
pub(crate) mod spawner;
