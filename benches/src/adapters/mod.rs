//! The synchronisation primitives under test, behind one trait per kind.
//!
//! A workload names the trait (say [`AsyncMutex`]) and never a concrete
//! type, so the same code measures weft's primitive, tokio's and smol's, on
//! any [`BenchRuntime`](crate::runtimes::BenchRuntime). That is what makes
//! the 2×2 matrix possible: weft's primitives on tokio's runtime and
//! tokio's primitives on weft's runtime separate the cost of the executor
//! from the cost of the primitive.
//!
//! | trait              | weft                  | tokio                                   | smol                                |
//! |--------------------|-----------------------|-----------------------------------------|-------------------------------------|
//! | [`AsyncMutex`]     | `Mutex<u64>`          | `tokio::sync::Mutex<u64>`               | `async_lock::Mutex<u64>`            |
//! | [`AsyncSemaphore`] | `Semaphore`           | `tokio::sync::Semaphore`                | `async_lock::Semaphore`             |
//! | [`BoundedQueue`]   | `Queue<u64>`          | `mpsc::channel` (spsc), [`LockedMpsc`] (mpmc) | `async_channel::bounded`      |
//! | [`AsyncEvent`]     | `Event`               | [`NotifyEvent`]: flag + `Notify::notify_waiters` | [`ListenerEvent`]: flag + `event_listener::Event` |
//! | [`AsyncCondition`] | `Condition<u64>`      | [`NotifyCondition`]: `Mutex` + `Notify` | [`ListenerCondition`]: `async_lock::Mutex` + `event_listener::Event` |
//!
//! Where a library has no such primitive (tokio and smol have no event and
//! no condition variable), the adapter builds it the way users of that
//! library do, from its notification primitive, and says so in its docs.

mod condition;
mod event;
mod mutex;
mod queue;
mod semaphore;

pub use condition::{AsyncCondition, ListenerCondition, NotifyCondition};
pub use event::{AsyncEvent, ListenerEvent, NotifyEvent};
pub use mutex::AsyncMutex;
pub use queue::{AsyncChannel, BoundedQueue, LockedMpsc, Mpsc, WeftQueue};
pub use semaphore::AsyncSemaphore;
