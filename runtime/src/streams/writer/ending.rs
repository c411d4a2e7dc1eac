//! How a writer's connection ends other than by `close`: a reset
//! ([`StreamWriter::abort`]), a server ending it from outside through a
//! weak [`WriterControl`], and the transport handed back for
//! [`StreamReader::reunite`](crate::streams::StreamReader::reunite).

use std::rc::{Rc, Weak};

use super::{ByteBuf, Ending, StreamWriter, WriteState};
use crate::streams::transport::{Closer, WriteSide};

impl StreamWriter {
    /// Resets the connection at once (asyncio's `transport.abort()`):
    /// queued bytes are discarded, the background flusher stops, this
    /// connection's [`StreamReader`](crate::streams::StreamReader) reads end of
    /// stream from now on (the reading side is shut down), and later
    /// writes fail. The reset itself (TCP RST, with `SO_LINGER` 0; no FIN
    /// before it) goes out when the socket is released: once the reader
    /// and this writer are both dropped. [`wait_closed`](StreamWriter::wait_closed)
    /// then returns `Ok` at once.
    ///
    /// Aborting after [`close`](StreamWriter::close) is how a close that
    /// waits on a peer who does not read is cut short: what is still
    /// queued is dropped. Aborting twice does nothing, and so does `close`
    /// after `abort`.
    ///
    /// ```
    /// use weft_runtime::streams::{open_connection, start_server, StreamReader, StreamWriter};
    ///
    /// weft_runtime::run(async {
    ///     let server = start_server(
    ///         |mut reader: StreamReader, _writer: StreamWriter| async move {
    ///             // The client's reset shows up as an error (or, on some
    ///             // systems, as end of stream).
    ///             let _ = reader.read(10).await;
    ///         },
    ///         "127.0.0.1:0",
    ///     )
    ///     .await
    ///     .unwrap();
    ///     let (reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
    ///     writer.abort();
    ///     assert!(writer.is_closing());
    ///     assert!(writer.write(b"too late").is_err());
    ///     writer.wait_closed().await.unwrap();
    ///     drop((reader, writer)); // the socket is released: RST
    ///     server.close();
    ///     server.wait_closed().await;
    /// });
    /// ```
    pub fn abort(&mut self) {
        self.state.abort();
    }

    /// A handle with which a server closes or aborts this writer without
    /// owning it; it does not keep the writer alive.
    pub(in crate::streams) fn control(&self) -> WriterControl {
        WriterControl(Rc::downgrade(&self.state))
    }

    /// A handle on this connection's socket (see `transport::Closer`).
    pub(in crate::streams) fn closer(&self) -> Closer {
        self.state.half.borrow().closer()
    }
}

/// What `reunite` takes apart.
impl StreamWriter {
    /// Why the writer cannot hand its transport back now, if it cannot.
    pub(in crate::streams) fn check_idle(&self) -> Result<(), String> {
        if let Some(e) = self.state.error() {
            return Err(format!("the connection failed: {e}"));
        }
        if self.state.ending.get() == Ending::Abort {
            return Err("the writer was aborted".to_string());
        }
        let queued = self.write_buffer_size();
        if queued > 0 {
            return Err(format!(
                "{queued} bytes are still queued; send them first \
                 (set_write_buffer_limits(0, 0), then drain())"
            ));
        }
        if Rc::strong_count(&self.state) != 1 {
            return Err("the writer's flusher task has not finished yet".to_string());
        }
        Ok(())
    }

    /// Runs `f` on the transport.
    pub(in crate::streams) fn with_side<R>(&self, f: impl FnOnce(&WriteSide) -> R) -> R {
        f(&self.state.half.borrow())
    }

    /// The transport, after [`check_idle`](Self::check_idle) passed.
    pub(in crate::streams) fn into_side(self) -> WriteSide {
        let state = Rc::into_inner(self.state).expect("check_idle: no flusher holds the state");
        state.half.into_inner()
    }
}

/// A weak handle on a writer, for a server that closes its clients: it
/// reaches the writer while the writer (or its flusher) lives, and does
/// nothing after.
pub(in crate::streams) struct WriterControl(Weak<WriteState>);

impl WriterControl {
    /// `StreamWriter::close`, if the writer is alive; whether it was.
    pub(in crate::streams) fn close(&self) -> bool {
        self.0.upgrade().map(|state| state.close()).is_some()
    }

    /// `StreamWriter::abort`, if the writer is alive; whether it was.
    pub(in crate::streams) fn abort(&self) -> bool {
        self.0.upgrade().map(|state| state.abort()).is_some()
    }
}

impl WriteState {
    /// See `StreamWriter::abort`.
    fn abort(&self) {
        if self.ending.replace(Ending::Abort) == Ending::Abort {
            return;
        }
        *self.queue.borrow_mut() = ByteBuf::new();
        self.paused.set(false);
        self.flushing.set(false);
        let flusher = self.flusher.borrow_mut().take();
        if let Some(task) = flusher {
            task.abort();
        }
        // Fails only if the connection is already gone: nothing to reset.
        let _ = self.half.borrow().abort();
        self.wake_owner();
    }
}
