//! weft's runtime: a small single-threaded async runtime on `mio`, written
//! to be read.
//!
//! One thread runs everything: an executor that polls tasks from a run
//! queue, a reactor (one `epoll` instance through `mio`) that turns OS
//! readiness into wake-ups, and a hierarchical timing wheel. Only wakers
//! and spawns from a [`Spawner`] cross threads, and they reach the runtime
//! through a remote queue and a `mio::Waker`. Nothing is process-wide:
//! start one runtime per thread to use every core.
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
//! **Embedding.** A [`Spawner`] (`Send + Sync + Clone`) spawns onto a
//! runtime from any thread; a host loop can drive the runtime with
//! [`Runtime::turn`] and wait on its poller's fd (`AsRawFd` on Unix);
//! [`io::AsyncFd`] registers any pollable descriptor. See the
//! `host_loop` and `thread_per_core` examples.
//!
//! ```
//! use std::time::Duration;
//!
//! let rt = weft_runtime::Runtime::new();
//! let spawner = rt.spawner(); // Send + Sync: move it to any thread
//! let handle = std::thread::spawn(move || spawner.spawn(async { 40 + 2 }).unwrap())
//!     .join()
//!     .unwrap();
//! while !handle.is_finished() {
//!     rt.turn(Some(Duration::from_millis(10))); // one turn of the loop
//! }
//! assert_eq!(rt.block_on(handle).unwrap(), 42);
//! ```
//!
//! **Cancellation is drop.** Aborting a task drops its future at its next
//! turn; dropping the runtime drops every task left. A task's panic is
//! caught and handed to its [`JoinHandle`]; it never takes the runtime down.
//!
//! # Layers
//!
//! The source is a stack of layers. Each file imports only from its own
//! layer or the ones below, and no two files import each other, directly
//! or around a circle; so each layer can be read, and tested, knowing only
//! what lies beneath it.
//!
//! ```text
//!  ┌───────────────────────────────────────────────────────────────────────────┐
//!  │ combinators/  join_all, select, as_completed, TaskGroup, yield_now        │  built on
//!  │ streams/      asyncio's streams: open_connection, start_server, ...       │  the API
//!  │ hyper/        hyper's Executor and Timer (feature `hyper`)                │
//!  ├───────────────────────────────────────────────────────────────────────────┤
//!  │ api/          run, Builder, Runtime, Handle, spawn, spawn_blocking,       │  what users
//!  │               JoinHandle, Spawner (from any thread), Runtime::turn        │  call
//!  ├───────────────────────────────────────────────────────────────────────────┤
//!  │ net/          TCP, UDP, Unix sockets           signal   ctrl_c, signals   │  I/O and
//!  │ io/           AsyncFd: any fd        time/    now, sleep, timeout, ...    │  time API
//!  ├───────────────────────────────────────────────────────────────────────────┤
//!  │ scheduler/    the event loop (Core), which runtime is current, metrics    │
//!  ├───────────────────────────────────────────────────────────────────────────┤
//!  │ driver/       reactor (mio) and I/O registration; timer driver: clock,    │  readiness
//!  │               timing wheel                                                │  and time
//!  ├───────────────────────────────────────────────────────────────────────────┤
//!  │ executor/     task ids and run queues, wake flags, the remote queue and   │  tasks and
//!  │               Shared, the wake path, the task block, JoinError and the    │  wakes
//!  │               outcome rendezvous, the blocking pool, the coop budget      │
//!  └───────────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! * The **executor** knows tasks and threads, and nothing of I/O or time.
//!   A waker on the runtime's thread pushes onto the local run queue, which
//!   it finds through a thread-local the scheduler sets; it never calls the
//!   scheduler.
//! * The **drivers** turn OS readiness and the clock into `Waker` calls;
//!   they know no task.
//! * The **scheduler** owns a runtime's run queue, tasks and drivers, and
//!   runs the loop that polls tasks, fires timers and waits for I/O. It also
//!   knows which runtime runs on this thread, which is how the layers above
//!   find their drivers.
//! * The **I/O and time API** register sockets and timers with the current
//!   runtime's drivers; the **API** spawns tasks and hands out handles.
//! * **combinators**, **streams** and **hyper** use only the layers below,
//!   as a user's library could (hyper's IO traits sit on the sockets, in
//!   `net/`, beside the futures-io ones).
//! * **sim** (cargo feature `sim`) sits beside them: its leaf modules (the
//!   seeded stream, the scheduling policies, the trace recorder) import
//!   nothing of the runtime, so the executor's simulation hooks can use
//!   them; the explorer and the simulated network sit on top of the API.

mod api;
pub mod combinators;
mod driver;
mod executor;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
pub mod net;
mod scheduler;
#[cfg(unix)]
pub mod signal;
#[cfg(feature = "sim")]
pub mod sim;
pub mod streams;
pub mod time;

pub use api::handle::Handle;
pub use api::join_handle::JoinHandle;
#[cfg(loom)]
#[doc(hidden)]
pub use api::model_support;
pub use api::runtime::{run, Builder, Runtime, Turn};
pub use api::spawn::{spawn, spawn_blocking, spawn_named};
pub use api::spawner::{SpawnError, Spawner};
pub use combinators::{
    as_completed, join_all, select, select2, try_join_all, yield_now, AsCompleted, Either,
    GroupClosed, JoinAll, Select, Select2, TaskFailure, TaskGroup, TaskGroupError, TaskGroupHandle,
    TryJoinAll, YieldNow,
};
pub use executor::join_error::JoinError;
pub use executor::panic_message::panic_message;
pub use executor::task_ref::TaskId;
#[doc(hidden)]
pub use executor::{remote, wake_flags};
pub use net::{TcpListener, TcpStream, UdpSocket};
pub use scheduler::metrics::{RuntimeMetrics, TaskSnapshot, TaskState};
pub use streams::{open_connection, start_server, Server, StreamReader, StreamWriter};
pub use time::{
    interval, sleep, sleep_until, timeout, timeout_at, Elapsed, Interval, MissedTickBehavior,
    Sleep, Timeout,
};
