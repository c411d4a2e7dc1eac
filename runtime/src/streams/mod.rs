//! asyncio's streams on weft's TCP sockets: [`open_connection`],
//! [`start_server`], [`StreamReader`] and [`StreamWriter`].
//!
//! A connection is split into a reader and a writer that two tasks can use
//! at once. The reader buffers incoming bytes and reads lines, exact counts
//! or up to a separator; the writer queues outgoing bytes, sends them in
//! the background and applies back-pressure through `drain`:
//!
//! ```text
//!            ┌──────────── one TCP connection (one reactor registration) ───────────┐
//!   peer ───▶│ OwnedReadHalf  ─▶ StreamReader: buffer, limit ─▶ readline / readuntil │
//!   peer ◀───│ OwnedWriteHalf ◀─ StreamWriter: queue, water marks ◀─ write + drain   │
//!            └──────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! | asyncio                                      | weft                                             |
//! |----------------------------------------------|--------------------------------------------------|
//! | `await open_connection(host, port)`          | [`open_connection`]`(addr).await?`               |
//! | `await start_server(cb, host, port)`         | [`start_server`]`(handler, addr).await?`         |
//! | `server.serve_forever()` / `close()` / `wait_closed()` | [`Server::serve_forever`], [`Server::close`], [`Server::wait_closed`] |
//! | `reader.read(n)` / `read(-1)`                | [`StreamReader::read`] / [`StreamReader::read_to_end`] |
//! | `reader.readline()` / `readuntil(sep)`       | [`StreamReader::readline`] / [`StreamReader::readuntil`] |
//! | `reader.readexactly(n)`                      | [`StreamReader::readexactly`]                    |
//! | `reader.at_eof()`                            | [`StreamReader::at_eof`]                         |
//! | `async for line in reader:`                  | `while let Some(line) = lines.next().await` ([`StreamReader::lines`]) |
//! | `IncompleteReadError` / `LimitOverrunError`  | [`ReadError::Incomplete`] / [`ReadError::LimitOverrun`] |
//! | `writer.write(data)` / `writelines`          | [`StreamWriter::write`] / [`StreamWriter::writelines`] |
//! | `await writer.drain()`                       | [`StreamWriter::drain`]                          |
//! | `writer.write_eof()` / `close()` / `wait_closed()` | [`StreamWriter::write_eof`], [`StreamWriter::close`], [`StreamWriter::wait_closed`] |
//! | `transport.get_write_buffer_size()`          | [`StreamWriter::write_buffer_size`]              |
//! | `transport.set_write_buffer_limits(high, low)` | [`StreamWriter::set_write_buffer_limits`]      |
//! | `writer.get_extra_info("peername")`          | [`StreamWriter::peer_addr`], [`StreamReader::peer_addr`] |
//!
//! What differs, and why:
//!
//! * Errors are values: a read returns [`ReadError`] (with the partial
//!   bytes, or with the data left in the reader), a failed connection makes
//!   `write`, `drain` and `wait_closed` return the OS error.
//! * The reader pulls from the socket when asked instead of being fed in
//!   the background; the limit and the cancel-safety are the same (see
//!   [`StreamReader`]). `readline` keeps an over-long line in the reader
//!   instead of dropping it.
//! * The writer's background flushing runs in a small task per writer,
//!   only while bytes are queued (see [`StreamWriter`]).
//! * Cancellation is drop: every future here can be dropped at any await
//!   point without losing a byte.
//!
//! As in asyncio, connections made by [`open_connection`] and
//! [`start_server`] have `TCP_NODELAY` set (Nagle's algorithm off).
//!
//! ```
//! use weft_runtime::streams::{open_connection, start_server, StreamReader, StreamWriter};
//!
//! weft_runtime::run(async {
//!     // An echo server.
//!     let server = start_server(
//!         |mut reader: StreamReader, mut writer: StreamWriter| async move {
//!             loop {
//!                 let data = reader.read(64 * 1024).await.unwrap();
//!                 if data.is_empty() {
//!                     break;
//!                 }
//!                 writer.write(&data).unwrap();
//!                 writer.drain().await.unwrap();
//!             }
//!         },
//!         "127.0.0.1:0",
//!     )
//!     .await
//!     .unwrap();
//!
//!     let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
//!     writer.write(b"hello\nworld\n").unwrap();
//!     assert_eq!(reader.readline().await.unwrap(), b"hello\n");
//!     assert_eq!(reader.readline().await.unwrap(), b"world\n");
//!     writer.close();
//!     writer.wait_closed().await.unwrap();
//!     assert!(reader.read(1).await.unwrap().is_empty()); // the server closed too
//!
//!     server.close();
//!     server.wait_closed().await;
//! });
//! ```

mod buffer;
mod error;
mod lines;
mod reader;
mod server;
mod writer;

use std::io;
use std::net::ToSocketAddrs;

pub use error::{IncompleteReadError, LimitOverrunError, ReadError};
pub use lines::Lines;
pub use reader::{StreamReader, DEFAULT_LIMIT};
pub use server::{start_server, Server, ACCEPT_RETRY_DELAY};
pub use writer::{StreamWriter, DEFAULT_HIGH_WATER, DEFAULT_LOW_WATER};

use crate::net::TcpStream;

/// Connects to `addr` and returns the connection's reader and writer
/// (asyncio's `open_connection`). See [`TcpStream::connect`] for the
/// address and the errors.
///
/// ```
/// use weft_runtime::streams::{open_connection, start_server, StreamReader, StreamWriter};
///
/// weft_runtime::run(async {
///     let server = start_server(
///         |_r: StreamReader, mut w: StreamWriter| async move { w.write(b"welcome\n").unwrap() },
///         "127.0.0.1:0",
///     )
///     .await
///     .unwrap();
///     let (mut reader, writer) = open_connection(server.local_addr()).await.unwrap();
///     assert_eq!(reader.readline().await.unwrap(), b"welcome\n");
///     assert_eq!(writer.peer_addr().unwrap(), server.local_addr());
/// });
/// ```
///
/// # Panics
///
/// Outside a weft runtime.
pub async fn open_connection(addr: impl ToSocketAddrs) -> io::Result<(StreamReader, StreamWriter)> {
    Ok(into_streams(TcpStream::connect(addr).await?))
}

/// A connection's reader and writer, with `TCP_NODELAY` set as asyncio sets
/// it on every TCP transport: a stream writer sends what it is given at
/// once, and Nagle's algorithm would hold a small write back until the
/// peer acknowledges the previous one.
pub(crate) fn into_streams(stream: TcpStream) -> (StreamReader, StreamWriter) {
    // Failing to set an option on a live socket is only possible if the
    // connection is already gone, which the first read or write reports.
    let _ = stream.set_nodelay(true);
    let (read_half, write_half) = stream.into_split();
    (StreamReader::new(read_half), StreamWriter::new(write_half))
}
