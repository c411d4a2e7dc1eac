//! [`start_server`] and [`Server`]: asyncio's stream server.
//!
//! An accept task takes connections off the listener and spawns one
//! handler task per connection, handing it a reader and a writer. The
//! server counts the handlers that are alive, so that it can tell when the
//! last one is gone:
//!
//! ```text
//!   start_server ──▶ accept task ──▶ spawn handler(reader, writer) ──▶ … ──▶ handler ends: count - 1
//!                        │                                                        │
//!   close() ─────────────┴──▶ listener dropped (new connections refused)          │
//!                             accept task aborted, `closed` set                   │
//!                                                                                 ▼
//!   wait_closed() ◀───────────────────── `finished` set once closed and the count is 0
//! ```
//!
//! `close` stops accepting at once (the listening socket is closed before
//! `close` returns), but does not touch the running handlers: they finish
//! their connections, as in asyncio, and `wait_closed` waits for them. A
//! handler that panics or is aborted counts as finished too (the count is
//! kept by a guard that lives in the handler's task).
//!
//! A failing `accept` never stops the server. Errors that concern one
//! connection (it was aborted or reset while queued) are skipped; an error
//! about the process (out of file descriptors, out of memory) is reported on
//! stderr and accepting pauses for [`ACCEPT_RETRY_DELAY`], so the loop does
//! not spin while the shortage lasts (asyncio does the same).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use weft_primitives::Event;

use super::connection::into_streams;
use super::reader::StreamReader;
use super::writer::StreamWriter;
use crate::api::join_handle::JoinHandle;
use crate::api::spawn::spawn;
use crate::net::{TcpListener, TcpStream};
use crate::time::sleep;

/// How long accepting pauses after an error such as running out of file
/// descriptors.
pub const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(100);

/// Starts a TCP server on `addr` that calls `handler(reader, writer)` for
/// each connection, in a task of its own (asyncio's `start_server`). The
/// server is accepting when this returns; keep the [`Server`]: dropping it
/// closes it.
///
/// When the handler's future ends, its reader and writer are dropped: the
/// writer's queued bytes are still sent, then the connection is closed.
///
/// ```
/// use weft_runtime::streams::{open_connection, start_server, StreamReader, StreamWriter};
///
/// weft_runtime::run(async {
///     let server = start_server(
///         |mut reader: StreamReader, mut writer: StreamWriter| async move {
///             while let Ok(line) = reader.readline().await {
///                 if line.is_empty() {
///                     break; // end of stream
///                 }
///                 writer.write(&line.to_ascii_uppercase()).unwrap();
///                 if writer.drain().await.is_err() {
///                     break;
///                 }
///             }
///         },
///         "127.0.0.1:0",
///     )
///     .await
///     .unwrap();
///
///     let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
///     writer.write(b"hello\n").unwrap();
///     assert_eq!(reader.readline().await.unwrap(), b"HELLO\n");
///
///     server.close();
///     drop((reader, writer)); // the handler sees end of stream and returns
///     server.wait_closed().await;
/// });
/// ```
///
/// # Panics
///
/// Outside a weft runtime.
pub async fn start_server<H, F>(handler: H, addr: impl ToSocketAddrs) -> io::Result<Server>
where
    H: Fn(StreamReader, StreamWriter) -> F + 'static,
    F: Future<Output = ()> + 'static,
{
    let listener = TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    let shared = Rc::new(ServerShared {
        listener: RefCell::new(Some(listener)),
        accept_task: RefCell::new(None),
        local_addr,
        handlers: Cell::new(0),
        closed: Event::new(),
        finished: Event::new(),
    });
    let accept_task = spawn(accept_loop(shared.clone(), handler));
    *shared.accept_task.borrow_mut() = Some(accept_task);
    Ok(Server { shared })
}

/// A running stream server, from [`start_server`]. Dropping it closes it
/// (the handlers still running carry on).
pub struct Server {
    shared: Rc<ServerShared>,
}

