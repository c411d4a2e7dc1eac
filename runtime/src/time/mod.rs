//! Time: sleeping, timeouts and intervals on the runtime's clock.
//!
//! | asyncio                          | weft                                  |
//! |----------------------------------|---------------------------------------|
//! | `await asyncio.sleep(s)`         | [`sleep`]`(d).await`, [`sleep_until`] |
//! | `await asyncio.wait_for(aw, s)`  | [`timeout`]`(d, fut).await`, [`timeout_at`] |
//! | `loop.time()`                    | [`now`]                               |
//! | a `while True: ...; sleep(p)` loop | [`interval`]`(p)`, [`Interval::tick`] |
//!
//! # The clock
//!
//! Instants are plain `std::time::Instant`s. Each runtime has a clock,
//! real or paused, and [`now`] reads it: use `time::now()` rather than
//! `Instant::now()` for deadlines, so that they follow a paused clock.
//!
//! A runtime built with `Builder::new().start_paused(true)` starts with its
//! clock standing still. Whenever every task is waiting and no I/O event or
//! blocking job is pending, the clock jumps straight to the earliest timer.
//! A test of a 30-second timeout then runs in microseconds and observes
//! exact instants, the same on every run. To let virtual time pass in such
//! a test, sleep: `sleep(d).await` returns after exactly `d` of it, with every
//! timer due in between fired in order.
//!
//! ```
//! use std::time::Duration;
//! use weft_runtime::time;
//!
//! let rt = weft_runtime::Builder::new().start_paused(true).build();
//! rt.block_on(async {
//!     let start = time::now();
//!     let answer = time::timeout(Duration::from_secs(30), std::future::pending::<u32>()).await;
//!     assert!(answer.is_err());
//!     assert_eq!(time::now() - start, Duration::from_secs(30));
//! });
//! ```
//!
//! # Guarantees
//!
//! * **Never early.** A timer completes only once `now() >= deadline`. On
//!   the real clock it completes within a millisecond or two after (timers
//!   have 1 ms resolution and the OS wait is rounded up to whole
//!   milliseconds too), later only if a task holds the thread.
//! * **Order.** Timers fire in deadline order; timers due in the same
//!   millisecond fire in the order they were first polled.
//! * **Cancellation is drop.** Dropping a [`Sleep`], a [`Timeout`] or an
//!   [`Interval`] removes its timer in O(1) and frees its memory at once.
//! * **Laziness.** Creating a timer future is free and needs no runtime; it
//!   joins the wheel at its first poll, which must happen inside a runtime.
//!   Polling it again only updates its waker.
//!
//! # Inside
//!
//! Every runtime owns one timer driver, in the driver layer below
//! (`driver/timer.rs`): its clock (`driver/clock.rs`) and a hierarchical
//! timing wheel (`driver/wheel/`, six levels of 64 slots at 1 ms resolution,
//! whose insert and cancel cost O(1) whatever the number of timers). The
//! event loop asks it for the next deadline before it sleeps and tells it
//! to fire due timers at each turn. This module is the API on top: `instant.rs`
//! reads the current runtime's clock, and the futures are `sleep.rs`,
//! `timeout.rs` and `interval.rs`, which register with the current
//! runtime's driver.

mod instant;
mod interval;
mod sleep;
mod timeout;

pub use instant::now;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
