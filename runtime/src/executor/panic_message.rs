//! The text of a caught panic, shared by every place that reports one
//! (`JoinError`, `TaskGroup`'s failures, weft-patterns' job supervision).

use std::any::Any;

/// The message of a panic payload: `panic!` with a literal makes a
/// `&'static str`, with format arguments a `String`. Any other payload (from
/// `std::panic::panic_any`) has no message, and this returns `None`.
///
/// ```
/// let payload = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
/// assert_eq!(weft_runtime::panic_message(&*payload), Some("boom 1"));
///
/// let payload = std::panic::catch_unwind(|| std::panic::panic_any(7_u8)).unwrap_err();
/// assert_eq!(weft_runtime::panic_message(&*payload), None);
/// ```
pub fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}
