//! [`Lines`]: asyncio's `async for line in reader`, as
//! `while let Some(line) = lines.next().await`, with no extra crate.
//!
//! Each item is what [`readline`](super::StreamReader::readline) returns:
//! the line's bytes *including* its `\n`, as asyncio yields them, and the
//! last line without one if the stream does not end with a newline. Bytes,
//! not `String`: a line protocol need not be UTF-8, and the newline tells a
//! complete line from a truncated last one. For text, use
//! `String::from_utf8(line)` and `trim_end()`.
//!
//! The iteration ends at end of stream, and also right after yielding an
//! error: a line over the limit stays in the reader (see
//! [`ReadError::LimitOverrun`]), so asking again would only fail again.
//!
//! `next` is cancel-safe: a dropped `next()` leaves the bytes it gathered in
//! the reader, and the search resumes where it stopped. With the cargo
//! feature `stream`, `Lines` is also a `futures_core::Stream`.
//!
//! [`StreamReader::lines`] is defined here, next to the type it returns, so
//! that the reader does not depend on its line iterator.

use std::future::poll_fn;
use std::task::{ready, Context, Poll};

use super::error::ReadError;
use super::reader::StreamReader;

/// The lines of a [`StreamReader`], from
/// [`StreamReader::lines`]; each line keeps its trailing `\n`.
///
/// ```
/// use weft_runtime::streams::{open_connection, start_server, StreamReader, StreamWriter};
///
/// weft_runtime::run(async {
///     let server = start_server(
///         |_r: StreamReader, mut w: StreamWriter| async move { w.write(b"a\nb\n").unwrap() },
///         "127.0.0.1:0",
///     )
///     .await
///     .unwrap();
///     let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
///     let mut lines = reader.lines();
///     assert_eq!(lines.next().await.unwrap().unwrap(), b"a\n");
///     assert_eq!(lines.next().await.unwrap().unwrap(), b"b\n");
///     assert!(lines.next().await.is_none());
/// });
/// ```
#[derive(Debug)]
pub struct Lines<'a> {
    reader: &'a mut StreamReader,
    /// How far the current line's search got (see `poll_readuntil`).
    searched: usize,
    done: bool,
}

impl StreamReader {
    /// The lines of the stream, one by one, until end of stream: asyncio's
    /// `async for line in reader`. See [`Lines`].
    ///
    /// ```
    /// use weft_runtime::streams::{open_connection, start_server, StreamReader, StreamWriter};
    ///
    /// weft_runtime::run(async {
    ///     let server = start_server(
    ///         |_r: StreamReader, mut w: StreamWriter| async move { w.write(b"one\ntwo\nthree").unwrap() },
    ///         "127.0.0.1:0",
    ///     )
    ///     .await
    ///     .unwrap();
    ///     let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
    ///     let mut lines = reader.lines();
    ///     let mut got = Vec::new();
    ///     while let Some(line) = lines.next().await {
    ///         got.push(line.unwrap());
    ///     }
    ///     assert_eq!(got, [&b"one\n"[..], b"two\n", b"three"]);
    /// });
    /// ```
    pub fn lines(&mut self) -> Lines<'_> {
        Lines {
            reader: self,
            searched: 0,
            done: false,
        }
    }
}

impl Lines<'_> {
    /// The next line, or `None` at end of stream (and after an error).
    pub async fn next(&mut self) -> Option<Result<Vec<u8>, ReadError>> {
        poll_fn(|cx| self.poll_next_line(cx)).await
    }

    fn poll_next_line(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Vec<u8>, ReadError>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let line = ready!(self.reader.poll_readline(cx, &mut self.searched));
        self.searched = 0;
        Poll::Ready(match line {
            Ok(line) if line.is_empty() => {
                self.done = true;
                None
            }
            Ok(line) => Some(Ok(line)),
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        })
    }
}

#[cfg(feature = "stream")]
impl futures_core::Stream for Lines<'_> {
    type Item = Result<Vec<u8>, ReadError>;

    fn poll_next(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_line(cx)
    }
}

#[cfg(all(test, feature = "stream"))]
mod tests {
    use futures::StreamExt;

    use crate::streams::{open_connection, start_server, StreamReader, StreamWriter};

    #[test]
    fn lines_are_a_futures_stream() {
        crate::run(async {
            let server = start_server(
                |_r: StreamReader, mut w: StreamWriter| async move { w.write(b"x\ny\nz").unwrap() },
                "127.0.0.1:0",
            )
            .await
            .unwrap();
            let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
            let lines: Vec<Vec<u8>> = reader.lines().map(Result::unwrap).collect().await;
            assert_eq!(lines, [&b"x\n"[..], b"y\n", b"z"]);
        });
    }
}
