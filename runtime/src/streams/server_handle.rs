//! [`ServerHandle`]: the operations on a running stream server, and the
//! state its handle, its accept task and its handler tasks share.
//!
//! The server keeps a record of every live connection: weak handles on
//! its writer and on its socket (the record keeps neither alive). That is what lets it count the
//! connections, and close or reset them all at shutdown (asyncio 3.13's
//! `close_clients` and `abort_clients`) even while their handlers wait on
//! idle peers:
//!
//! ```text
//!   close_clients(): for each connection ─▶ writer.close()  (queued bytes are sent, then FIN)
//!                                        └─▶ shutdown(read)  (the handler's reader sees end of stream now)
//!   abort_clients(): for each connection ─▶ writer.abort()  (queue dropped, flusher stopped, SO_LINGER 0)
//!                                        └─▶ shutdown(read)  (the handler's reader sees end of stream now)
//!                                             …handler returns, drops reader and writer ─▶ socket closed (RST)
//! ```
//!
//! Neither touches the handler tasks themselves: a handler learns of the
//! end from its reader (end of stream) or its writer (writes fail), and
//! returns, as in asyncio, where the reader is fed EOF. A record lives as
//! long as its handler task (a guard in the task removes it), so
//! [`connections`](ServerHandle::connections) counts handlers alive and
//! [`wait_closed`](ServerHandle::wait_closed) waits for the last one.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::net::Shutdown;
use std::rc::Rc;

use slab::Slab;
use weft_primitives::Event;

use super::handler::{FailureHook, HandlerFailure};
use super::server::Accept;
use super::transport::Closer;
use super::writer::{StreamWriter, WriterControl};
use crate::api::join_handle::JoinHandle;

/// Starts a server's accept task (kept until `start_serving`).
pub(super) type StartAccepting<L> = Box<dyn FnOnce(Rc<ServerShared<L>>) -> JoinHandle<()>>;

/// What the server handles, the accept task and the handler guards share.
pub(super) struct ServerShared<L: Accept> {
    /// `None` once closed.
    pub(super) listener: RefCell<Option<L>>,
    /// Set while accepting.
    accept_task: RefCell<Option<JoinHandle<()>>>,
    /// Set until the server starts accepting (or closes).
    start: RefCell<Option<StartAccepting<L>>>,
    pub(super) local_addr: L::Addr,
    pub(super) limit: usize,
    /// One record per live connection (per handler task).
    clients: RefCell<Slab<Client>>,
    failures: Cell<u64>,
    on_failure: FailureHook,
    /// Set by `close`.
    closed: Event,
    /// Set once closed and no handler is alive.
    finished: Event,
}

/// A live connection, as the server sees it.
struct Client {
    writer: WriterControl,
    socket: Closer,
}

impl<L: Accept> ServerShared<L> {
    pub(super) fn new(
        listener: L,
        limit: usize,
        on_failure: FailureHook,
        start: StartAccepting<L>,
    ) -> io::Result<Rc<Self>> {
        Ok(Rc::new(ServerShared {
            local_addr: listener.listening_on()?,
            listener: RefCell::new(Some(listener)),
            accept_task: RefCell::new(None),
            start: RefCell::new(Some(start)),
            limit,
            clients: RefCell::new(Slab::new()),
            failures: Cell::new(0),
            on_failure,
            closed: Event::new(),
            finished: Event::new(),
        }))
    }

    fn finish_if_idle(&self) {
        if self.closed.is_set() && self.clients.borrow().is_empty() {
            self.finished.set();
        }
    }

    /// Counts a handler's failure and hands it to the hook.
    pub(super) fn report(&self, peer: &L::Addr, failed: (bool, String)) {
        self.failures.set(self.failures.get() + 1);
        let server = format!("{:?}", self.local_addr);
        (self.on_failure)(&HandlerFailure::new(server, format!("{peer:?}"), failed));
    }
}

/// Records one connection for as long as its handler task exists: it is
/// dropped when the task's future ends, panics or is aborted.
pub(super) struct ClientGuard<L: Accept> {
    shared: Rc<ServerShared<L>>,
    key: usize,
}

impl<L: Accept> ClientGuard<L> {
    pub(super) fn new(shared: &Rc<ServerShared<L>>, writer: &StreamWriter) -> Self {
        let client = Client {
            writer: writer.control(),
            socket: writer.closer(),
        };
        let key = shared.clients.borrow_mut().insert(client);
        Self {
            shared: shared.clone(),
            key,
        }
    }

    pub(super) fn server(&self) -> &ServerShared<L> {
        &self.shared
    }
}

impl<L: Accept> Drop for ClientGuard<L> {
    fn drop(&mut self) {
        // Dropped outside the borrow.
        let client = self.shared.clients.borrow_mut().remove(self.key);
        drop(client);
        self.shared.finish_if_idle();
    }
}

