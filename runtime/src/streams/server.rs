//! [`start_server`], [`start_unix_server`] and [`Server`]: asyncio's
//! stream server, over TCP or a Unix socket.
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
//!
//! The server is written once, generic over its listener ([`Accept`]:
//! a `TcpListener` or a `UnixListener`); the handlers get the same
//! [`StreamReader`] and [`StreamWriter`] types from either.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use weft_primitives::Event;

use super::connect::tcp_streams;
#[cfg(unix)]
use super::connect::unix_streams;
use super::reader::StreamReader;
use super::writer::StreamWriter;
use crate::api::join_handle::JoinHandle;
use crate::api::spawn::spawn;
#[cfg(unix)]
use crate::net::unix::UnixListener;
use crate::net::{TcpListener, ToSocketAddrs};
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
    Server::start(TcpListener::bind(addr).await?, handler)
}

/// Starts a server on a new Unix socket at `path` (asyncio's
/// `start_unix_server`); otherwise as [`start_server`]. The socket file is
/// created by the bind and stays after the server closes; a file already
/// at `path` makes the bind fail with `AddrInUse`, naming the path.
///
/// ```
/// use weft_runtime::streams::{open_unix_connection, start_unix_server, StreamReader, StreamWriter};
///
/// let dir = std::env::temp_dir().join(format!("weft-unix-server-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("upper.sock");
/// weft_runtime::run(async {
///     let server = start_unix_server(
///         |mut reader: StreamReader, mut writer: StreamWriter| async move {
///             let line = reader.readline().await.unwrap();
///             writer.write(&line.to_ascii_uppercase()).unwrap();
///         },
///         &path,
///     )
///     .await
///     .unwrap();
///     assert_eq!(server.local_addr().as_pathname(), Some(path.as_path()));
///     let (mut reader, mut writer) = open_unix_connection(&path).await.unwrap();
///     writer.write(b"quiet\n").unwrap();
///     assert_eq!(reader.readline().await.unwrap(), b"QUIET\n");
///     server.close();
///     server.wait_closed().await;
/// });
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Panics
///
/// Outside a weft runtime.
#[cfg(unix)]
pub async fn start_unix_server<H, F>(
    handler: H,
    path: impl AsRef<std::path::Path>,
) -> io::Result<Server<UnixListener>>
where
    H: Fn(StreamReader, StreamWriter) -> F + 'static,
    F: Future<Output = ()> + 'static,
{
    Server::start(UnixListener::bind(path)?, handler)
}

/// The listeners a [`Server`] accepts on: [`TcpListener`], and
/// [`UnixListener`](crate::net::unix::UnixListener) on Unix. Name it to
/// write code generic over both kinds of server:
///
/// ```
/// use weft_runtime::streams::{start_server, Accept, Server, StreamReader, StreamWriter};
///
/// async fn stop<L: Accept>(server: Server<L>) {
///     println!("stopping the server on {:?}", server.local_addr());
///     server.close();
///     server.wait_closed().await;
/// }
///
/// weft_runtime::run(async {
///     let handler = |_r: StreamReader, _w: StreamWriter| async {};
///     stop(start_server(handler, "127.0.0.1:0").await.unwrap()).await;
/// });
/// ```
pub trait Accept: Sized + 'static {
    /// The listener's address type.
    type Addr: Clone + fmt::Debug + 'static;

    /// The address the listener is bound to.
    fn listening_on(&self) -> io::Result<Self::Addr>;

    /// The next connection, as a reader and a writer.
    fn poll_accept_streams(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(StreamReader, StreamWriter)>>;
}

impl Accept for TcpListener {
    type Addr = SocketAddr;

    fn listening_on(&self) -> io::Result<SocketAddr> {
        self.local_addr()
    }

    fn poll_accept_streams(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(StreamReader, StreamWriter)>> {
        self.poll_accept(cx)
            .map_ok(|(stream, _peer)| tcp_streams(stream))
    }
}

#[cfg(unix)]
impl Accept for UnixListener {
    type Addr = std::os::unix::net::SocketAddr;

    fn listening_on(&self) -> io::Result<Self::Addr> {
        self.local_addr()
    }

