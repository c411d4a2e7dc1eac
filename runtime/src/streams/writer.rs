//! [`StreamWriter`]: asyncio's `StreamWriter` over the write half of a TCP
//! or Unix stream connection, with a write buffer, water marks and background flushing.
//!
//! `write` never waits. It sends straight to the kernel when nothing is
//! queued before it, and queues what the kernel did not take. Queued bytes
//! are sent by a small **flusher task**, spawned when bytes are first
//! queued and ending when the queue is empty again. asyncio gets the same
//! effect from a writer callback on its event loop; in weft a task is the
//! only thing the loop polls. So bytes written without any `drain` still
//! reach the peer, as long as the runtime runs. The queue takes memory only
//! for the bytes the kernel refused, and gives it back when the flusher
//! ends (see `buffer.rs`): a writer with nothing queued holds no buffer.
//!
//! ```text
//!   write(b) ── queue empty? ──yes──▶ send(b) ─▶ rest ─┐
//!                  │no                                 ▼
//!                  └──────────────────────────▶ queue ◀── flusher task: send when writable
//!                                                 │
//!                         size > high ─▶ paused ──┤── size ≤ low ─▶ resumed (wakes drain)
//! ```
//!
//! **Back-pressure.** `drain` returns at once unless the writer is paused:
//! paused when the queue grows above the high-water mark (64 KiB by
//! default), resumed when the flusher brings it down to the low-water mark
//! (16 KiB). A peer that stops reading fills the kernel's buffers, then the
//! queue, and then `drain` waits: a writer that drains after its writes
//! holds at most the high-water mark plus its last write. `drain` also
//! spends one unit of the task's cooperative budget, so a write/drain loop
//! against a fast peer still lets other tasks run.
//!
//! **Errors.** The first send error (a reset, a broken pipe) is kept: the
//! queue is dropped and every later `write`, `drain` and `wait_closed` fails
//! with that OS error.
//!
//! **Ending.** `write_eof` and `close` take effect once the queue is sent:
//! then the writing side is shut down (the peer reads end of stream).
//! `close` additionally marks the writer closed for `wait_closed`. Dropping
//! a writer without closing it works like `write_eof`: the flusher, if
//! running, sends what is queued first. `abort` resets instead: the queue
//! is discarded, the flusher stopped, the reading side shut down, and the
//! socket closed with `SO_LINGER` 0 (RST, no FIN) when it is released.
//!
//! **When the socket is released.** In asyncio one transport serves the
//! reader and the writer and `close` closes it; here each side holds the
//! socket, so the file descriptor is closed when the last of these is gone:
//! the [`StreamReader`](super::StreamReader), the `StreamWriter`, and the
//! flusher task (alive only while bytes are queued, and stopped by
//! `abort`); a server's record of the connection does not hold it. So
//! after `close` the connection is
//! fully closed once both halves are done with it: the queue is sent, FIN
//! went out, and the reader and the writer are dropped. A peer that never
//! reads keeps a closed writer's flusher, and so the socket, alive until it
//! resets or the runtime shuts down; `abort` cuts that short.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::{ready, Context, Poll, Waker};

use super::buffer::ByteBuf;
use super::error::copy_error;
use super::transport::WriteSide;
use crate::api::join_handle::JoinHandle;
use crate::api::spawn::spawn;
use crate::executor::coop;
use crate::net::OwnedWriteHalf;

mod ending;

pub(super) use ending::WriterControl;

/// The default high-water mark: 64 KiB, as in asyncio.
pub const DEFAULT_HIGH_WATER: usize = 64 * 1024;

/// The default low-water mark: 16 KiB, as in asyncio.
pub const DEFAULT_LOW_WATER: usize = 16 * 1024;

