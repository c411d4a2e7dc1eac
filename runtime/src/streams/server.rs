//! [`start_server`], [`start_unix_server`] and [`Server`]: asyncio's
//! stream server, over TCP or a Unix socket.
//!
//! An accept task takes connections off the listener and spawns one
//! handler task per connection, handing it a reader and a writer. The
//! server keeps a record of each live connection (see `server_handle.rs`),
//! so that it can tell when the last one is gone, and close them all:
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
//! their connections, as in asyncio, and `wait_closed` waits for them;
//! `close_clients` and `abort_clients` end the connections so that this
//! wait is bounded. A handler that panics or is aborted counts as finished
//! too (the record is kept by a guard that lives in the handler's task).
//! A handler may return `()` or `Result<(), E>`; an error or a panic goes
//! to the server's failure hook and is counted (see `handler.rs`), and
//! never reaches the accept task or the other handlers.
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

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::ops::Deref;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::connect::tcp_streams;
#[cfg(unix)]
use super::connect::unix_streams;
use super::handler::{supervise, HandlerOutput};
use super::options::{check_limit, ServerOptions};
use super::reader::StreamReader;
use super::server_handle::{ClientGuard, ServerHandle, ServerShared, StartAccepting};
use super::writer::StreamWriter;
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
    F: Future + 'static,
    F::Output: HandlerOutput,
{
    start_server_with(handler, addr, ServerOptions::default()).await
}