/// What the server handle, the accept task and the handler guards share.
struct ServerShared {
    /// `None` once closed.
    listener: RefCell<Option<TcpListener>>,
    accept_task: RefCell<Option<JoinHandle<()>>>,
    local_addr: SocketAddr,
    /// Handler tasks alive.
    handlers: Cell<usize>,
    /// Set by `close`.
    closed: Event,
    /// Set once closed and no handler is alive.
    finished: Event,
}

impl Server {
    /// The address the server listens on (with the port the OS picked, if
    /// it was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// Whether the server accepts connections (until [`close`](Server::close)).
    pub fn is_serving(&self) -> bool {
        !self.shared.closed.is_set()
    }

    /// Waits until the server is closed (by [`close`](Server::close), from
    /// another task or a handler).
    ///
    /// As in asyncio, cancelling `serve_forever` closes the server: if this
    /// future is dropped before the server closed, it closes it. So
    /// `select(server.serve_forever(), shutdown_signal)` stops accepting
    /// when the signal wins.
    pub async fn serve_forever(&self) {
        struct CloseOnDrop<'a>(&'a Server);
        impl Drop for CloseOnDrop<'_> {
            fn drop(&mut self) {
                self.0.close();
            }
        }
        let _close_on_drop = CloseOnDrop(self);
        self.shared.closed.wait().await;
    }

    /// Stops accepting: the listening socket is closed before this returns,
    /// so new connections are refused. Running handlers are not touched.
    /// Closing twice does nothing.
    pub fn close(&self) {
        // Dropped outside the borrows.
        let listener = self.shared.listener.borrow_mut().take();
        let accept_task = self.shared.accept_task.borrow_mut().take();
        drop(listener);
        if let Some(task) = accept_task {
            task.abort();
        }
        self.shared.closed.set();
        self.shared.finish_if_idle();
    }

    /// Waits until the server is closed and every handler has finished
    /// (asyncio 3.12's `wait_closed`). Before `close` it waits for `close`
    /// too.
    pub async fn wait_closed(&self) {
        self.shared.finished.wait().await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.close();
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.shared.local_addr)
            .field("serving", &self.is_serving())
            .field("handlers", &self.shared.handlers.get())
            .finish()
    }
}

impl ServerShared {
    fn finish_if_idle(&self) {
        if self.closed.is_set() && self.handlers.get() == 0 {
            self.finished.set();
        }
    }
}

/// Counts one handler task as alive for as long as it exists: it is
/// dropped when the task's future ends, panics or is aborted.
struct HandlerGuard(Rc<ServerShared>);

impl HandlerGuard {
    fn new(shared: Rc<ServerShared>) -> Self {
        shared.handlers.set(shared.handlers.get() + 1);
        Self(shared)
    }
}

impl Drop for HandlerGuard {
    fn drop(&mut self) {
        self.0.handlers.set(self.0.handlers.get() - 1);
        self.0.finish_if_idle();
    }
}

async fn accept_loop<H, F>(shared: Rc<ServerShared>, handler: H)
where
    H: Fn(StreamReader, StreamWriter) -> F,
    F: Future<Output = ()> + 'static,
{
    loop {
        let accepted = poll_fn(|cx| match &mut *shared.listener.borrow_mut() {
            Some(listener) => listener.poll_accept(cx).map(Some),
            None => Poll::Ready(None),
        })
        .await;
        match accepted {
            None => return,
            Some(Ok((stream, _peer))) => spawn_handler(&shared, &handler, stream),
            Some(Err(e)) if is_per_connection(&e) => {}
            Some(Err(e)) => {
                eprintln!(
                    "weft: server on {} failed to accept a connection: {e}; retrying in {:?}",
                    shared.local_addr, ACCEPT_RETRY_DELAY
                );
                sleep(ACCEPT_RETRY_DELAY).await;
            }
        }
    }
}

fn spawn_handler<H, F>(shared: &Rc<ServerShared>, handler: &H, stream: TcpStream)
where
    H: Fn(StreamReader, StreamWriter) -> F,
    F: Future<Output = ()> + 'static,
{
    let (reader, writer) = into_streams(stream);
    let guard = HandlerGuard::new(shared.clone());
    let connection = handler(reader, writer);
    spawn(async move {
        let _guard = guard;
        connection.await;
    });
}

/// Accept errors that concern one queued connection, not the listener.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    )
}
