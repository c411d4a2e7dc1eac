//! Opening a stream connection: [`open_connection`] over TCP,
//! [`open_unix_connection`] over a Unix socket, and the split of a
//! connected socket into a [`StreamReader`] and a [`StreamWriter`], which
//! servers use too.

use std::io;

use super::options::{check_limit, ConnectOptions};
use super::reader::StreamReader;
use super::writer::StreamWriter;
#[cfg(unix)]
use crate::net::unix::UnixStream;
use crate::net::{TcpStream, ToSocketAddrs};

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
    Ok(tcp_streams(TcpStream::connect(addr).await?))
}

/// Connects to the Unix socket at `path` and returns the connection's
/// reader and writer (asyncio's `open_unix_connection`). See
/// [`UnixStream::connect`](crate::net::unix::UnixStream::connect) for the
/// errors.
///
/// ```
/// use weft_runtime::streams::{open_unix_connection, start_unix_server, StreamReader, StreamWriter};
///
/// let dir = std::env::temp_dir().join(format!("weft-open-unix-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("hello.sock");
/// weft_runtime::run(async {
///     let server = start_unix_server(
///         |_r: StreamReader, mut w: StreamWriter| async move { w.write(b"welcome\n").unwrap() },
///         &path,
///     )
///     .await
///     .unwrap();
///     let (mut reader, _writer) = open_unix_connection(&path).await.unwrap();
///     assert_eq!(reader.readline().await.unwrap(), b"welcome\n");
///     server.close();
/// });
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Panics
///
/// Outside a weft runtime.
#[cfg(unix)]
pub async fn open_unix_connection(
    path: impl AsRef<std::path::Path>,
) -> io::Result<(StreamReader, StreamWriter)> {
    Ok(unix_streams(UnixStream::connect(path).await?))
}

/// [`open_connection`] with [`ConnectOptions`] (the reader's limit). A
/// limit of 0 is refused with an `InvalidInput` error before connecting.
///
/// ```
/// use weft_runtime::streams::{open_connection_with, start_server, ConnectOptions, StreamReader, StreamWriter};
///
/// weft_runtime::run(async {
///     let server = start_server(
///         |_r: StreamReader, mut w: StreamWriter| async move { w.write(b"a long banner\n").unwrap() },
///         "127.0.0.1:0",
///     )
///     .await
///     .unwrap();
///     let options = ConnectOptions::new().limit(4);
///     let (mut reader, _writer) = open_connection_with(server.local_addr(), &options).await.unwrap();
///     assert!(reader.readline().await.is_err()); // longer than 4 bytes
/// });
/// ```
///
/// # Panics
///
/// Outside a weft runtime.
pub async fn open_connection_with(
    addr: impl ToSocketAddrs,
    options: &ConnectOptions,
) -> io::Result<(StreamReader, StreamWriter)> {
    check_limit(options.limit, "open_connection_with")?;
    options.apply(open_connection(addr).await?)
}

/// [`open_unix_connection`] with [`ConnectOptions`] (the reader's limit).
///
/// ```
/// use weft_runtime::streams::{open_unix_connection_with, start_unix_server, ConnectOptions, StreamReader, StreamWriter};
///
/// let dir = std::env::temp_dir().join(format!("weft-open-unix-with-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("s.sock");
/// weft_runtime::run(async {
///     let _server = start_unix_server(|_r: StreamReader, _w: StreamWriter| async {}, &path).await.unwrap();
///     let options = ConnectOptions::new().limit(100);
///     let (reader, _writer) = open_unix_connection_with(&path, &options).await.unwrap();
///     assert_eq!(reader.limit(), 100);
/// });
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Panics
///
/// Outside a weft runtime.
#[cfg(unix)]
pub async fn open_unix_connection_with(
    path: impl AsRef<std::path::Path>,
    options: &ConnectOptions,
) -> io::Result<(StreamReader, StreamWriter)> {
    check_limit(options.limit, "open_unix_connection_with")?;
    options.apply(open_unix_connection(path).await?)
}

/// A connection's reader and writer, with `TCP_NODELAY` set as asyncio sets
/// it on every TCP transport: a stream writer sends what it is given at
/// once, and Nagle's algorithm would hold a small write back until the
/// peer acknowledges the previous one.
pub(crate) fn tcp_streams(stream: TcpStream) -> (StreamReader, StreamWriter) {
    // Failing to set an option on a live socket is only possible if the
    // connection is already gone, which the first read or write reports.
    let _ = stream.set_nodelay(true);
    let (read_half, write_half) = stream.into_split();
    (StreamReader::new(read_half), StreamWriter::new(write_half))
}

/// A Unix connection's reader and writer.
#[cfg(unix)]
pub(crate) fn unix_streams(stream: UnixStream) -> (StreamReader, StreamWriter) {
    let (read_half, write_half) = stream.into_split();
    (
        StreamReader::from_unix(read_half),
        StreamWriter::from_unix(write_half),
    )
}
