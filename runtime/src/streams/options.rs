//! Options for starting a server and opening a connection, asyncio's
//! keyword arguments as builders: [`ServerOptions`] for
//! [`start_server_with`](super::start_server_with),
//! [`start_unix_server_with`](super::start_unix_server_with) and
//! [`Server::from_listener`](super::Server::from_listener), and
//! [`ConnectOptions`] for [`open_connection_with`](super::open_connection_with).
//!
//! | asyncio                       | weft                                            |
//! |-------------------------------|-------------------------------------------------|
//! | `limit=`                      | [`ServerOptions::limit`], [`ConnectOptions::limit`] |
//! | `backlog=`                    | [`ServerOptions::backlog`]                      |
//! | `reuse_port=`                 | `ServerOptions::reuse_port` (Unix)             |
//! | `sock=`                       | [`Server::from_listener`](super::Server::from_listener) |
//! | `start_serving=False`         | [`ServerOptions::start_serving`]`(false)`, later [`ServerHandle::start_serving`](super::ServerHandle::start_serving) |
//! | exception in the callback logged | [`ServerOptions::on_handler_failure`]        |
//!
//! Values are checked when the server starts or the connection opens: a
//! limit of 0 is refused there with an `InvalidInput` error. A backlog
//! above what the OS allows is not an error: `listen(2)` caps it silently
//! (on Linux at `net.core.somaxconn`), as it does in asyncio.

use std::fmt;
use std::io;
use std::rc::Rc;

use super::handler::{print_failure, FailureHook, HandlerFailure};
use super::reader::{StreamReader, DEFAULT_LIMIT};
use super::writer::StreamWriter;
use crate::net::ListenOptions;

/// How a stream server is set up: the readers' limit, the listening
/// socket's options, whether it starts accepting at once, and what
/// happens to a handler's failure.
///
/// ```
/// use weft_runtime::streams::{start_server_with, ServerOptions, StreamReader, StreamWriter};
///
/// weft_runtime::run(async {
///     let options = ServerOptions::new().limit(1024).backlog(16).start_serving(false);
///     let handler = |_r: StreamReader, _w: StreamWriter| async {};
///     let server = start_server_with(handler, "127.0.0.1:0", options).await.unwrap();
///     assert!(!server.is_serving()); // bound and listening, not accepting yet
///     server.start_serving().unwrap();
///     assert!(server.is_serving());
/// });
/// ```
#[derive(Clone)]
pub struct ServerOptions {
    pub(super) listen: ListenOptions,
    pub(super) limit: usize,
    pub(super) start_serving: bool,
    pub(super) on_failure: FailureHook,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            listen: ListenOptions::default(),
            limit: DEFAULT_LIMIT,
            start_serving: true,
            on_failure: Rc::new(print_failure),
        }
    }
}

impl ServerOptions {
    /// What [`start_server`](super::start_server) uses: the reader limit
    /// [`DEFAULT_LIMIT`], [`ListenOptions`]' defaults, accepting at once,
    /// failures printed on stderr.
    pub fn new() -> Self {
        Self::default()
    }

    /// The limit of each connection's reader (asyncio's `limit=`; see
    /// [`StreamReader::set_limit`](super::StreamReader::set_limit)). 0 is
    /// refused when the server starts.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// The listening socket's options (TCP only; a Unix server ignores
    /// them). [`backlog`](ServerOptions::backlog) and `reuse_port` set one
    /// of them each.
    pub fn listen_options(mut self, options: ListenOptions) -> Self {
        self.listen = options;
        self
    }