/// A cheap, clonable handle on a running server, from
/// [`Server::handle`](super::Server::handle): everything a [`Server`](super::Server)
/// does except closing on drop, so a handler or a shutdown task can hold
/// one. (A `Server` derefs to its handle: the methods live here.)
///
/// ```
/// use std::cell::OnceCell;
/// use std::rc::Rc;
/// use weft_runtime::streams::{
///     open_connection, start_server_with, ServerHandle, ServerOptions, StreamReader, StreamWriter,
/// };
///
/// weft_runtime::run(async {
///     // A handler that shuts the server down on request: it gets the
///     // handle through a cell filled before the server starts accepting.
///     let slot: Rc<OnceCell<ServerHandle>> = Rc::new(OnceCell::new());
///     let handle = slot.clone();
///     let server = start_server_with(
///         move |mut reader: StreamReader, _writer: StreamWriter| {
///             let server = handle.get().unwrap().clone();
///             async move {
///                 if reader.readline().await.unwrap() == b"shutdown\n" {
///                     server.close();
///                 }
///             }
///         },
///         "127.0.0.1:0",
///         ServerOptions::new().start_serving(false),
///     )
///     .await
///     .unwrap();
///     slot.set(server.handle()).unwrap();
///     server.start_serving().unwrap();
///
///     let (_reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
///     writer.write(b"shutdown\n").unwrap();
///     server.serve_forever().await; // returns once the handler closed it
///     assert!(!server.is_serving());
/// });
/// ```
pub struct ServerHandle<L: Accept = crate::net::TcpListener> {
    pub(super) shared: Rc<ServerShared<L>>,
}

impl<L: Accept> Clone for ServerHandle<L> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<L: Accept> ServerHandle<L> {
    /// The address the server listens on (with the port the OS picked, if
    /// it was 0).
    pub fn local_addr(&self) -> L::Addr {
        self.shared.local_addr.clone()
    }

    /// Whether the server accepts connections: from the start (or from
    /// [`start_serving`](ServerHandle::start_serving)) until
    /// [`close`](ServerHandle::close).
    pub fn is_serving(&self) -> bool {
        self.shared.accept_task.borrow().is_some()
    }