    fn poll_accept_streams(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(StreamReader, StreamWriter)>> {
        self.poll_accept(cx)
            .map_ok(|(stream, _peer)| unix_streams(stream))
    }
}

/// A running stream server, from [`start_server`] (`Server`, on a
/// `TcpListener`) or [`start_unix_server`] (`Server<UnixListener>`).
/// Dropping it closes it (the handlers still running carry on).
pub struct Server<L: Accept = TcpListener> {
    shared: Rc<ServerShared<L>>,
}

/// What the server handle, the accept task and the handler guards share.
struct ServerShared<L: Accept> {
    /// `None` once closed.
    listener: RefCell<Option<L>>,
    accept_task: RefCell<Option<JoinHandle<()>>>,
    local_addr: L::Addr,
    /// Handler tasks alive.
    handlers: Cell<usize>,
    /// Set by `close`.
    closed: Event,
    /// Set once closed and no handler is alive.
    finished: Event,
}

impl<L: Accept> Server<L> {
    /// Serves `listener`: spawns the accept task, which calls `handler`
    /// for each connection.
    fn start<H, F>(listener: L, handler: H) -> io::Result<Self>
    where
        H: Fn(StreamReader, StreamWriter) -> F + 'static,
        F: Future<Output = ()> + 'static,
    {
        let local_addr = listener.listening_on()?;
        let shared = Rc::new(ServerShared {
            listener: RefCell::new(Some(listener)),
            accept_task: RefCell::new(None),
            local_addr,
            handlers: Cell::new(0),
            closed: Event::new(),
            finished: Event::new(),
        });
        let accept_task = crate::spawn(accept_loop(shared.clone(), handler));
        *shared.accept_task.borrow_mut() = Some(accept_task);
        Ok(Server { shared })
    }

    /// The address the server listens on (with the port the OS picked, if
    /// it was 0).
    pub fn local_addr(&self) -> L::Addr {
        self.shared.local_addr.clone()
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
        struct CloseOnDrop<'a, L: Accept>(&'a Server<L>);
        impl<L: Accept> Drop for CloseOnDrop<'_, L> {
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

impl<L: Accept> Drop for Server<L> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<L: Accept> fmt::Debug for Server<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.shared.local_addr)
            .field("serving", &self.is_serving())
            .field("handlers", &self.shared.handlers.get())
            .finish()
    }
}

impl<L: Accept> ServerShared<L> {
    fn finish_if_idle(&self) {
        if self.closed.is_set() && self.handlers.get() == 0 {
            self.finished.set();
        }
    }
}

/// Counts one handler task as alive for as long as it exists: it is
/// dropped when the task's future ends, panics or is aborted.
struct HandlerGuard<L: Accept>(Rc<ServerShared<L>>);

impl<L: Accept> HandlerGuard<L> {
    fn new(shared: Rc<ServerShared<L>>) -> Self {
        shared.handlers.set(shared.handlers.get() + 1);
        Self(shared)
    }
}

impl<L: Accept> Drop for HandlerGuard<L> {
    fn drop(&mut self) {
        self.0.handlers.set(self.0.handlers.get() - 1);
        self.0.finish_if_idle();
    }
}

async fn accept_loop<L: Accept, H, F>(shared: Rc<ServerShared<L>>, handler: H)
where
    H: Fn(StreamReader, StreamWriter) -> F,
    F: Future<Output = ()> + 'static,
{
    loop {
        let accepted = poll_fn(|cx| match &mut *shared.listener.borrow_mut() {
            Some(listener) => listener.poll_accept_streams(cx).map(Some),
            None => Poll::Ready(None),
        })
        .await;
        match accepted {
            None => return,
            Some(Ok((reader, writer))) => spawn_handler(&shared, &handler, reader, writer),
            Some(Err(e)) if is_per_connection(&e) => {}
            Some(Err(e)) => {
                eprintln!(
                    "weft: server on {:?} failed to accept a connection: {e}; retrying in {:?}",
                    shared.local_addr, ACCEPT_RETRY_DELAY
                );
                sleep(ACCEPT_RETRY_DELAY).await;
            }
        }
    }
}

fn spawn_handler<L: Accept, H, F>(
    shared: &Rc<ServerShared<L>>,
    handler: &H,
    reader: StreamReader,
    writer: StreamWriter,
) where
    H: Fn(StreamReader, StreamWriter) -> F,
    F: Future<Output = ()> + 'static,
{
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
