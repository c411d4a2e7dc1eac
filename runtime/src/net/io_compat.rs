//! `futures-io`'s [`AsyncRead`] and [`AsyncWrite`] for weft's byte streams,
//! TCP and Unix, and their halves (cargo feature `io-compat`), so that code written against those traits
//! (codecs, `futures::io::copy`, TLS wrappers) runs on weft's sockets.
//!
//! The traits' poll methods map one to one onto the sockets' own: weft's
//! sockets keep no write buffer, so `poll_flush` has nothing to do, and
//! `poll_close` shuts the writing side down (the peer reads end of stream).
//!
//! ```
//! use futures::{AsyncReadExt, AsyncWriteExt};
//! use weft_runtime::net::{TcpListener, TcpStream};
//!
//! weft_runtime::run(async {
//!     let mut listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
//!     let (mut server, _) = listener.accept().await.unwrap();
//!     AsyncWriteExt::write_all(&mut client, b"through futures-io").await.unwrap();
//!     client.close().await.unwrap();
//!     let mut got = String::new();
//!     server.read_to_string(&mut got).await.unwrap();
//!     assert_eq!(got, "through futures-io");
//! });
//! ```

use std::io;
use std::net::Shutdown;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::ops::{self, ByteStream};
use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use super::stream::TcpStream;
#[cfg(unix)]
use super::unix::UnixStream;

/// `AsyncRead` for a type whose `io` field derefs to the registered socket;
/// each type comes with its generic parameters in brackets.
macro_rules! impl_async_read {
    ($([$($generics:tt)*] $ty:ty),*) => {$(
        impl<$($generics)*> AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                ops::poll_read(&self.io, cx, buf)
            }
        }
    )*};
}

/// `AsyncWrite` for a type whose `io` field derefs to the registered
/// socket; each type comes with its generic parameters in brackets.
macro_rules! impl_async_write {
    ($([$($generics:tt)*] $ty:ty),*) => {$(
        impl<$($generics)*> AsyncWrite for $ty {
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

            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(ByteStream::shutdown(self.io.get_ref(), Shutdown::Write))
            }
        }
    )*};
}

impl_async_read!(
    [] TcpStream,
    [S: ByteStream] OwnedReadHalf<S>,
    ['a, S: ByteStream] ReadHalf<'a, S>
);
impl_async_write!(
    [] TcpStream,
    [S: ByteStream] OwnedWriteHalf<S>,
    ['a, S: ByteStream] WriteHalf<'a, S>
);
#[cfg(unix)]
impl_async_read!([] UnixStream);
#[cfg(unix)]
impl_async_write!([] UnixStream);

#[cfg(test)]
mod tests {
    use futures::{AsyncReadExt, AsyncWriteExt};

    use crate::net::{TcpListener, TcpStream};

    /// Owned halves work through the traits, with a reader and a writer
    /// task at once.
    #[test]
    fn owned_halves_through_the_traits() {
        crate::run(async {
            let mut listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (server, _) = listener.accept().await.unwrap();
            let (mut from_server, mut to_server) = client.into_split();
            let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
            let expected = payload.clone();
            let sender = crate::spawn(async move {
                AsyncWriteExt::write_all(&mut to_server, &payload)
                    .await
                    .unwrap();
                to_server.close().await.unwrap();
            });
            // The server echoes through futures' copy, over borrowed halves.
            let echo = crate::spawn(async move {
                let mut server = server;
                // Spelled out: `AsyncReadExt::split` would win method lookup.
                let (mut r, mut w) = TcpStream::split(&mut server);
                futures::io::copy(&mut r, &mut w).await.unwrap();
                w.close().await.unwrap();
            });
            let mut got = Vec::new();
            from_server.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, expected);
            sender.await.unwrap();
            echo.await.unwrap();
        });
    }

    /// A Unix stream and its owned halves work through the same traits.
    #[cfg(unix)]
    #[test]
    fn unix_streams_through_the_traits() {
        use crate::net::unix::UnixStream;

        crate::run(async {
            let (a, mut b) = UnixStream::pair().unwrap();
            let (mut from_b, mut to_b) = a.into_split();
            AsyncWriteExt::write_all(&mut b, b"unix via futures-io")
                .await
                .unwrap();
            b.close().await.unwrap();
            let mut got = String::new();
            from_b.read_to_string(&mut got).await.unwrap();
            assert_eq!(got, "unix via futures-io");
            AsyncWriteExt::write_all(&mut to_b, b"back").await.unwrap();
            to_b.close().await.unwrap();
            let mut back = Vec::new();
            AsyncReadExt::read_to_end(&mut b, &mut back).await.unwrap();
            assert_eq!(back, b"back");
        });
    }
}