    /// The listen backlog (asyncio's `backlog=`, default 1024 here, 100 in
    /// asyncio). The OS caps a larger value silently.
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.listen = self.listen.backlog(backlog);
        self
    }

    /// `SO_REUSEPORT` (asyncio's `reuse_port=`): several servers, each on
    /// its own runtime and thread, can listen on one port.
    ///
    /// ```
    /// use weft_runtime::streams::{start_server_with, ServerOptions, StreamReader, StreamWriter};
    ///
    /// weft_runtime::run(async {
    ///     let handler = |_r: StreamReader, _w: StreamWriter| async {};
    ///     let options = ServerOptions::new().reuse_port(true);
    ///     let first = start_server_with(handler, "127.0.0.1:0", options.clone()).await.unwrap();
    ///     let second = start_server_with(handler, first.local_addr(), options).await.unwrap();
    ///     assert_eq!(first.local_addr(), second.local_addr());
    /// });
    /// ```
    #[cfg(all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    ))]
    pub fn reuse_port(mut self, reuse: bool) -> Self {
        self.listen = self.listen.reuse_port(reuse);
        self
    }

    /// Whether the server accepts as soon as it is started (the default),
    /// or only after [`start_serving`](super::ServerHandle::start_serving)
    /// or [`serve_forever`](super::ServerHandle::serve_forever) (asyncio's
    /// `start_serving=False`). Until then the socket listens and the OS
    /// queues connections in the backlog.
    pub fn start_serving(mut self, start: bool) -> Self {
        self.start_serving = start;
        self
    }

    /// What to do with a handler that returned an error or panicked,
    /// instead of the default line on stderr. The server counts the
    /// failures either way ([`handler_failures`](super::ServerHandle::handler_failures)).
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use weft_runtime::streams::{open_connection, start_server_with, ServerOptions, StreamReader, StreamWriter};
    ///
    /// weft_runtime::run(async {
    ///     let seen = Rc::new(RefCell::new(Vec::new()));
    ///     let log = seen.clone();
    ///     let options = ServerOptions::new()
    ///         .on_handler_failure(move |failure| log.borrow_mut().push(failure.message().to_string()));
    ///     let server = start_server_with(
    ///         |_r: StreamReader, _w: StreamWriter| async { Err::<(), _>("bad request") },
    ///         "127.0.0.1:0",
    ///         options,
    ///     )
    ///     .await
    ///     .unwrap();
    ///     let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
    ///     assert_eq!(reader.read(1).await.unwrap(), b""); // the handler ended
    ///     server.close();
    ///     server.wait_closed().await;
    ///     assert_eq!(*seen.borrow(), ["bad request"]);
    ///     assert_eq!(server.handler_failures(), 1);
    /// });
    /// ```
    pub fn on_handler_failure(mut self, hook: impl Fn(&HandlerFailure) + 'static) -> Self {
        self.on_failure = Rc::new(hook);
        self
    }
}

impl fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerOptions")
            .field("listen", &self.listen)
            .field("limit", &self.limit)
            .field("start_serving", &self.start_serving)
            .finish_non_exhaustive()
    }
}

/// How a connection is opened by [`open_connection_with`](super::open_connection_with)
/// and [`open_unix_connection_with`](super::open_unix_connection_with):
/// today the reader's limit (asyncio's `limit=`).
///
/// ```
/// use weft_runtime::streams::{open_connection_with, start_server, ConnectOptions, StreamReader, StreamWriter};
///
/// weft_runtime::run(async {
///     let handler = |_r: StreamReader, _w: StreamWriter| async {};
///     let server = start_server(handler, "127.0.0.1:0").await.unwrap();
///     let options = ConnectOptions::new().limit(256);
///     let (reader, _writer) = open_connection_with(server.local_addr(), &options).await.unwrap();
///     assert_eq!(reader.limit(), 256);
///     let zero = ConnectOptions::new().limit(0);
///     let err = open_connection_with(server.local_addr(), &zero).await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    pub(super) limit: usize,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
        }
    }
}

impl ConnectOptions {
    /// The defaults: the reader limit [`DEFAULT_LIMIT`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The reader's limit. 0 is refused when the connection opens (before
    /// connecting).
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }
}

impl ConnectOptions {
    /// Sets a new connection's reader up as asked.
    pub(super) fn apply(
        &self,
        (mut reader, writer): (StreamReader, StreamWriter),
    ) -> io::Result<(StreamReader, StreamWriter)> {
        reader.set_limit(self.limit)?;
        Ok((reader, writer))
    }
}

/// Refuses a limit of 0, naming who asked for it.
pub(super) fn check_limit(limit: usize, who: &str) -> io::Result<()> {
    if limit == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{who}: a reader limit of 0 bytes; the limit must be at least 1"),
        ));
    }
    Ok(())
}
