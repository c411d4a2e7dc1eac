//! [`StreamReader`]: asyncio's `StreamReader` over the read half of a TCP
//! or Unix stream connection.
//!
//! The reader owns a buffer. Every method first looks at what is buffered
//! and reads from the socket only when that is not enough (at most 64 KiB
//! per read). The buffer holds memory only while bytes are in it: a reader
//! waiting on a quiet socket holds none (`buffer.rs` says when memory is
//! taken and given back):
//!
//! ```text
//!   readuntil(b"\r\n")
//!     buffer: [GET / HTTP/1.1\r\nHost: a\r\n ...]      search from where the last search stopped
//!              └────── found ─────┘                    ──▶ return it, the rest stays buffered
//!     not found, buffer ≤ limit ──▶ read more from the socket, search again
//!     not found, buffer > limit ──▶ LimitOverrun (nothing consumed)
//!     end of stream             ──▶ Incomplete (the partial bytes come back)
//! ```
//!
//! Unlike asyncio's reader, which the transport feeds in the background,
//! this one pulls: bytes leave the kernel only when a method asks for them.
//! The buffer therefore never holds much more than what the caller asked
//! for, or the limit plus one socket read for the separator searches, and a
//! reader nobody reads leaves the data in the kernel, where TCP flow control
//! slows the sender down.
//!
//! **Cancellation.** Every method is cancel-safe: bytes move out of the
//! buffer only in the poll that returns them, so a dropped `readline`,
//! `readuntil` or `readexactly` leaves everything it had gathered in the
//! buffer for the next call.
//!
//! **Errors are kept.** The first error the socket reports (a reset, say)
//! is kept, as asyncio keeps a reader's exception: that call and every later
//! read method fail with it, so retrying code never mistakes a cut-off
//! stream for a complete one. Bytes that were buffered before the error stay
//! visible in [`buffer`](StreamReader::buffer).
//!
//! **`readline` and the limit.** asyncio's `readline` drops an over-long
//! line and raises `ValueError`; here it returns
//! [`ReadError::LimitOverrun`] and keeps the bytes, like `readuntil`, so
//! nothing is lost: take them with [`read`](StreamReader::read)`(e.consumed())`
//! and carry on, or close the connection.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{ready, Context, Poll};

use super::buffer::ByteBuf;
use super::error::{copy_error, IncompleteReadError, LimitOverrunError, ReadError};
use super::transport::ReadSide;
use crate::net::OwnedReadHalf;

/// The default limit for separator searches: 64 KiB, as in asyncio.
pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// The most bytes one socket read into the buffer asks for: enough that a
/// busy connection needs few reads. The buffer holds only what arrived
/// (see `buffer.rs`), so an idle connection holds none of it.
const FILL_MAX: usize = 64 * 1024;

/// The reading side of a stream connection (asyncio's `StreamReader`),
/// from [`open_connection`](super::open_connection) or a
/// [`start_server`](super::start_server) handler.
///
/// The reader keeps a buffer and reads from the socket only when a method
/// needs more bytes than are buffered; separator searches
/// ([`readuntil`](StreamReader::readuntil), [`readline`](StreamReader::readline))
/// look at most [`limit`](StreamReader::limit) bytes ahead. Every method is
/// cancel-safe: dropping its future loses no byte, because bytes leave the
/// buffer only in the poll that returns them.
///
/// ```
/// use weft_runtime::streams::{open_connection, start_server, StreamReader, StreamWriter};
///
/// weft_runtime::run(async {
///     let server = start_server(
///         |_reader: StreamReader, mut writer: StreamWriter| async move {
///             writer.write(b"HELO one\r\nrest").unwrap();
///         },
///         "127.0.0.1:0",
///     )
///     .await
///     .unwrap();
///     let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
///     assert_eq!(reader.readuntil(b"\r\n").await.unwrap(), b"HELO one\r\n");
///     assert_eq!(reader.readexactly(2).await.unwrap(), b"re");
///     assert_eq!(reader.read(100).await.unwrap(), b"st");
///     assert_eq!(reader.read(100).await.unwrap(), b""); // end of stream
///     assert!(reader.at_eof());
/// });
/// ```
#[derive(Debug)]
pub struct StreamReader {
    half: ReadSide,
    buf: ByteBuf,
    eof: bool,
    /// The first error the socket reported; every later read returns it.
    error: Option<io::Error>,
    limit: usize,
}