/// [`start_server`] with [`ServerOptions`]: the readers' limit, the
/// backlog, `SO_REUSEPORT`, starting later, the failure hook. Options out
/// of range (a limit of 0) are refused with an `InvalidInput` error before
/// binding.
///
/// ```
/// use weft_runtime::streams::{open_connection, start_server_with, ServerOptions, StreamReader, StreamWriter};
///
/// weft_runtime::run(async {
///     let server = start_server_with(
///         |reader: StreamReader, _w: StreamWriter| async move {
///             assert_eq!(reader.limit(), 512);
///         },
///         "127.0.0.1:0",
///         ServerOptions::new().limit(512).backlog(64),
///     )
///     .await
///     .unwrap();
///     let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
///     assert_eq!(reader.read(1).await.unwrap(), b"");
///     assert_eq!(server.handler_failures(), 0);
/// });
/// ```
///
/// # Panics
///
/// Outside a weft runtime.
pub async fn start_server_with<H, F>(
    handler: H,
    addr: impl ToSocketAddrs,
    options: ServerOptions,
) -> io::Result<Server>
where
    H: Fn(StreamReader, StreamWriter) -> F + 'static,
    F: Future + 'static,
    F::Output: HandlerOutput,
{
    check_limit(options.limit, "start_server_with")?;
    let listener = TcpListener::bind_with(addr, &options.listen).await?;
    Server::from_listener(listener, handler, options)
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
    F: Future + 'static,
    F::Output: HandlerOutput,
{
    start_unix_server_with(handler, path, ServerOptions::default()).await
}

/// [`start_unix_server`] with [`ServerOptions`] (the listen options do not
/// apply to a Unix socket; the rest does).
///
/// ```
/// use weft_runtime::streams::{start_unix_server_with, ServerOptions, StreamReader, StreamWriter};
///
/// let dir = std::env::temp_dir().join(format!("weft-unix-server-with-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("later.sock");
/// weft_runtime::run(async {
///     let handler = |_r: StreamReader, _w: StreamWriter| async {};
///     let options = ServerOptions::new().start_serving(false);
///     let server = start_unix_server_with(handler, &path, options).await.unwrap();
///     assert!(!server.is_serving());
/// });
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Panics
///
/// Outside a weft runtime.
#[cfg(unix)]
pub async fn start_unix_server_with<H, F>(
    handler: H,
    path: impl AsRef<std::path::Path>,
    options: ServerOptions,
) -> io::Result<Server<UnixListener>>
where
    H: Fn(StreamReader, StreamWriter) -> F + 'static,
    F: Future + 'static,
    F::Output: HandlerOutput,
{
    check_limit(options.limit, "start_unix_server_with")?;
    Server::from_listener(UnixListener::bind(path)?, handler, options)
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

    /// The next connection, as a reader and a writer, with the peer's
    /// address.
    fn poll_accept_streams(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(StreamReader, StreamWriter, Self::Addr)>>;
}

impl Accept for TcpListener {
    type Addr = SocketAddr;

    fn listening_on(&self) -> io::Result<SocketAddr> {
        self.local_addr()
    }

    fn poll_accept_streams(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(StreamReader, StreamWriter, SocketAddr)>> {
        self.poll_accept(cx).map_ok(|(stream, peer)| {
            let (reader, writer) = tcp_streams(stream);
            (reader, writer, peer)
        })
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
    ) -> Poll<io::Result<(StreamReader, StreamWriter, Self::Addr)>> {
        self.poll_accept(cx).map_ok(|(stream, peer)| {
            let (reader, writer) = unix_streams(stream);
            (reader, writer, peer)
        })
    }
}

/// A running stream server, from [`start_server`] (`Server`, on a
/// `TcpListener`), [`start_unix_server`] (`Server<UnixListener>`) or
/// [`Server::from_listener`]. Dropping it closes it (the handlers still
/// running carry on).
///
/// A `Server` derefs to its [`ServerHandle`], where its methods live
/// (`close`, `close_clients`, `connections`, ...); [`handle`](Server::handle)
/// gives a clonable copy of that handle for other tasks. The `Server`
/// itself only adds closing on drop.
pub struct Server<L: Accept = TcpListener> {
    handle: ServerHandle<L>,
}

impl<L: Accept> Server<L> {
    /// Serves an existing listener (asyncio's `sock=`): a socket bound and
    /// set up by the caller, perhaps inherited from a parent process or
    /// made with [`TcpListener::bind_with`]. `options`' listen options are
    /// not used (the socket is listening already); the rest is.
    ///
    /// ```
    /// use weft_runtime::net::TcpListener;
    /// use weft_runtime::streams::{open_connection, Server, ServerOptions, StreamReader, StreamWriter};
    ///
    /// weft_runtime::run(async {
    ///     let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let listener = TcpListener::from_std(std_listener).unwrap();
    ///     let server = Server::from_listener(
    ///         listener,
    ///         |_r: StreamReader, mut w: StreamWriter| async move { w.write(b"hi\n").unwrap() },
    ///         ServerOptions::new(),
    ///     )
    ///     .unwrap();
    ///     let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
    ///     assert_eq!(reader.readline().await.unwrap(), b"hi\n");
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub fn from_listener<H, F>(listener: L, handler: H, options: ServerOptions) -> io::Result<Self>
    where
        H: Fn(StreamReader, StreamWriter) -> F + 'static,
        F: Future + 'static,
        F::Output: HandlerOutput,
    {
        check_limit(options.limit, "Server::from_listener")?;
        let handler = Rc::new(handler);
        let start: StartAccepting<L> = Box::new(move |shared| spawn(accept_loop(shared, handler)));
        let shared = ServerShared::new(listener, options.limit, options.on_failure, start)?;
        let handle = ServerHandle { shared };
        if options.start_serving {
            handle.start_serving()?;
        }
        Ok(Server { handle })
    }

    /// A clonable handle on this server, for a handler or another task:
    /// it can close the server, its clients, and count its connections,
    /// but dropping it does not close anything.
    pub fn handle(&self) -> ServerHandle<L> {
        self.handle.clone()
    }
}

impl<L: Accept> Deref for Server<L> {
    type Target = ServerHandle<L>;

    fn deref(&self) -> &ServerHandle<L> {
        &self.handle
    }
}

impl<L: Accept> Drop for Server<L> {
    fn drop(&mut self) {
        self.handle.close();
    }
}

impl<L: Accept> fmt::Debug for Server<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.handle.fmt(f)
    }
}

async fn accept_loop<L: Accept, H, F>(shared: Rc<ServerShared<L>>, handler: Rc<H>)
where
    H: Fn(StreamReader, StreamWriter) -> F + 'static,
    F: Future + 'static,
    F::Output: HandlerOutput,
{
    loop {
        let accepted = poll_fn(|cx| match &mut *shared.listener.borrow_mut() {
            Some(listener) => listener.poll_accept_streams(cx).map(Some),
            None => Poll::Ready(None),
        })
        .await;
        match accepted {
            None => return,
            Some(Ok((reader, writer, peer))) => {
                spawn_handler(&shared, handler.clone(), reader, writer, peer)
            }
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

/// Spawns one connection's handler task. The handler is called inside the
/// task, so a panic while it builds its future is caught like any other.
fn spawn_handler<L: Accept, H, F>(
    shared: &Rc<ServerShared<L>>,
    handler: Rc<H>,
    mut reader: StreamReader,
    writer: StreamWriter,
    peer: L::Addr,
) where
    H: Fn(StreamReader, StreamWriter) -> F + 'static,
    F: Future + 'static,
    F::Output: HandlerOutput,
{
    // Checked when the server started: a limit of at least 1 is accepted.
    let _ = reader.set_limit(shared.limit);
    let guard = ClientGuard::new(shared, &writer);
    spawn(async move {
        if let Some(failed) = supervise(async move { handler(reader, writer).await }).await {
            guard.server().report(&peer, failed);
        }
        drop(guard);
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