/// The writing side of a stream connection (asyncio's `StreamWriter`), from
/// [`open_connection`](super::open_connection) or a
/// [`start_server`](super::start_server) handler.
///
/// [`write`](StreamWriter::write) never waits: it sends at once what the
/// kernel takes and queues the rest, which a small background task (one
/// per writer, alive only while bytes are queued) sends as the socket
/// allows. Bytes written are therefore sent even if nobody awaits
/// [`drain`](StreamWriter::drain), and even after the writer is dropped.
/// `drain` is the back-pressure: it waits while the queue is above the
/// high-water mark (64 KiB), until it is down to the low-water mark
/// (16 KiB). After a send error (the peer reset the connection), `write`,
/// `drain` and `wait_closed` fail with that OS error.
///
/// ```
/// use weft_runtime::streams::{open_connection, start_server, StreamReader, StreamWriter};
///
/// weft_runtime::run(async {
///     let server = start_server(
///         |mut reader: StreamReader, mut writer: StreamWriter| async move {
///             let request = reader.read_to_end().await.unwrap();
///             writer.write(&request).unwrap();
///             writer.close();
///             writer.wait_closed().await.unwrap();
///         },
///         "127.0.0.1:0",
///     )
///     .await
///     .unwrap();
///     let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
///     for _ in 0..1000 {
///         writer.write(b"0123456789").unwrap(); // never waits
///         writer.drain().await.unwrap(); // waits only above the high-water mark
///     }
///     writer.write_eof().unwrap();
///     assert_eq!(reader.read_to_end().await.unwrap().len(), 10_000);
/// });
/// ```
pub struct StreamWriter {
    state: Rc<WriteState>,
}

/// What the owner asked of the end of the writing side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Open,
    /// `write_eof`: shut down the writing side once the queue is sent.
    Eof,
    /// `close`: the same, and report closed to `wait_closed`.
    Close,
    /// `abort`: the queue was discarded and the connection reset.
    Abort,
}

/// What a writer shares with its flusher task.
struct WriteState {
    half: RefCell<WriteSide>,
    queue: RefCell<ByteBuf>,
    high: Cell<usize>,
    low: Cell<usize>,
    /// Set when the queue grew above `high`, cleared when it fell to `low`.
    paused: Cell<bool>,
    /// A flusher task is running; true exactly while the queue is not
    /// empty (and no error happened).
    flushing: Cell<bool>,
    ending: Cell<Ending>,
    /// The writing side was shut down.
    shut_down: Cell<bool>,
    /// The first send error; the connection is unusable after it.
    error: RefCell<Option<io::Error>>,
    /// The owner's task waiting in `drain` or `wait_closed` (the writer is
    /// `&mut` in both, so there is at most one).
    waiter: RefCell<Option<Waker>>,
    /// The running flusher task, for `abort` to stop.
    flusher: RefCell<Option<JoinHandle<()>>>,
}

impl StreamWriter {
    /// A writer over the write half of a TCP stream, with the default
    /// water marks.
    pub fn new(half: OwnedWriteHalf) -> Self {
        Self::on(WriteSide::Tcp(half))
    }

    /// A writer over the write half of a Unix stream, with the default
    /// water marks.
    #[cfg(unix)]
    pub fn from_unix(half: crate::net::unix::OwnedWriteHalf) -> Self {
        Self::on(WriteSide::Unix(half))
    }

    fn on(half: WriteSide) -> Self {
        Self {
            state: Rc::new(WriteState {
                half: RefCell::new(half),
                queue: RefCell::new(ByteBuf::new()),
                high: Cell::new(DEFAULT_HIGH_WATER),
                low: Cell::new(DEFAULT_LOW_WATER),
                paused: Cell::new(false),
                flushing: Cell::new(false),
                ending: Cell::new(Ending::Open),
                shut_down: Cell::new(false),
                error: RefCell::new(None),
                waiter: RefCell::new(None),
                flusher: RefCell::new(None),
            }),
        }
    }