impl StreamReader {
    /// A reader over the read half of a TCP stream, with the default limit
    /// ([`DEFAULT_LIMIT`]).
    pub fn new(half: OwnedReadHalf) -> Self {
        Self::on(ReadSide::Tcp(half))
    }

    /// A reader over the read half of a Unix stream, with the default
    /// limit ([`DEFAULT_LIMIT`]).
    #[cfg(unix)]
    pub fn from_unix(half: crate::net::unix::OwnedReadHalf) -> Self {
        Self::on(ReadSide::Unix(half))
    }

    pub(super) fn on(half: ReadSide) -> Self {
        Self {
            half,
            buf: ByteBuf::new(),
            eof: false,
            error: None,
            limit: DEFAULT_LIMIT,
        }
    }

    /// The most bytes `readuntil` and `readline` look through for their
    /// separator.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Sets the limit of separator searches (asyncio's `limit=`). A limit
    /// of 0 is refused, with an `InvalidInput` error, as in asyncio.
    pub fn set_limit(&mut self, limit: usize) -> io::Result<()> {
        if limit == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "StreamReader::set_limit(0): the limit must be at least 1 byte",
            ));
        }
        self.limit = limit;
        Ok(())
    }

    /// The bytes read from the socket and not yet returned by any method.
    pub fn buffer(&self) -> &[u8] {
        self.buf.as_slice()
    }

    /// Whether the peer closed its side and every byte has been read.
    ///
    /// The reader pulls: it learns of the end of stream only when a read
    /// finds it, so `at_eof` stays false after the peer closed until a read
    /// method has reached the end (asyncio's reader, fed in the background,
    /// may know earlier). After a read error it stays false: the stream did
    /// not end, it failed.
    pub fn at_eof(&self) -> bool {
        self.eof && self.buf.is_empty()
    }

    /// Reads up to `n` bytes: what is buffered if anything is, otherwise
    /// what one socket read brings (waiting for it). Empty at end of stream,
    /// or when `n` is 0.
    pub async fn read(&mut self, n: usize) -> io::Result<Vec<u8>> {
        self.check_error()?;
        if n == 0 {
            return Ok(Vec::new());
        }
        // Through the buffer, not into a Vec of `n` bytes made up front: a
        // read that waits on a quiet socket then holds no memory.
        if self.buf.is_empty() && !self.eof {
            poll_fn(|cx| self.poll_fill(cx)).await?;
        }
        Ok(self.buf.take(n.min(self.buf.len())))
    }

    /// Reads up to `buf.len()` bytes into `buf` and returns how many: the
    /// buffered bytes first, otherwise one socket read straight into `buf`
    /// (no copy through the buffer). `Ok(0)` at end of stream or for an
    /// empty `buf`. This is `read` without the allocation, for bulk
    /// transfers.
    pub async fn read_into(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.check_error()?;
        if buf.is_empty() {
            return Ok(0);
        }
        if !self.buf.is_empty() {
            let n = buf.len().min(self.buf.len());
            buf[..n].copy_from_slice(&self.buf.as_slice()[..n]);
            self.buf.consume(n);
            return Ok(n);
        }
        if self.eof {
            return Ok(0);
        }
        let n = self.half.read(buf).await;
        let n = self.keep_error(n)?;
        self.eof = n == 0;
        Ok(n)
    }

    /// Reads until the peer closes its side and returns everything (asyncio's
    /// `read(-1)`). The whole stream is held in memory.
    pub async fn read_to_end(&mut self) -> io::Result<Vec<u8>> {
        self.check_error()?;
        while !self.eof {
            poll_fn(|cx| self.poll_fill(cx)).await?;
        }
        Ok(self.buf.take_all())
    }

    /// Reads exactly `n` bytes. If the stream ends first, the error is
    /// [`ReadError::Incomplete`] and carries the bytes that arrived (they
    /// are taken out of the reader).
    ///
    /// ```
    /// use weft_runtime::streams::{open_connection, start_server, StreamReader, StreamWriter};
    ///
    /// weft_runtime::run(async {
    ///     let server = start_server(
    ///         |_r: StreamReader, mut w: StreamWriter| async move { w.write(b"\x00\x03abc").unwrap() },
    ///         "127.0.0.1:0",
    ///     )
    ///     .await
    ///     .unwrap();
    ///     let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
    ///     // A length-prefixed frame.
    ///     let len = reader.readexactly(2).await.unwrap();
    ///     let len = u16::from_be_bytes([len[0], len[1]]) as usize;
    ///     assert_eq!(reader.readexactly(len).await.unwrap(), b"abc");
    ///     let err = reader.readexactly(1).await.unwrap_err();
    ///     assert_eq!(err.partial(), Some(&b""[..]));
    /// });
    /// ```
    pub async fn readexactly(&mut self, n: usize) -> Result<Vec<u8>, ReadError> {
        self.check_error()?;
        while self.buf.len() < n {
            if self.eof {
                let partial = self.buf.take_all();
                return Err(ReadError::Incomplete(IncompleteReadError::new(
                    partial,
                    Some(n),
                )));
            }
            poll_fn(|cx| self.poll_fill(cx)).await?;
        }
        Ok(self.buf.take(n))
    }

    /// Reads up to and including `separator`.
    ///
    /// * The stream ends first: [`ReadError::Incomplete`] with every byte
    ///   that was left (taken out of the reader).
    /// * The separator does not start within [`limit`](StreamReader::limit)
    ///   bytes: [`ReadError::LimitOverrun`], and nothing is consumed.
    /// * An empty separator is refused with an `InvalidInput` error.
    ///
    /// ```
    /// use weft_runtime::streams::{open_connection, start_server, StreamReader, StreamWriter};
    ///
    /// weft_runtime::run(async {
    ///     let server = start_server(
    ///         |_r: StreamReader, mut w: StreamWriter| async move { w.write(b"key: value\r\n\r\n").unwrap() },
    ///         "127.0.0.1:0",
    ///     )
    ///     .await
    ///     .unwrap();
    ///     let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
    ///     let headers = reader.readuntil(b"\r\n\r\n").await.unwrap();
    ///     assert_eq!(headers, b"key: value\r\n\r\n");
    /// });
    /// ```
    pub async fn readuntil(&mut self, separator: &[u8]) -> Result<Vec<u8>, ReadError> {
        let mut searched = 0;
        poll_fn(|cx| self.poll_readuntil(cx, separator, &mut searched)).await
    }

    /// Reads up to and including the first of several separators (asyncio
    /// 3.13's `readuntil` with a tuple) and says which one matched: the
    /// bytes, and the matching separator's index in `separators`.
    ///
    /// The match that *ends* first wins; if two end at the same byte (as
    /// `b"\r\n"` and `b"\n"` do), the shorter separator is the one
    /// reported (asyncio's rule: it tries the shortest first). The returned
    /// bytes are the same either way. Errors are those of
    /// [`readuntil`](StreamReader::readuntil): [`ReadError::Incomplete`]
    /// at end of stream, [`ReadError::LimitOverrun`] (nothing consumed)
    /// when no separator starts within the limit, and an `InvalidInput`
    /// error for an empty list or an empty separator.
    ///
    /// ```
    /// use weft_runtime::streams::StreamReader;
    ///
    /// weft_runtime::run(async {
    ///     let mut reader = StreamReader::from_bytes("key=value;unix\nwindows\r\n");
    ///     let ends: [&[u8]; 3] = [b"\r\n", b"\n", b";"];
    ///     assert_eq!(reader.readuntil_any(&ends).await.unwrap(), (b"key=value;".to_vec(), 2));
    ///     assert_eq!(reader.readuntil_any(&ends).await.unwrap(), (b"unix\n".to_vec(), 1));
    ///     // `\n` ends where `\r\n` ends: the shorter one is reported.
    ///     assert_eq!(reader.readuntil_any(&ends).await.unwrap(), (b"windows\r\n".to_vec(), 1));
    /// });
    /// ```
    pub async fn readuntil_any(
        &mut self,
        separators: &[&[u8]],
    ) -> Result<(Vec<u8>, usize), ReadError> {
        let mut searched = 0;
        poll_fn(|cx| self.poll_readuntil_any(cx, separators, &mut searched)).await
    }

    /// Reads one line, up to and including `\n`. At end of stream it
    /// returns the last bytes without a newline, and then empty lines
    /// (asyncio's `readline`).
    ///
    /// A line longer than the limit gives [`ReadError::LimitOverrun`] and,
    /// unlike asyncio's `readline`, which drops it, stays in the reader:
    /// take it with [`read`](StreamReader::read)`(e.consumed())` and carry
    /// on, or close the connection.
    pub async fn readline(&mut self) -> Result<Vec<u8>, ReadError> {
        let mut searched = 0;
        poll_fn(|cx| self.poll_readline(cx, &mut searched)).await
    }

    /// The address of the peer.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.half.peer_addr()
    }

    /// The local address of this end.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.half.local_addr()
    }

    /// Fails with the kept error, if a read failed before.
    fn check_error(&self) -> io::Result<()> {
        match &self.error {
            Some(e) => Err(copy_error(e)),
            None => Ok(()),
        }
    }

    /// Keeps the first error of a socket read, and returns it.
    fn keep_error<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        result.map_err(|e| {
            let copy = copy_error(&e);
            self.error.get_or_insert(e);
            copy
        })
    }

    /// Reads once from the socket into the buffer; end of stream sets
    /// `eof`, an error is kept.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let half = &mut self.half;
        let n = ready!(self
            .buf
            .fill_with(FILL_MAX, |spare| half.poll_read(cx, spare)));
        self.eof = self.keep_error(n)? == 0;
        Poll::Ready(Ok(()))
    }

    /// `readuntil` in poll form; see [`poll_readuntil_any`](Self::poll_readuntil_any).
    pub(super) fn poll_readuntil(
        &mut self,
        cx: &mut Context<'_>,
        separator: &[u8],
        searched: &mut usize,
    ) -> Poll<Result<Vec<u8>, ReadError>> {
        self.poll_readuntil_any(cx, &[separator], searched)
            .map_ok(|(bytes, _)| bytes)
    }

    /// `readuntil_any` in poll form. `searched` is how far earlier polls of
    /// the same call looked without finding a separator, so that each byte
    /// is examined about once however many socket reads a line takes.
    pub(super) fn poll_readuntil_any(
        &mut self,
        cx: &mut Context<'_>,
        separators: &[&[u8]],
        searched: &mut usize,
    ) -> Poll<Result<(Vec<u8>, usize), ReadError>> {
        let lengths = separators.iter().map(|s| s.len());
        let (Some(shortest), Some(longest)) = (lengths.clone().min(), lengths.max()) else {
            return Poll::Ready(Err(invalid_separator("no separator was given")));
        };
        if shortest == 0 {
            return Poll::Ready(Err(invalid_separator("a separator is empty")));
        }
        self.check_error()?;
        loop {
            let data = self.buf.as_slice();
            if data.len() >= *searched + shortest {
                if let Some((at, which)) = first_match(&data[*searched..], separators) {
                    let start = *searched + at;
                    if start > self.limit {
                        let overrun = LimitOverrunError::new(start, self.limit, true);
                        return Poll::Ready(Err(ReadError::LimitOverrun(overrun)));
                    }
                    let bytes = self.buf.take(start + separators[which].len());
                    return Poll::Ready(Ok((bytes, which)));
                }
                // A separator may straddle the end: keep the longest one's
                // length - 1 last bytes for the next search.
                *searched = (data.len() + 1).saturating_sub(longest);
                if *searched > self.limit {
                    let overrun = LimitOverrunError::new(*searched, self.limit, false);
                    return Poll::Ready(Err(ReadError::LimitOverrun(overrun)));
                }
            }
            if self.eof {
                let partial = self.buf.take_all();
                return Poll::Ready(Err(ReadError::Incomplete(IncompleteReadError::new(
                    partial, None,
                ))));
            }
            ready!(self.poll_fill(cx))?;
        }
    }

    /// `readline` in poll form; see [`poll_readuntil`](Self::poll_readuntil).
    pub(super) fn poll_readline(
        &mut self,
        cx: &mut Context<'_>,
        searched: &mut usize,
    ) -> Poll<Result<Vec<u8>, ReadError>> {
        self.poll_readuntil(cx, b"\n", searched)
            .map(|line| match line {
                Err(ReadError::Incomplete(e)) => Ok(e.into_partial()),
                other => other,
            })
    }
}

