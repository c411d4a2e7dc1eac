//! What a [`StreamReader`](super::StreamReader) read can fail with, as
//! values that hand back what the caller is owed.
//!
//! | asyncio                                | weft                                        |
//! |----------------------------------------|---------------------------------------------|
//! | `IncompleteReadError(partial, expected)` | [`ReadError::Incomplete`]: the bytes that did arrive are inside |
//! | `LimitOverrunError(message, consumed)`   | [`ReadError::LimitOverrun`]: the bytes stay in the reader |
//! | `OSError` (reset, …)                     | [`ReadError::Io`]                            |
//!
//! A [`ReadError`] converts into an `io::Error` (kinds `UnexpectedEof`,
//! `InvalidData`, or the OS error), so `?` works in functions returning
//! `io::Result`; the original error stays reachable through
//! `io::Error::get_ref`.

use std::error::Error;
use std::fmt;
use std::io;

/// Why a [`StreamReader`](super::StreamReader) read failed.
///
/// ```
/// use weft_runtime::streams::ReadError;
///
/// # weft_runtime::run(async {
/// # let mut listener = weft_runtime::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// # let addr = listener.local_addr().unwrap();
/// # weft_runtime::spawn(async move {
/// #     let (mut s, _) = listener.accept().await.unwrap();
/// #     s.write_all(b"abc").await.unwrap();
/// # });
/// let (mut reader, _writer) = weft_runtime::streams::open_connection(addr).await.unwrap();
/// // The peer sends three bytes and closes.
/// match reader.readexactly(10).await {
///     Err(ReadError::Incomplete(e)) => {
///         assert_eq!(e.partial(), b"abc");
///         assert_eq!(e.expected(), Some(10));
///     }
///     other => panic!("{other:?}"),
/// }
/// # });
/// ```
#[derive(Debug)]
pub enum ReadError {
    /// The stream ended before the read was complete; the bytes that did
    /// arrive are inside (asyncio's `IncompleteReadError`).
    Incomplete(IncompleteReadError),
    /// No separator within the reader's limit; the bytes are still in the
    /// reader (asyncio's `LimitOverrunError`).
    LimitOverrun(LimitOverrunError),
    /// The socket failed (for instance, the peer reset the connection).
    Io(io::Error),
}

impl ReadError {
    /// The bytes that arrived before the stream ended, if this is
    /// [`ReadError::Incomplete`].
    pub fn partial(&self) -> Option<&[u8]> {
        match self {
            ReadError::Incomplete(e) => Some(e.partial()),
            _ => None,
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Incomplete(e) => e.fmt(f),
            ReadError::LimitOverrun(e) => e.fmt(f),
            ReadError::Io(e) => e.fmt(f),
        }
    }
}

impl Error for ReadError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ReadError::Incomplete(e) => Some(e),
            ReadError::LimitOverrun(e) => Some(e),
            ReadError::Io(e) => Some(e),
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

impl From<ReadError> for io::Error {
    /// `Incomplete` becomes `UnexpectedEof` and `LimitOverrun` becomes
    /// `InvalidData`, each carrying the original error (`get_ref`).
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Incomplete(e) => io::Error::new(io::ErrorKind::UnexpectedEof, e),
            ReadError::LimitOverrun(e) => io::Error::new(io::ErrorKind::InvalidData, e),
            ReadError::Io(e) => e,
        }
    }
}

/// The stream ended before a `readexactly` or `readuntil` was complete.
///
/// The bytes that arrived were taken out of the reader and are here.
///
/// ```
/// # weft_runtime::run(async {
/// # let mut listener = weft_runtime::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// # let addr = listener.local_addr().unwrap();
/// # weft_runtime::spawn(async move {
/// #     let (mut s, _) = listener.accept().await.unwrap();
/// #     s.write_all(b"no newline").await.unwrap();
/// # });
/// let (mut reader, _writer) = weft_runtime::streams::open_connection(addr).await.unwrap();
/// let err = reader.readuntil(b"\n").await.unwrap_err();
/// assert_eq!(err.partial(), Some(&b"no newline"[..]));
/// assert_eq!(
///     err.to_string(),
///     "the stream ended after 10 bytes, before the separator (the bytes are in the error)"
/// );
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompleteReadError {
    partial: Vec<u8>,
    expected: Option<usize>,
}

