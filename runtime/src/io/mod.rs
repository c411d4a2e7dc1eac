//! I/O beyond weft's own socket types: [`AsyncFd`] registers any file
//! descriptor that the OS can poll (a pipe, a socket made by a C library,
//! a terminal, an `eventfd`) with the runtime's reactor (Unix only).

#[cfg(unix)]
mod async_fd;
pub(crate) mod one_waiter;

#[cfg(unix)]
pub use async_fd::{AsyncFd, ReadyGuard};