    /// Queues `data` for sending and returns at once; it never waits. Await
    /// [`drain`](StreamWriter::drain) after writing to respect back-pressure.
    ///
    /// Fails with the connection's error after a send failed, and with a
    /// `BrokenPipe` error after [`write_eof`](StreamWriter::write_eof) or
    /// [`close`](StreamWriter::close); `data` is then not queued.
    ///
    /// # Panics
    ///
    /// Outside a weft runtime, when bytes have to be queued (the flusher is
    /// a task).
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        let state = &self.state;
        if let Some(e) = state.error() {
            return Err(e);
        }
        let after = match state.ending.get() {
            Ending::Open => None,
            Ending::Eof | Ending::Close => Some("write_eof() or close()"),
            Ending::Abort => Some("abort()"),
        };
        if let Some(after) = after {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                format!(
                    "StreamWriter::write of {} bytes after {after}: the writing side is shut",
                    data.len()
                ),
            ));
        }
        let mut rest = data;
        if state.queue.borrow().is_empty() && !data.is_empty() {
            // Nothing queued before these bytes: try the kernel first.
            match state.half.borrow().try_write(data) {
                Ok(n) => rest = &data[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    state.fail(copy_error(&e));
                    return Err(e);
                }
            }
        }
        if !rest.is_empty() {
            state.queue.borrow_mut().push(rest);
            state.update_pause();
            WriteState::start_flusher(state);
        }
        Ok(())
    }

    /// Writes each buffer in turn (asyncio's `writelines`).
    pub fn writelines<I>(&mut self, buffers: I) -> io::Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        buffers.into_iter().try_for_each(|b| self.write(b.as_ref()))
    }

    /// Waits while the writer is paused: from the moment the queue grows
    /// above the high-water mark until it falls to the low-water mark.
    /// Returns at once otherwise. Fails with the connection's error once a
    /// send failed. Cancel-safe.
    pub async fn drain(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_drain(cx)).await
    }

    /// `drain` in poll form.
    pub(super) fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let state = &self.state;
        ready!(coop::poll_proceed(cx));
        if let Some(e) = state.error() {
            return Poll::Ready(Err(e));
        }
        if !state.paused.get() {
            return Poll::Ready(Ok(()));
        }
        state.wait(cx);
        Poll::Pending
    }

    /// Shuts down the writing side once the queued bytes are sent: the peer
    /// reads end of stream, and this connection can still read (a TCP
    /// half-close). Later writes fail. Doing it twice, or after `close`,
    /// does nothing.
    pub fn write_eof(&mut self) -> io::Result<()> {
        if let Some(e) = self.state.error() {
            return Err(e);
        }
        if self.state.ending.get() == Ending::Open {
            self.state.ending.set(Ending::Eof);
            self.state.finish_if_flushed();
        }
        Ok(())
    }

    /// Closes the writer: no more writes; the queued bytes are sent in the
    /// background, then the writing side is shut down. Await
    /// [`wait_closed`](StreamWriter::wait_closed) to know when that is done.
    pub fn close(&mut self) {
        self.state.close();
    }

    /// Waits until [`close`](StreamWriter::close) has finished: the queue
    /// is sent and the writing side is shut down. Fails with the
    /// connection's error if a send failed (even without `close`). Without
    /// `close` and without an error it waits forever, as in asyncio.
    /// Cancel-safe.
    pub async fn wait_closed(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.state.poll_closed(cx)).await
    }

    /// Whether the writer is closed or closing: `close` was called, or a
    /// send failed.
    pub fn is_closing(&self) -> bool {
        matches!(self.state.ending.get(), Ending::Close | Ending::Abort)
            || self.state.error.borrow().is_some()
    }

    /// Bytes queued and not yet taken by the kernel (asyncio's
    /// `transport.get_write_buffer_size()`).
    pub fn write_buffer_size(&self) -> usize {
        self.state.queue.borrow().len()
    }

    /// The high- and low-water marks, in bytes.
    pub fn write_buffer_limits(&self) -> (usize, usize) {
        (self.state.high.get(), self.state.low.get())
    }

    /// Sets the high- and low-water marks (asyncio's
    /// `transport.set_write_buffer_limits`). `low` above `high` is refused
    /// with an `InvalidInput` error naming both.
    ///
    /// ```
    /// use weft_runtime::streams::{open_connection, start_server, StreamReader, StreamWriter};
    ///
    /// weft_runtime::run(async {
    ///     let server = start_server(|_: StreamReader, _: StreamWriter| async {}, "127.0.0.1:0")
    ///         .await
    ///         .unwrap();
    ///     let (_reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
    ///     writer.set_write_buffer_limits(1 << 20, 256 << 10).unwrap();
    ///     assert_eq!(writer.write_buffer_limits(), (1 << 20, 256 << 10));
    ///     let err = writer.set_write_buffer_limits(10, 20).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// });
    /// ```
    pub fn set_write_buffer_limits(&mut self, high: usize, low: usize) -> io::Result<()> {
        if low > high {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("set_write_buffer_limits: low ({low}) must not exceed high ({high})"),
            ));
        }
        self.state.high.set(high);
        self.state.low.set(low);
        self.state.update_pause();
        Ok(())
    }

    /// The address of the peer, for a TCP connection (an `InvalidInput`
    /// error for a Unix one: see
    /// [`unix_peer_addr`](StreamWriter::unix_peer_addr)).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.state.half.borrow().peer_addr()
    }

    /// The local address of this end, for a TCP connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.state.half.borrow().local_addr()
    }

    /// The address of the peer, for a connection over a Unix socket (an
    /// `InvalidInput` error for TCP).
    ///
    /// ```
    /// use weft_runtime::streams::{open_unix_connection, start_unix_server, StreamReader, StreamWriter};
    ///
    /// let dir = std::env::temp_dir().join(format!("weft-peer-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("s.sock");
    /// weft_runtime::run(async {
    ///     let handler = |_r: StreamReader, _w: StreamWriter| async {};
    ///     let _server = start_unix_server(handler, &path).await.unwrap();
    ///     let (_reader, writer) = open_unix_connection(&path).await.unwrap();
    ///     assert_eq!(writer.unix_peer_addr().unwrap().as_pathname(), Some(path.as_path()));
    ///     assert!(writer.peer_addr().is_err()); // no IP address here
    /// });
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    #[cfg(unix)]
    pub fn unix_peer_addr(&self) -> io::Result<std::os::unix::net::SocketAddr> {
        self.state.half.borrow().unix_peer_addr()
    }

    /// The address of this end, for a connection over a Unix socket
    /// (usually unnamed on the connecting side).
    #[cfg(unix)]
    pub fn unix_local_addr(&self) -> io::Result<std::os::unix::net::SocketAddr> {
        self.state.half.borrow().unix_local_addr()
    }
}

