//! The executor layer: tasks, their wake paths and their outcomes.
//!
//! Everything here knows tasks and threads, and nothing about I/O, timers or
//! the event loop that drives it (the scheduler, one layer up, holds these
//! pieces and runs them). The files, each importing only from the ones
//! listed before it:
//!
//! ```text
//!   facade         atomics, mutexes, cells, threads: std's, or loom's models
//!   panic_message  the text of a caught panic
//!   task_ref       TaskId; TaskRef, what run queues hold
//!   wake_flags     a task's "queued?" and "aborted?" flags      (loom-checked)
//!   remote         the queue other threads push wakes onto      (loom-checked)
//!   shared         Shared: the part of a runtime other threads touch
//!   ring           a FIFO ring buffer with a power-of-two capacity
//!   sim_hooks      (feature `sim`) seeded choice of the next task, schedule
//!                  digest, trace recording; uses `sim`'s leaf modules
//!                  (rng, policy, trace), which import nothing of the runtime
//!   run_queue      the local run queue, and the thread-local that finds it
//!   wake           wake(): local push or remote push; block_on's own waker
//!   coop           the cooperative budget of one poll
//!   join_error     JoinError: cancelled, or panicked with a payload
//!   rendezvous     where a task hands its outcome over to its JoinHandle
//!   task_block     one allocation per task: header, future, then outcome
//!   stored_waker   a waker in one word: a task's pointer, or a boxed waker
//!   blocking_pool  spawn_blocking's threads, and the outcome of a job
//! ```

pub(crate) mod blocking_pool;
pub(crate) mod coop;
pub(crate) mod facade;
pub(crate) mod join_error;
pub(crate) mod panic_message;
pub(crate) mod prefetch;
pub mod remote;
pub(crate) mod rendezvous;
pub(crate) mod ring;
pub(crate) mod run_queue;
pub(crate) mod shared;
#[cfg(feature = "sim")]
pub(crate) mod sim_hooks;
pub(crate) mod stored_waker;
pub(crate) mod task_block;
pub(crate) mod task_ref;
pub(crate) mod wake;
pub mod wake_flags;