    /// Starts accepting, for a server started with
    /// [`ServerOptions::start_serving`](super::ServerOptions::start_serving)`(false)`;
    /// connections that waited in the backlog are accepted first. Does
    /// nothing if the server is accepting already; after
    /// [`close`](ServerHandle::close) it fails with an `InvalidInput`
    /// error (the listening socket is gone).
    pub fn start_serving(&self) -> io::Result<()> {
        let start = self.shared.start.borrow_mut().take();
        if let Some(start) = start {
            let task = start(self.shared.clone());
            *self.shared.accept_task.borrow_mut() = Some(task);
        } else if self.shared.closed.is_set() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "start_serving: the server on {:?} is closed",
                    self.shared.local_addr
                ),
            ));
        }
        Ok(())
    }

    /// Starts accepting if the server is not yet, then waits until it is
    /// closed (by [`close`](ServerHandle::close), from another task or a
    /// handler).
    ///
    /// As in asyncio, cancelling `serve_forever` closes the server: if this
    /// future is dropped before the server closed, it closes it. So
    /// `select(server.serve_forever(), shutdown_signal)` stops accepting
    /// when the signal wins.
    pub async fn serve_forever(&self) {
        struct CloseOnDrop<'a, L: Accept>(&'a ServerHandle<L>);
        impl<L: Accept> Drop for CloseOnDrop<'_, L> {
            fn drop(&mut self) {
                self.0.close();
            }
        }
        // Fails only when the server is closed: then there is no wait.
        let _ = self.start_serving();
        let _close_on_drop = CloseOnDrop(self);
        self.shared.closed.wait().await;
    }

    /// Stops accepting: the listening socket is closed before this returns,
    /// so new connections are refused. Running handlers are not touched
    /// (see [`close_clients`](ServerHandle::close_clients)). Closing twice
    /// does nothing.
    pub fn close(&self) {
        // Dropped outside the borrows.
        let listener = self.shared.listener.borrow_mut().take();
        let accept_task = self.shared.accept_task.borrow_mut().take();
        let start = self.shared.start.borrow_mut().take();
        drop((listener, start));
        if let Some(task) = accept_task {
            task.abort();
        }
        self.shared.closed.set();
        self.shared.finish_if_idle();
    }

    /// Closes every live connection (asyncio 3.13's `close_clients`): each
    /// connection's writer is closed, so what it has queued is still sent
    /// and then FIN follows, and each connection's reading side is shut
    /// down now, so its handler's reader sees end of stream at once, even
    /// with an idle peer. A handler that returns on end of stream then
    /// ends, and with it the connection; the socket is released when the
    /// handler's reader, writer and the writer's queue are gone. Handlers
    /// are not cancelled.
    ///
    /// It does not stop accepting: call [`close`](ServerHandle::close)
    /// first, so no connection arrives after it. Then
    /// [`wait_closed`](ServerHandle::wait_closed) returns once the handlers
    /// have finished.
    ///
    /// ```
    /// use weft_runtime::streams::{open_connection, start_server, StreamReader, StreamWriter};
    ///
    /// weft_runtime::run(async {
    ///     let server = start_server(
    ///         |mut reader: StreamReader, _writer: StreamWriter| async move {
    ///             // A keep-alive loop: waits on its peer for ever.
    ///             while !reader.readline().await.unwrap_or_default().is_empty() {}
    ///         },
    ///         "127.0.0.1:0",
    ///     )
    ///     .await
    ///     .unwrap();
    ///     let (mut idle_reader, _idle_writer) = open_connection(server.local_addr()).await.unwrap();
    ///     while server.connections() == 0 {
    ///         weft_runtime::yield_now().await;
    ///     }
    ///     server.close();
    ///     server.close_clients();
    ///     server.wait_closed().await; // bounded, though the client never left
    ///     assert_eq!(idle_reader.read(1).await.unwrap(), b""); // the server's FIN
    /// });
    /// ```
    pub fn close_clients(&self) {
        for (_, client) in self.shared.clients.borrow().iter() {
            client.writer.close();
            // Fails only if the connection is already gone.
            let _ = client.socket.shutdown(Shutdown::Read);
        }
    }

    /// Resets every live connection (asyncio 3.13's `abort_clients`): each
    /// connection's queued bytes are discarded and its writer aborted (see
    /// [`StreamWriter::abort`](super::StreamWriter::abort)), its handler's
    /// reader sees end of stream at once, and the socket is closed with
    /// `SO_LINGER` 0 (TCP RST) when it is released. For a handler that had
    /// already dropped its writer (its FIN went out then), the reset
    /// follows that FIN. Handlers are not cancelled.
    ///
    /// ```
    /// use weft_runtime::streams::{open_connection, start_server, StreamReader, StreamWriter};
    ///
    /// weft_runtime::run(async {
    ///     let server = start_server(
    ///         |mut reader: StreamReader, mut writer: StreamWriter| async move {
    ///             writer.write(&vec![0; 1 << 20]).unwrap(); // more than the peer reads
    ///             while !reader.readline().await.unwrap_or_default().is_empty() {}
    ///         },
    ///         "127.0.0.1:0",
    ///     )
    ///     .await
    ///     .unwrap();
    ///     let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
    ///     reader.readexactly(1).await.unwrap(); // the handler is running
    ///     server.close();
    ///     server.abort_clients(); // the queued megabyte is dropped
    ///     server.wait_closed().await;
    ///     while let Ok(bytes) = reader.read(1 << 16).await {
    ///         if bytes.is_empty() {
    ///             panic!("a reset, not an end of stream");
    ///         }
    ///     }
    /// });
    /// ```
    pub fn abort_clients(&self) {
        for (_, client) in self.shared.clients.borrow().iter() {
            if !client.writer.abort() {
                // Fails only if the connection is already gone.
                let _ = client.socket.reset();
            }
        }
    }

    /// The number of live connections: handler tasks that have not ended
    /// (a connection counts from the moment it is accepted).
    ///
    /// ```
    /// use weft_runtime::streams::{open_connection, start_server, StreamReader, StreamWriter};
    ///
    /// weft_runtime::run(async {
    ///     let server = start_server(
    ///         |mut reader: StreamReader, _w: StreamWriter| async move {
    ///             let _ = reader.read_to_end().await;
    ///         },
    ///         "127.0.0.1:0",
    ///     )
    ///     .await
    ///     .unwrap();
    ///     assert_eq!(server.connections(), 0);
    ///     let client = open_connection(server.local_addr()).await.unwrap();
    ///     while server.connections() == 0 {
    ///         weft_runtime::yield_now().await;
    ///     }
    ///     drop(client); // the handler reads end of stream and ends
    ///     server.close();
    ///     server.wait_closed().await;
    ///     assert_eq!(server.connections(), 0);
    /// });
    /// ```
    pub fn connections(&self) -> usize {
        self.shared.clients.borrow().len()
    }

    /// How many handlers returned an error or panicked so far (each one
    /// also went to the failure hook, see
    /// [`ServerOptions::on_handler_failure`](super::ServerOptions::on_handler_failure)).
    pub fn handler_failures(&self) -> u64 {
        self.shared.failures.get()
    }

    /// Waits until the server is closed and every handler has finished
    /// (asyncio 3.12's `wait_closed`). Before `close` it waits for `close`
    /// too.
    pub async fn wait_closed(&self) {
        self.shared.finished.wait().await;
    }
}

impl<L: Accept> fmt::Debug for ServerHandle<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.shared.local_addr)
            .field("serving", &self.is_serving())
            .field("connections", &self.connections())
            .field("handler_failures", &self.handler_failures())
            .finish()
    }
}
