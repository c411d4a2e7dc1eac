//! [`open_connection`]: a TCP connection as asyncio's reader and writer.

use std::io;
use std::net::ToSocketAddrs;

use super::reader::StreamReader;
use super::writer::StreamWriter;
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
