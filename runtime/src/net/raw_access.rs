//! Raw access to weft's sockets: the OS handle behind each one (`AsRawFd`
//! and `AsFd` on Unix, `AsRawSocket` and `AsSocket` on Windows), and the
//! way back to a standard-library socket (`into_std`).
//!
//! Borrowing the handle lets a caller set an option weft has no method for
//! (through `socket2::SockRef`, say) or pass the socket to a C library; the
//! socket stays registered with the runtime. A caller must not switch it to
//! blocking mode or close it behind weft's back.
//!
//! `into_std` leaves the runtime: it duplicates the handle, then drops the
//! weft socket, which removes it from the reactor and closes the original
//! handle. The duplicate refers to the same socket (the same connection,
//! the same queued bytes), now registered nowhere. It is still in
//! non-blocking mode, which the two handles share; call
//! `set_nonblocking(false)` for blocking use.

use std::io;

use mio::event::Source;

use crate::driver::io_source::IoSource;

/// Implements the raw-handle traits of the platform for socket types whose
/// `io` field is an [`IoSource`] of a mio socket.
macro_rules! impl_raw_access {
    ($($ty:ty),*) => {$(
        #[cfg(unix)]
        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                std::os::fd::AsRawFd::as_raw_fd(self.io.get_ref())
            }
        }

        #[cfg(unix)]
        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                std::os::fd::AsFd::as_fd(self.io.get_ref())
            }
        }

        #[cfg(windows)]
        impl std::os::windows::io::AsRawSocket for $ty {
            fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
                std::os::windows::io::AsRawSocket::as_raw_socket(self.io.get_ref())
            }
        }

        #[cfg(windows)]
        impl std::os::windows::io::AsSocket for $ty {
            fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
                std::os::windows::io::AsSocket::as_socket(self.io.get_ref())
            }
        }
    )*};
}
pub(crate) use impl_raw_access;

/// Takes the socket out of the runtime as a standard-library socket `T`;
/// see the module docs.
pub(crate) fn into_std<S, T>(io: IoSource<S>) -> io::Result<T>
where
    S: Source,
    for<'a> socket2::SockRef<'a>: From<&'a S>,
    T: From<socket2::Socket>,
{
    let handle = socket2::SockRef::from(io.get_ref()).try_clone()?;
    drop(io); // deregisters, then closes the original handle
    Ok(T::from(handle))
}
