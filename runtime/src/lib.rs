//! weft's runtime: a small single-threaded async runtime on `mio`, written
//! to be read.
//!
//! One thread runs everything: an executor that polls tasks from a run
//! queue, a reactor (one `epoll` instance through `mio`) that turns OS
//! readiness into wake-ups, and a hierarchical timing wheel. Only wakers
//! cross threads, and they reach the runtime through a remote queue and a
//! `mio::Waker`. Nothing is process-wide: start one runtime per thread to
//! use every core.
//!
//! ```text
//!   ┌──────────────── one thread ────────────────┐
//!   │ executor: slab of tasks + local run queue  │◀── wake on this thread: push, no lock
//!   │ reactor:  mio::Poll (epoll)                │◀── wake from another thread:
//!   │ timers:   hierarchical wheel, paused clock │    remote queue + mio::Waker
//!   └────────────────────────────────────────────┘
//! ```
//!
//! | asyncio                    | weft                                   |
//! |----------------------------|----------------------------------------|
//! | `asyncio.run(main())`      | [`run`]`(main())`                      |
//! | `create_task(coro, name=)` | [`spawn`], [`spawn_named`]             |
//! | `task.cancel()`            | [`JoinHandle::abort`]                  |
//! | `asyncio.sleep(s)`         | [`sleep`]                              |
//! | `wait_for(aw, timeout)`    | [`timeout`]                            |
//! | `to_thread(f)`             | [`spawn_blocking`]                     |
//!
//! ```
//! use std::time::Duration;
//!
//! let answer = weft_runtime::run(async {
//!     let h = weft_runtime::spawn(async { 40 + 2 });
//!     weft_runtime::sleep(Duration::from_millis(5)).await;
//!     h.await.unwrap()
//! });
//! assert_eq!(answer, 42);
//! ```
//!
//! **Cancellation is drop.** Aborting a task drops its future at its next
//! turn; dropping the runtime drops every task left. A task's panic is
//! caught and handed to its [`JoinHandle`]; it never takes the runtime down.

mod blocking;
pub mod combinators;
mod context;
mod coop;
mod core;
mod join;
mod metrics;
pub mod net;
mod panic_message;
mod raw;
mod reactor;
#[doc(hidden)]
pub mod remote;
mod runtime;
pub mod signal;
#[cfg(feature = "sim")]
pub mod sim;
pub mod streams;
mod task;
pub mod time;
#[doc(hidden)]
pub mod wake_flags;

pub use combinators::{
    as_completed, join_all, select, select2, try_join_all, yield_now, AsCompleted, Either,
    GroupClosed, JoinAll, Select, Select2, TaskFailure, TaskGroup, TaskGroupError, TaskGroupHandle,
    TryJoinAll, YieldNow,
};
pub use join::{JoinError, JoinHandle};
pub use metrics::{RuntimeMetrics, TaskSnapshot, TaskState};
pub use net::{TcpListener, TcpStream};
pub use panic_message::panic_message;
pub use runtime::{run, spawn, spawn_blocking, spawn_named, Builder, Handle, Runtime};
pub use streams::{open_connection, start_server, Server, StreamReader, StreamWriter};
pub use task::TaskId;
pub use time::{
    interval, sleep, sleep_until, timeout, timeout_at, Elapsed, Interval, MissedTickBehavior,
    Sleep, Timeout,
};
