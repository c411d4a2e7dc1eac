//! In-memory readers: a [`StreamReader`] whose bytes come from the program
//! instead of a socket, as asyncio's `StreamReader.feed_data` /
//! `feed_eof` allow, so that a protocol parser written against
//! `StreamReader` is unit-tested without a network.
//!
//! [`StreamReader::from_feed`] returns the reader and a [`Feeder`]; what
//! the feeder pushes, the reader reads, with the same buffering, limit,
//! errors and cancel-safety as over a socket (the reader cannot tell the
//! difference: its transport is one more variant, see `transport.rs`).
//! [`StreamReader::from_bytes`] is the short form for a fixed input.
//!
//! ```text
//!   Feeder::feed_data(b) ──▶ Feed (bytes, eof, waiting reader's waker) ──▶ StreamReader reads
//!   Feeder::feed_eof() / drop ──▶ eof: reads return what is left, then end of stream
//! ```
//!
//! The fed bytes are kept until read: a feeder that outruns its reader
//! holds them all, which suits tests and parsers fed from a buffer already
//! in memory. Dropping the feeder ends the stream, so a test that forgets
//! `feed_eof` ends instead of hanging.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::reader::StreamReader;
use super::transport::ReadSide;

/// What a [`Feeder`] and its reader share.
#[derive(Debug, Default)]
struct FeedState {
    bytes: VecDeque<u8>,
    eof: bool,
    /// The reader's task, waiting for bytes.
    waiter: Option<Waker>,
}

/// The reader's end of a feed: the transport of an in-memory reader.
#[derive(Debug)]
pub(crate) struct Feed {
    state: Rc<RefCell<FeedState>>,
}

impl Feed {
    /// Copies fed bytes into `buf`; `Ok(0)` once the feed ended and is
    /// empty; `Pending` (the waker kept) while nothing is fed.
    pub(crate) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut state = self.state.borrow_mut();
        if state.bytes.is_empty() && !state.eof && !buf.is_empty() {
            state.waiter = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = buf.len().min(state.bytes.len());
        for (slot, byte) in buf.iter_mut().zip(state.bytes.drain(..n)) {
            *slot = byte;
        }
        Poll::Ready(Ok(n))
    }
}

/// The feeding end of an in-memory [`StreamReader`], from
/// [`StreamReader::from_feed`]: asyncio's `feed_data` and `feed_eof`.
/// Dropping it ends the stream, as `feed_eof` does.
///
/// ```
/// use weft_runtime::streams::StreamReader;
///
/// weft_runtime::run(async {
///     let (mut reader, feeder) = StreamReader::from_feed();
///     let parser = weft_runtime::spawn(async move {
///         let mut lines = Vec::new();
///         while let Ok(line) = reader.readuntil(b"\r\n").await {
///             lines.push(line);
///         }
///         lines
///     });
///     feeder.feed_data(b"PING\r").unwrap();
///     weft_runtime::yield_now().await; // the parser waits for the rest
///     feeder.feed_data(b"\nPONG\r\n").unwrap();
///     feeder.feed_eof();
///     assert_eq!(parser.await.unwrap(), [b"PING\r\n".to_vec(), b"PONG\r\n".to_vec()]);
/// });
/// ```
#[derive(Debug)]
pub struct Feeder {
    state: Rc<RefCell<FeedState>>,
}

impl Feeder {
    /// Appends `data` to what the reader will read, and wakes it. After
    /// [`feed_eof`](Feeder::feed_eof) the bytes are refused with an
    /// `InvalidInput` error that says how many there were (asyncio asserts
    /// instead); `data` stays with the caller.
    pub fn feed_data(&self, data: &[u8]) -> io::Result<()> {
        let mut state = self.state.borrow_mut();
        if state.eof {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "Feeder::feed_data of {} bytes after feed_eof(): the stream has ended",
                    data.len()
                ),
            ));
        }
        state.bytes.extend(data);
        let waiter = state.waiter.take();
        drop(state);
        if let Some(waker) = waiter {
            waker.wake();
        }
        Ok(())
    }

    /// Ends the stream: the reader reads what was fed, then end of stream.
    /// Calling it again does nothing.
    pub fn feed_eof(&self) {
        let waiter = {
            let mut state = self.state.borrow_mut();
            state.eof = true;
            state.waiter.take()
        };
        if let Some(waker) = waiter {
            waker.wake();
        }
    }

    /// Bytes fed and not yet taken by the reader (bytes the reader already
    /// moved into its own buffer are not counted).
    pub fn pending(&self) -> usize {
        self.state.borrow().bytes.len()
    }
}

impl Drop for Feeder {
    fn drop(&mut self) {
        self.feed_eof();
    }
}

impl StreamReader {
    /// An in-memory reader and the [`Feeder`] that supplies its bytes
    /// (asyncio's `StreamReader()` with `feed_data` / `feed_eof`). Every
    /// read method works as over a socket; there is no peer address.
    ///
    /// ```
    /// use weft_runtime::streams::{ReadError, StreamReader};
    ///
    /// weft_runtime::run(async {
    ///     let (mut reader, feeder) = StreamReader::from_feed();
    ///     feeder.feed_data(b"\x00\x05hel").unwrap();
    ///     feeder.feed_eof();
    ///     let len = reader.readexactly(2).await.unwrap();
    ///     assert_eq!(len, [0, 5]);
    ///     let Err(ReadError::Incomplete(e)) = reader.readexactly(5).await else { panic!() };
    ///     assert_eq!(e.partial(), b"hel");
    ///     assert!(feeder.feed_data(b"late").is_err());
    /// });
    /// ```
    pub fn from_feed() -> (StreamReader, Feeder) {
        let state = Rc::new(RefCell::new(FeedState::default()));
        let reader = StreamReader::on(ReadSide::Memory(Feed {
            state: state.clone(),
        }));
        (reader, Feeder { state })
    }

    /// An in-memory reader that reads `bytes` and then end of stream: a
    /// parser's test input in one line.
    ///
    /// ```
    /// use weft_runtime::streams::StreamReader;
    ///
    /// weft_runtime::run(async {
    ///     let mut reader = StreamReader::from_bytes("a\nb");
    ///     assert_eq!(reader.readline().await.unwrap(), b"a\n");
    ///     assert_eq!(reader.readline().await.unwrap(), b"b");
    ///     assert!(reader.at_eof());
    /// });
    /// ```
    pub fn from_bytes(bytes: impl AsRef<[u8]>) -> StreamReader {
        let (reader, feeder) = Self::from_feed();
        // A new feed has not ended: this cannot fail.
        let _ = feeder.feed_data(bytes.as_ref());
        reader // the feeder's drop ends the stream
    }
}
