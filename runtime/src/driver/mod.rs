//! The driver layer: what turns the outside world into wake-ups.
//!
//! Two drivers, each owned by one runtime on one thread and knowing nothing
//! of tasks beyond their `Waker`s (and the cooperative budget from the
//! executor below):
//!
//! ```text
//!   reactor    the runtime's mio::Poll; readiness per registered object
//!   io_source  an object registered with a reactor; run an op when ready
//!   clock      real or paused time, and instants as 1 ms ticks
//!   wheel      the hierarchical timing wheel where every timer waits
//!   timer      the timer driver: a clock and a wheel, as the loop uses them
//! ```
//!
//! The event loop (the scheduler, one layer up) turns the reactor and fires
//! the timers; the I/O types and the time API, above it, register with the
//! drivers of the runtime that is current.

pub(crate) mod clock;
pub(crate) mod io_source;
pub(crate) mod reactor;
pub(crate) mod timer;
pub(crate) mod wheel;
