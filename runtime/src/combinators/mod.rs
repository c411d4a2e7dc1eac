//! Running many futures at once: asyncio's `gather`, `wait`, `as_completed`
//! and `TaskGroup`.
//!
//! | asyncio                                   | weft                          |
//! |-------------------------------------------|-------------------------------|
//! | `await asyncio.sleep(0)`                  | [`yield_now`]                 |
//! | `gather(*aws, return_exceptions=True)`    | [`join_all`]                  |
//! | `gather(*aws)`                            | [`try_join_all`]              |
//! | `wait(aws, return_when=FIRST_COMPLETED)`  | [`select`], [`select2`]       |
//! | `as_completed(aws)`                       | [`as_completed`]              |
//! | `async with TaskGroup() as tg:`           | [`TaskGroup`]                 |
//!
//! All of them except `yield_now` are thin layers over one engine, a set of
//! futures in which every future has a waker of its own. A wake-up records
//! which future it was for, so the next poll of the set polls only the
//! futures that were woken, never all n of them:
//!
//! ```text
//!   join_all / try_join_all / select / as_completed / TaskGroup::join
//!                               │
//!                          FutureSet ── child waker i ──▶ ready list [i, ...]
//!                               │                              │
//!                               └── polls only these ◀─────────┘
//! ```
//!
//! `join_all`, `try_join_all`, `select` and `as_completed` run their futures
//! inside the caller's task and need no runtime: they work under any
//! executor. [`TaskGroup`] spawns real weft tasks.
//!
//! **Cancellation is drop.** Dropping any of these futures before it finishes
//! drops every future it still holds; dropping a [`TaskGroup`] or its `join`
//! future aborts every task in the group. Nothing a combinator started
//! outlives it, except what it hands back to the caller (the losers of a
//! [`select`]).

mod as_completed;
mod future_set;
mod join_all;
mod outputs;
mod select;
mod task_group;
mod task_group_error;
mod try_join_all;
mod yield_now;

pub use as_completed::{as_completed, AsCompleted};
pub use join_all::{join_all, JoinAll};
pub use select::{select, select2, Either, Select, Select2};
pub use task_group::{TaskGroup, TaskGroupHandle};
pub use task_group_error::{GroupClosed, TaskFailure, TaskGroupError};
pub use try_join_all::{try_join_all, TryJoinAll};
pub use yield_now::{yield_now, YieldNow};