/// The one-step send, and what the `futures-io` adapter uses.
impl StreamWriter {
    /// Writes `data` and waits while the writer is paused: `write`, then
    /// [`drain`](StreamWriter::drain), the usual "send, and respect
    /// back-pressure" step. Errors are those of `write` (then nothing is
    /// queued) and of `drain`. Cancel-safe in the sense of `drain`: once
    /// the first poll returned, the bytes are queued, and dropping the
    /// future only skips the wait.
    ///
    /// ```
    /// use weft_runtime::streams::{open_connection, start_server, StreamReader, StreamWriter};
    ///
    /// weft_runtime::run(async {
    ///     let server = start_server(
    ///         |mut reader: StreamReader, mut writer: StreamWriter| async move {
    ///             while let Ok(line) = reader.readline().await {
    ///                 if line.is_empty() || writer.write_and_drain(&line).await.is_err() {
    ///                     break;
    ///                 }
    ///             }
    ///         },
    ///         "127.0.0.1:0",
    ///     )
    ///     .await
    ///     .unwrap();
    ///     let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
    ///     writer.write_and_drain(b"echo me\n").await.unwrap();
    ///     assert_eq!(reader.readline().await.unwrap(), b"echo me\n");
    /// });
    /// ```
    pub async fn write_and_drain(&mut self, data: &[u8]) -> io::Result<()> {
        self.write(data)?;
        self.drain().await
    }

    /// Waits until every queued byte went to the kernel (`futures-io`'s
    /// `poll_flush`); fails with the connection's error.
    #[cfg(feature = "io-compat")]
    pub(super) fn poll_flushed(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.state.error() {
            return Poll::Ready(Err(e));
        }
        if self.state.queue.borrow().is_empty() {
            return Poll::Ready(Ok(()));
        }
        self.state.wait(cx);
        Poll::Pending
    }

    /// `wait_closed` in poll form.
    #[cfg(feature = "io-compat")]
    pub(super) fn poll_wait_closed(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.state.poll_closed(cx)
    }
}

impl fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = &self.state;
        f.debug_struct("StreamWriter")
            .field("queued", &state.queue.borrow().len())
            .field("high", &state.high.get())
            .field("low", &state.low.get())
            .field("paused", &state.paused.get())
            .field("ending", &state.ending.get())
            .field("error", &*state.error.borrow())
            .finish()
    }
}

impl WriteState {
    fn close(&self) {
        if matches!(self.ending.get(), Ending::Open | Ending::Eof) {
            self.ending.set(Ending::Close);
            self.finish_if_flushed();
        }
    }

    fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.ending.get() == Ending::Abort {
            return Poll::Ready(Ok(()));
        }
        if let Some(e) = self.error() {
            return Poll::Ready(Err(e));
        }
        if self.ending.get() == Ending::Close && self.shut_down.get() {
            return Poll::Ready(Ok(()));
        }
        self.wait(cx);
        Poll::Pending
    }

    /// A copy of the connection's error, if a send failed.
    fn error(&self) -> Option<io::Error> {
        self.error.borrow().as_ref().map(copy_error)
    }

    /// Records the first send error: the queue is dropped (nothing more
    /// can be sent) and the owner is woken to see the error.
    fn fail(&self, e: io::Error) {
        self.error.borrow_mut().get_or_insert(e);
        *self.queue.borrow_mut() = ByteBuf::new();
        self.paused.set(false);
        self.wake_owner();
    }

    fn wait(&self, cx: &mut Context<'_>) {
        let mut waiter = self.waiter.borrow_mut();
        match &*waiter {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *waiter = Some(cx.waker().clone()),
        }
    }

    fn wake_owner(&self) {
        // Taken out first: waking runs no code here (it only queues the
        // task), but the borrow should not outlive the slot's use.
        let waiter = self.waiter.borrow_mut().take();
        if let Some(waker) = waiter {
            waker.wake();
        }
    }

    /// Pauses above the high-water mark, resumes at the low-water mark.
    fn update_pause(&self) {
        let queued = self.queue.borrow().len();
        if queued > self.high.get() {
            self.paused.set(true);
        } else if self.paused.get() && queued <= self.low.get() {
            self.paused.set(false);
            self.wake_owner();
        }
    }

    fn start_flusher(state: &Rc<Self>) {
        if !state.flushing.replace(true) {
            let flushed = state.clone();
            let task = spawn(async move { poll_fn(|cx| flushed.poll_flush(cx)).await });
            *state.flusher.borrow_mut() = Some(task);
        }
    }

    /// The flusher task: sends the queue as the socket allows, then carries
    /// out a pending `write_eof` or `close`, and ends.
    ///
    /// The queue gives its spare memory back whenever the flusher waits
    /// (the peer is slow) and all of it when the flusher ends (see
    /// `buffer.rs`), so a writer with nothing queued holds no buffer.
    fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let sent = {
                let queue = self.queue.borrow();
                if queue.is_empty() {
                    break;
                }
                self.half.borrow_mut().poll_write(cx, queue.as_slice())
            };
            let Poll::Ready(sent) = sent else {
                self.queue.borrow_mut().release_spare();
                return Poll::Pending;
            };
            match sent {
                Ok(0) => self.fail(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "the socket accepted 0 bytes of a non-empty write",
                )),
                Ok(n) => {
                    self.queue.borrow_mut().consume(n);
                    self.update_pause();
                }
                Err(e) => self.fail(e),
            }
        }
        self.queue.borrow_mut().release_spare();
        self.flushing.set(false);
        self.flusher.borrow_mut().take();
        // An owner flushing through `futures-io` waits for the empty queue.
        self.wake_owner();
        self.finish_if_flushed();
        Poll::Ready(())
    }

    /// Shuts the writing side down if `write_eof` or `close` asked for it
    /// and nothing is left to send.
    fn finish_if_flushed(&self) {
        let wanted = matches!(self.ending.get(), Ending::Eof | Ending::Close);
        if !wanted || self.shut_down.get() || self.flushing.get() || self.error.borrow().is_some() {
            return;
        }
        self.shut_down.set(true);
        // Fails only if the connection is already gone (the peer reset it):
        // then there is nobody left to tell, and `close` is done either way.
        let _ = self.half.borrow().shutdown();
        self.wake_owner();
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::super::connect::unix_streams;
    use crate::net::unix::UnixStream;

    /// The queue takes memory only while bytes wait for the socket, and
    /// gives all of it back once they are sent.
    #[test]
    #[cfg_attr(miri, ignore = "real socket I/O, which miri does not emulate")]
    fn a_drained_writer_holds_no_buffer() {
        crate::run(async {
            let (ours, theirs) = UnixStream::pair().unwrap();
            let (_reader, mut writer) = unix_streams(ours);
            let (mut peer, _peer_writer) = unix_streams(theirs);
            writer.write(b"small").unwrap(); // the kernel takes it at once
            assert_eq!(writer.state.queue.borrow().capacity(), 0);

            let block = vec![7; 4 << 20];
            writer.write(&block).unwrap();
            assert!(writer.state.queue.borrow().capacity() > 0);
            assert_eq!(peer.readexactly(5).await.unwrap(), b"small");
            assert_eq!(peer.readexactly(block.len()).await.unwrap(), block);
            writer.drain().await.unwrap();
            while writer.state.flushing.get() {
                crate::yield_now().await;
            }
            assert_eq!(writer.state.queue.borrow().capacity(), 0);
        });
    }
}
