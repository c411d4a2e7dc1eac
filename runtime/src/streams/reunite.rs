//! Taking the socket back from a [`StreamReader`] and its
//! [`StreamWriter`]: [`StreamReader::reunite`], for a protocol that starts
//! line-based and then hands the raw connection to something else (a TLS
//! library after `STARTTLS`, an upgrade to another framing).
//!
//! The socket comes back only when nothing is lost or still in flight: the
//! two must be the halves of one connection, the writer's queue must be
//! sent (its flusher task gone), and the connection must not have failed
//! or been aborted. Bytes the reader had read ahead of the caller come back
//! beside the socket. Otherwise the reader and the writer come back,
//! unchanged, inside a [`ReuniteError`] that says why.

use std::error::Error;
use std::fmt;

use super::reader::StreamReader;
use super::transport::{ReadSide, WriteSide};
use super::writer::StreamWriter;
#[cfg(unix)]
use crate::net::unix::UnixStream;
use crate::net::TcpStream;

/// The socket of a stream connection, from [`StreamReader::reunite`]
/// (see the example there).
#[derive(Debug)]
pub enum StreamSocket {
    /// A TCP connection.
    Tcp(TcpStream),
    /// A Unix stream connection.
    #[cfg(unix)]
    Unix(UnixStream),
}

/// Why [`StreamReader::reunite`] refused; the reader and the writer are
/// inside, unchanged.
///
/// ```
/// use weft_runtime::streams::{open_connection, start_server, StreamReader, StreamWriter};
///
/// weft_runtime::run(async {
///     let handler = |_r: StreamReader, _w: StreamWriter| async {};
///     let server = start_server(handler, "127.0.0.1:0").await.unwrap();
///     let (reader, _) = open_connection(server.local_addr()).await.unwrap();
///     let (_, other_writer) = open_connection(server.local_addr()).await.unwrap();
///     let err = reader.reunite(other_writer).unwrap_err();
///     assert!(err.reason().contains("different connections"));
///     let (_reader, _other_writer) = err.into_parts(); // nothing lost
/// });
/// ```
pub struct ReuniteError {
    reader: StreamReader,
    writer: StreamWriter,
    reason: String,
}

impl ReuniteError {
    /// Why the socket could not be taken back.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The reader and the writer, as they were.
    pub fn into_parts(self) -> (StreamReader, StreamWriter) {
        (self.reader, self.writer)
    }
}

impl fmt::Debug for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReuniteError")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot take the socket back from this reader and writer: {}",
            self.reason
        )
    }
}

impl Error for ReuniteError {}

impl StreamReader {
    /// Takes the connection's socket back from this reader and its
    /// `writer` (tokio's `reunite`, asyncio's `transport.get_extra_info("socket")`
    /// made safe): returns the socket and the bytes this reader had
    /// already read from it but not yet returned, which belong before
    /// anything read from the socket next. The writing side is left as it
    /// is (still open unless `write_eof` or `close` shut it).
    ///
    /// Refused, with the reader and the writer handed back in the
    /// [`ReuniteError`], when they are not the two sides of one
    /// connection, the reader is in memory, the writer still has bytes
    /// queued (send them first: `set_write_buffer_limits(0, 0)` then
    /// `drain()`), or the connection failed or was aborted.
    ///
    /// ```
    /// use weft_runtime::streams::{open_connection, start_server, StreamReader, StreamSocket, StreamWriter};
    ///
    /// weft_runtime::run(async {
    ///     let server = start_server(
    ///         |_r: StreamReader, mut w: StreamWriter| async move {
    ///             w.write(b"STARTTLS ok\nraw bytes").unwrap();
    ///         },
    ///         "127.0.0.1:0",
    ///     )
    ///     .await
    ///     .unwrap();
    ///     let (mut reader, writer) = open_connection(server.local_addr()).await.unwrap();
    ///     assert_eq!(reader.readline().await.unwrap(), b"STARTTLS ok\n");
    ///     let (socket, read_ahead) = reader.reunite(writer).unwrap();
    ///     let StreamSocket::Tcp(mut stream) = socket else { panic!("a TCP connection") };
    ///     let mut rest = read_ahead;
    ///     let mut buf = [0; 64];
    ///     loop {
    ///         match stream.read(&mut buf).await.unwrap() {
    ///             0 => break,
    ///             n => rest.extend_from_slice(&buf[..n]),
    ///         }
    ///     }
    ///     assert_eq!(rest, b"raw bytes");
    /// });
    /// ```
    pub fn reunite(self, writer: StreamWriter) -> Result<(StreamSocket, Vec<u8>), ReuniteError> {
        if let Err(reason) = writer
            .check_idle()
            .and_then(|()| twins(self.side(), &writer))
        {
            return Err(ReuniteError {
                reader: self,
                writer,
                reason,
            });
        }
        let (read, buffered) = self.into_parts();
        let socket = match (read, writer.into_side()) {
            (ReadSide::Tcp(read), WriteSide::Tcp(write)) => {
                TcpStream::reunite(read, write).ok().map(StreamSocket::Tcp)
            }
            #[cfg(unix)]
            (ReadSide::Unix(read), WriteSide::Unix(write)) => UnixStream::reunite(read, write)
                .ok()
                .map(StreamSocket::Unix),
            _ => None,
        };
        let socket = socket.expect("twins() checked that the halves are one socket's");
        Ok((socket, buffered))
    }
}

/// Whether the two transports are the halves of one socket that nothing
/// else holds.
fn twins(read: &ReadSide, writer: &StreamWriter) -> Result<(), String> {
    let twins = writer.with_side(|write| match (read, write) {
        (ReadSide::Tcp(read), WriteSide::Tcp(write)) => Ok(read.is_twin(write)),
        #[cfg(unix)]
        (ReadSide::Unix(read), WriteSide::Unix(write)) => Ok(read.is_twin(write)),
        (ReadSide::Memory(_), _) => Err("the reader is in memory: it has no socket".to_string()),
        #[allow(unreachable_patterns)] // on Windows, TCP is the only socket
        _ => Ok(false),
    })?;
    match twins {
        true => Ok(()),
        false => Err("the reader and the writer belong to different connections".to_string()),
    }
}
