//! hyper 1.x's [`Read`] and [`Write`] for weft's byte streams, TCP and Unix
//! (cargo feature `hyper`), so that a stream goes straight into hyper's
//! `serve_connection` or `handshake` with no wrapper type.
//!
//! The poll methods are the sockets' own (`ops.rs`), as for the futures-io
//! traits: weft keeps no write buffer, so `poll_flush` has nothing to do,
//! and `poll_shutdown` shuts the writing side down. hyper hands reads a
//! buffer that may be uninitialised; it is zeroed before the socket reads
//! into it (a `&mut [u8]` must not point at uninitialised bytes), a memset
//! that costs far less than the `recv` that follows.
//!
//! ```
//! use weft_runtime::net::{TcpListener, TcpStream};
//!
//! fn speaks_hyper<T: hyper::rt::Read + hyper::rt::Write + Unpin>(_: &T) {}
//!
//! weft_runtime::run(async {
//!     let mut listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
//!     speaks_hyper(&client);
//!     let (server, _) = listener.accept().await.unwrap();
//!     speaks_hyper(&server);
//! });
//! ```

use std::io;
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use hyper::rt::{Read, ReadBufCursor, Write};

use super::ops::{self, ByteStream};
use super::stream::TcpStream;
#[cfg(unix)]
use super::unix::UnixStream;
use crate::driver::io_source::IoSource;

/// Reads from `io` into the unfilled part of hyper's buffer.
fn poll_read_into<S: ByteStream>(
    io: &IoSource<S>,
    cx: &mut Context<'_>,
    mut cursor: ReadBufCursor<'_>,
) -> Poll<io::Result<()>> {
    // SAFETY: only initialised bytes (zeros) are written to the slice, so
    // no byte that was initialised becomes uninitialised.
    let unfilled = unsafe { cursor.as_mut() };
    unfilled.fill(MaybeUninit::new(0));
    // SAFETY: every byte of `unfilled` was just initialised, and
    // `MaybeUninit<u8>` has the layout of `u8`.
    let unfilled = unsafe { &mut *(unfilled as *mut [MaybeUninit<u8>] as *mut [u8]) };
    let read = ready!(ops::poll_read(io, cx, unfilled));
    // SAFETY: the socket filled `read` bytes of `unfilled`, all of which
    // were initialised above.
    Poll::Ready(read.map(|read| unsafe { cursor.advance(read) }))
}

/// hyper's `Read` and `Write` for a stream whose `io` field derefs to the
/// registered socket.
macro_rules! impl_hyper_io {
    ($($ty:ty),*) => {$(
        impl Read for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: ReadBufCursor<'_>,
            ) -> Poll<io::Result<()>> {
                poll_read_into(&self.io, cx, buf)
            }
        }

        impl Write for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                ops::poll_write(&self.io, cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                // Nothing is buffered here: every write went to the kernel.
                Poll::Ready(Ok(()))
            }

            fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(ByteStream::shutdown(self.io.get_ref(), Shutdown::Write))
            }
        }
    )*};
}

impl_hyper_io!(TcpStream);
#[cfg(unix)]
impl_hyper_io!(UnixStream);