/// What `reunite` takes apart.
impl StreamReader {
    /// The transport.
    pub(super) fn side(&self) -> &ReadSide {
        &self.half
    }

    /// The transport and the bytes buffered but not yet returned.
    pub(super) fn into_parts(mut self) -> (ReadSide, Vec<u8>) {
        let buffered = self.buf.take_all();
        (self.half, buffered)
    }
}

/// What the `futures-io` adapter (`io_compat.rs`) reads through.
#[cfg(feature = "io-compat")]
impl StreamReader {
    /// The buffered bytes, after one socket read if none were buffered;
    /// empty at end of stream.
    pub(super) fn poll_buffered(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.check_error()?;
        if self.buf.is_empty() && !self.eof {
            ready!(self.poll_fill(cx))?;
        }
        Poll::Ready(Ok(self.buf.as_slice()))
    }

    /// Drops `n` buffered bytes (at most all of them).
    pub(super) fn consume_buffered(&mut self, n: usize) {
        self.buf.consume(n.min(self.buf.len()));
    }
}

/// An `InvalidInput` error about `readuntil`'s separators.
fn invalid_separator(what: &str) -> ReadError {
    ReadError::Io(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("readuntil: {what}; every separator must be at least one byte"),
    ))
}

/// Where the match that ends first starts, and which separator it is; of
/// two matches that end at the same byte, the shorter separator's
/// (asyncio 3.13's rule for a tuple of separators).
fn first_match(haystack: &[u8], separators: &[&[u8]]) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    for (which, separator) in separators.iter().enumerate() {
        let Some(at) = find(haystack, separator) else {
            continue;
        };
        let end = at + separator.len();
        let better = match best {
            None => true,
            Some((best_at, best_which)) => {
                let best_len = separators[best_which].len();
                (end, separator.len()) < (best_at + best_len, best_len)
            }
        };
        if better {
            best = Some((at, which));
        }
    }
    best
}

