//! The scheduler layer: the event loop, and which runtime is current.
//!
//! ```text
//!   core     Core: a runtime's tasks, run queue and drivers, and the loop
//!            that polls tasks, fires timers and waits for I/O
//!   context  the runtime running on this thread, for the layers above
//!   metrics  what the loop counts, as snapshots for users
//!   simulation  (feature `sim`) poll hooks, the schedule digest, and the
//!            deadlock report of a seeded runtime
//! ```
//!
//! This is where the executor (below: tasks and wakes) meets the drivers
//! (below: reactor and timers); neither of them knows the other.

pub(crate) mod context;
pub(crate) mod core;
pub(crate) mod metrics;
#[cfg(feature = "sim")]
pub(crate) mod simulation;
