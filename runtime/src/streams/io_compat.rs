//! `futures-io`'s [`AsyncRead`] and [`AsyncBufRead`] for [`StreamReader`]
//! and [`AsyncWrite`] for [`StreamWriter`] (cargo feature `io-compat`), so
//! that code written against those traits (codecs, `futures::io::copy`,
//! line readers) runs on asyncio-style streams.
//!
//! * Reading goes through the reader's buffer: `poll_fill_buf` fills it
//!   when it is empty and lends it, `poll_read` copies out of it. Bytes
//!   buffered by an earlier `readline` are read first, so the two styles
//!   mix freely.
//! * `poll_write` queues the bytes like [`StreamWriter::write`], after
//!   waiting while the writer is paused (above its high-water mark), so a
//!   `write_all` loop respects back-pressure as `drain` does.
//! * `poll_flush` waits until every queued byte went to the kernel;
//!   `poll_close` is [`close`](StreamWriter::close) and then
//!   [`wait_closed`](StreamWriter::wait_closed).
//!
//! ```
//! use futures::{AsyncBufReadExt, AsyncWriteExt};
//! use weft_runtime::streams::{open_connection, start_server, StreamReader, StreamWriter};
//!
//! weft_runtime::run(async {
//!     let server = start_server(
//!         |reader: StreamReader, mut writer: StreamWriter| async move {
//!             // futures' copy, from a stream reader into a stream writer.
//!             futures::io::copy(reader, &mut writer).await.unwrap();
//!             // Spelled out: the inherent `close` (which does not wait) wins.
//!             AsyncWriteExt::close(&mut writer).await.unwrap();
//!         },
//!         "127.0.0.1:0",
//!     )
//!     .await
//!     .unwrap();
//!     let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
//!     writer.write_all(b"one\ntwo\n").await.unwrap();
//!     AsyncWriteExt::close(&mut writer).await.unwrap();
//!     let mut line = String::new();
//!     reader.read_line(&mut line).await.unwrap();
//!     assert_eq!(line, "one\n");
//! });
//! ```

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};

use super::reader::StreamReader;
use super::writer::StreamWriter;

impl AsyncBufRead for StreamReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.get_mut().poll_buffered(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().consume_buffered(amt);
    }
}

impl AsyncRead for StreamReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let reader = self.get_mut();
        let available = ready!(reader.poll_buffered(cx))?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        reader.consume_buffered(n);
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for StreamWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let writer = self.get_mut();
        ready!(writer.poll_drain(cx))?;
        writer.write(buf)?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flushed(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let writer = self.get_mut();
        writer.close();
        writer.poll_wait_closed(cx)
    }
}