/// The offset of the first occurrence of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    match needle {
        [byte] => haystack.iter().position(|b| b == byte),
        _ => haystack
            .windows(needle.len())
            .position(|window| window == needle),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::time::Duration;

    use super::super::connect::unix_streams;
    use super::super::StreamWriter;
    use super::StreamReader;
    use crate::net::unix::UnixStream;
    use crate::time::timeout;

    /// Long enough for bytes already written to arrive on a Unix socket.
    const QUIET: Duration = Duration::from_millis(20);

    /// A reader and the writer of its peer, over a Unix socket pair; the
    /// other two halves come along, to keep the connection open.
    fn connected() -> (StreamReader, StreamWriter, (StreamWriter, StreamReader)) {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let (reader, writer) = unix_streams(ours);
        let (peer_reader, peer) = unix_streams(theirs);
        (reader, peer, (writer, peer_reader))
    }

    /// A reader waiting on a quiet socket holds no buffer, before and after
    /// a burst; a partial line left from the burst keeps only its bytes.
    #[test]
    #[cfg_attr(miri, ignore = "real socket I/O, which miri does not emulate")]
    fn a_waiting_reader_holds_only_unconsumed_bytes() {
        crate::run(async {
            let (mut reader, mut peer, _rest) = connected();
            assert!(timeout(QUIET, reader.readline()).await.is_err());
            assert_eq!(reader.buf.capacity(), 0);

            let line = [b'x'; 99];
            let mut burst = Vec::new();
            for _ in 0..10_000 {
                burst.extend_from_slice(&line);
                burst.push(b'\n');
            }
            burst.extend_from_slice(b"tail");
            peer.write(&burst).unwrap();
            for _ in 0..10_000 {
                assert_eq!(reader.readline().await.unwrap().len(), 100);
            }
            assert!(timeout(QUIET, reader.readline()).await.is_err());
            assert_eq!(reader.buffer(), b"tail");
            assert_eq!(reader.buf.capacity(), 4);

            peer.write(b"\n").unwrap();
            assert_eq!(reader.readline().await.unwrap(), b"tail\n");
            assert!(timeout(QUIET, reader.readline()).await.is_err());
            assert_eq!(reader.buf.capacity(), 0);
        });
    }

    /// `read(n)` waiting on a quiet socket holds no memory either, and
    /// bytes beyond `n` stay in the reader.
    #[test]
    #[cfg_attr(miri, ignore = "real socket I/O, which miri does not emulate")]
    fn a_waiting_read_holds_no_memory() {
        crate::run(async {
            let (mut reader, mut peer, _rest) = connected();
            assert!(timeout(QUIET, reader.read(64 * 1024)).await.is_err());
            assert_eq!(reader.buf.capacity(), 0);
            peer.write(b"abcdef").unwrap();
            assert_eq!(reader.read(4).await.unwrap(), b"abcd");
            assert_eq!(reader.read(64 * 1024).await.unwrap(), b"ef");
            drop(peer);
            assert_eq!(reader.read(1).await.unwrap(), b"");
            assert!(reader.at_eof());
        });
    }

    /// A small message takes a buffer of its size, not a whole read's.
    #[test]
    #[cfg_attr(miri, ignore = "real socket I/O, which miri does not emulate")]
    fn a_small_message_takes_a_small_buffer() {
        crate::run(async {
            let (mut reader, mut peer, _rest) = connected();
            peer.write(b"GET / HTTP/1.1\r\n").unwrap();
            assert_eq!(reader.readexactly(4).await.unwrap(), b"GET ");
            assert_eq!(reader.buf.capacity(), 16);
        });
    }
}
