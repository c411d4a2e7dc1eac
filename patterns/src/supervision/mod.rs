//! Small tools the patterns use to supervise work they did not write.
//!
//! * [`catch_panic`]: runs a caller's future in place and turns a panic into
//!   a value, so that one failing job never takes its worker down.
//! * [`AbortOnDrop`]: a `JoinHandle` that cancels its task when dropped, so
//!   that a pattern's tasks never outlive the value that owns them.

mod abort_on_drop;
mod catch_panic;

pub(crate) use abort_on_drop::AbortOnDrop;
pub(crate) use catch_panic::catch_panic;
