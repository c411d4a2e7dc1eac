//! asyncio's streams on weft's TCP and Unix sockets: [`open_connection`],
//! [`start_server`], their Unix twins [`open_unix_connection`] and
//! [`start_unix_server`], [`StreamReader`] and [`StreamWriter`].
//!
//! A connection is split into a reader and a writer that two tasks can use
//! at once. The reader buffers incoming bytes and reads lines, exact counts
//! or up to a separator; the writer queues outgoing bytes, sends them in
//! the background and applies back-pressure through `drain`:
//!
//! ```text
//!            ┌──────── one TCP or Unix connection (one reactor registration) ───────┐
//!   peer ───▶│ OwnedReadHalf  ─▶ StreamReader: buffer, limit ─▶ readline / readuntil │
//!   peer ◀───│ OwnedWriteHalf ◀─ StreamWriter: queue, water marks ◀─ write + drain   │
//!            └──────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! | asyncio                                      | weft                                             |
//! |----------------------------------------------|--------------------------------------------------|
//! | `await open_connection(host, port)`          | [`open_connection`]`(addr).await?`               |
//! | `await start_server(cb, host, port)`         | [`start_server`]`(handler, addr).await?`         |
//! | `await open_unix_connection(path)`           | [`open_unix_connection`]`(path).await?`          |
//! | `await start_unix_server(cb, path)`          | [`start_unix_server`]`(handler, path).await?`    |
//! | `server.serve_forever()` / `close()` / `wait_closed()` | [`ServerHandle::serve_forever`], [`ServerHandle::close`], [`ServerHandle::wait_closed`] |
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
//! | `server.close_clients()` / `abort_clients()` (3.13) | [`ServerHandle::close_clients`] / [`ServerHandle::abort_clients`] |
//! | `len(server._clients)`                       | [`ServerHandle::connections`]                    |
//! | `start_server(..., limit=, backlog=, reuse_port=, start_serving=)` | [`start_server_with`]`(handler, addr, `[`ServerOptions`]`)` |
//! | `start_server(..., sock=)`                   | [`Server::from_listener`]                        |
//! | `server.start_serving()`                     | [`ServerHandle::start_serving`]                  |
//! | `open_connection(..., limit=)`               | [`open_connection_with`]`(addr, &`[`ConnectOptions`]`)` |
//! | exception in `client_connected_cb` (logged)  | handler returns `Err` or panics: [`ServerOptions::on_handler_failure`], [`ServerHandle::handler_failures`] |
//! | `reader.readuntil((sep1, sep2))` (3.13)      | [`StreamReader::readuntil_any`] (also says which matched) |
//! | `StreamReader()` + `feed_data` / `feed_eof` | [`StreamReader::from_feed`] + [`Feeder`], [`StreamReader::from_bytes`] |
//! | `writer.transport.abort()`                   | [`StreamWriter::abort`]                          |
//! | `writer.write(data); await writer.drain()`   | [`StreamWriter::write_and_drain`]                |
//! | `writer.get_extra_info("socket")`            | [`StreamReader::reunite`] (gives the socket back) |
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
//! * A handler may return `()` or `Result<(), E>`; an error or a panic is
//!   reported to a hook and counted, never takes the server down.
//! * With the cargo feature `io-compat`, `StreamReader` implements
//!   `futures-io`'s `AsyncRead` and `AsyncBufRead`, and `StreamWriter`
//!   `AsyncWrite`.
//!
//! **Memory.** A connection holds buffer memory only while bytes are in
//! flight, so thousands of idle keep-alive peers cost little (under 1 KiB
//! of server memory each, all of it the task, the socket registration and
//! the reader and writer themselves):
//!
//! ```text
//!   reader:  quiet socket ─▶ no buffer ─▶ bytes arrive: read into the thread's scratch,
//!            keep only what arrived ─▶ consumed, socket quiet again ─▶ no buffer
//!   writer:  nothing queued ─▶ no buffer ─▶ the kernel refuses some bytes: queue them
//!            ─▶ flusher sends them and ends ─▶ no buffer
//! ```
//!
//! While a burst lasts the buffers keep their capacity from one read to
//! the next, and reads go straight into them once they have room; when the
//! connection waits again, a buffer frees its memory, or shrinks to the
//! bytes it still holds (a partial line, say). `buffer.rs` has the details.
//!
//! As in asyncio, TCP connections made by [`open_connection`] and
//! [`start_server`] have `TCP_NODELAY` set (Nagle's algorithm off). A
//! reader and a writer are the same types over TCP and over a Unix socket
//! (see `transport.rs`), so one handler can serve both kinds of server;
//! only the addresses differ ([`StreamWriter::peer_addr`] for TCP,
//! [`StreamWriter::unix_peer_addr`] for Unix).
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
mod connect;
mod error;
mod feed;
mod handler;
#[cfg(feature = "io-compat")]
mod io_compat;
mod lines;
mod options;
mod reader;
mod reunite;
mod server;
mod server_handle;
mod transport;
mod writer;

pub use connect::{open_connection, open_connection_with};
#[cfg(unix)]
pub use connect::{open_unix_connection, open_unix_connection_with};
pub use error::{IncompleteReadError, LimitOverrunError, ReadError};
pub use feed::Feeder;
pub use handler::{HandlerFailure, HandlerOutput};
pub use lines::Lines;
pub use options::{ConnectOptions, ServerOptions};
pub use reader::{StreamReader, DEFAULT_LIMIT};
pub use reunite::{ReuniteError, StreamSocket};
pub use server::{start_server, start_server_with, Accept, Server, ACCEPT_RETRY_DELAY};
#[cfg(unix)]
pub use server::{start_unix_server, start_unix_server_with};
pub use server_handle::ServerHandle;
pub use writer::{StreamWriter, DEFAULT_HIGH_WATER, DEFAULT_LOW_WATER};