impl IncompleteReadError {
    pub(crate) fn new(partial: Vec<u8>, expected: Option<usize>) -> Self {
        Self { partial, expected }
    }

    /// The bytes that arrived before the stream ended.
    pub fn partial(&self) -> &[u8] {
        &self.partial
    }

    /// Takes the bytes that arrived before the stream ended.
    pub fn into_partial(self) -> Vec<u8> {
        self.partial
    }

    /// How many bytes `readexactly` wanted; `None` for `readuntil`, which
    /// wanted "up to the separator".
    pub fn expected(&self) -> Option<usize> {
        self.expected
    }
}

impl fmt::Display for IncompleteReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let got = self.partial.len();
        match self.expected {
            Some(expected) => write!(
                f,
                "the stream ended after {got} of the {expected} bytes expected (the bytes are in the error)"
            ),
            None => write!(
                f,
                "the stream ended after {got} bytes, before the separator (the bytes are in the error)"
            ),
        }
    }
}

impl Error for IncompleteReadError {}

/// `readuntil` (or `readline`) found no separator within the reader's
/// limit. Nothing was consumed: the bytes are still in the reader, where
/// [`read`](super::StreamReader::read) takes them (it returns buffered bytes
/// without touching the socket).
///
/// ```
/// use weft_runtime::streams::ReadError;
///
/// # weft_runtime::run(async {
/// # let mut listener = weft_runtime::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// # let addr = listener.local_addr().unwrap();
/// # weft_runtime::spawn(async move {
/// #     let (mut s, _) = listener.accept().await.unwrap();
/// #     s.write_all(b"0123456789\n").await.unwrap();
/// # });
/// let (mut reader, _writer) = weft_runtime::streams::open_connection(addr).await.unwrap();
/// reader.set_limit(4).unwrap();
/// let Err(ReadError::LimitOverrun(e)) = reader.readline().await else { panic!() };
/// // Take the over-long line out by hand.
/// let head = reader.read(e.consumed()).await.unwrap();
/// assert_eq!(head, b"0123456789");
/// assert_eq!(reader.readline().await.unwrap(), b"\n");
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitOverrunError {
    consumed: usize,
    limit: usize,
    separator_found: bool,
}

impl LimitOverrunError {
    pub(crate) fn new(consumed: usize, limit: usize, separator_found: bool) -> Self {
        Self {
            consumed,
            limit,
            separator_found,
        }
    }

    /// How many bytes to consume to get past the data examined (asyncio's
    /// `consumed`): the offset of the separator if it was found beyond the
    /// limit, otherwise how far the search got.
    pub fn consumed(&self) -> usize {
        self.consumed
    }

    /// The reader's limit when the read failed.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Whether the separator was found (beyond the limit).
    pub fn separator_found(&self) -> bool {
        self.separator_found
    }
}

impl fmt::Display for LimitOverrunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (consumed, limit) = (self.consumed, self.limit);
        if self.separator_found {
            write!(
                f,
                "the separator was found {consumed} bytes in, beyond the limit of {limit} bytes \
                 (the bytes are still in the reader)"
            )
        } else {
            write!(
                f,
                "no separator in the first {consumed} bytes, over the limit of {limit} bytes \
                 (the bytes are still in the reader)"
            )
        }
    }
}

impl Error for LimitOverrunError {}

/// A copy of a connection's kept error, to return it again. `io::Error` is
/// not `Clone`; an OS error is rebuilt from its code (same kind, same
/// message), any other from its kind and text.
pub(super) fn copy_error(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}
