//! [`ListenOptions`]: how a [`TcpListener`](super::TcpListener) is set up
//! before it binds, for [`TcpListener::bind_with`](super::TcpListener::bind_with).
//!
//! Some socket options only matter before `bind(2)` or `listen(2)`: the
//! backlog (how many finished handshakes the kernel queues for `accept`),
//! `SO_REUSEADDR` (bind a port whose old connections linger in TIME_WAIT),
//! `SO_REUSEPORT` (several sockets, typically one per thread, listen on one
//! port and the kernel spreads the connections among them), and the buffer
//! sizes that accepted connections inherit. The socket is made with
//! `socket2`, set up, bound and put in listening mode, in that order:
//!
//! ```text
//!   socket() ─▶ SO_REUSEADDR / SO_REUSEPORT / IPV6_V6ONLY / buffer sizes ─▶ bind(addr) ─▶ listen(backlog)
//! ```

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};

/// Settings for [`TcpListener::bind_with`](super::TcpListener::bind_with):
/// backlog, address and port reuse, buffer sizes. The defaults are what
/// [`TcpListener::bind`](super::TcpListener::bind) uses: a backlog of 1024,
/// `SO_REUSEADDR` on Unix (so a restarted server binds its port at once;
/// on Windows that option would let another process take the port), no
/// `SO_REUSEPORT`, the OS's buffer sizes.
///
/// ```
/// use weft_runtime::net::{ListenOptions, TcpListener};
///
/// weft_runtime::run(async {
///     let options = ListenOptions::new().backlog(4096).recv_buffer_size(256 * 1024);
///     let listener = TcpListener::bind_with("127.0.0.1:0", &options).await.unwrap();
///     assert!(listener.local_addr().unwrap().port() != 0);
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenOptions {
    backlog: u32,
    reuse_address: bool,
    #[cfg(all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    ))]
    reuse_port: bool,
    only_v6: Option<bool>,
    send_buffer_size: Option<usize>,
    recv_buffer_size: Option<usize>,
}

impl Default for ListenOptions {
    fn default() -> Self {
        Self {
            backlog: 1024,
            reuse_address: cfg!(unix),
            #[cfg(all(
                unix,
                not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
            ))]
            reuse_port: false,
            only_v6: None,
            send_buffer_size: None,
            recv_buffer_size: None,
        }
    }
}

impl ListenOptions {
    /// The defaults (see the type's docs).
    pub fn new() -> Self {
        Self::default()
    }

    /// How many established connections the kernel queues until they are
    /// accepted (the OS may cap it: `net.core.somaxconn` on Linux).
    pub fn backlog(mut self, backlog: u32) -> Self {
        self.backlog = backlog;
        self
    }

    /// `SO_REUSEADDR`: bind even while connections of an earlier listener
    /// on the port linger in TIME_WAIT.
    pub fn reuse_address(mut self, reuse: bool) -> Self {
        self.reuse_address = reuse;
        self
    }

    /// `SO_REUSEPORT` (Unix, except Solaris and illumos): let several sockets that all set it listen on
    /// the same address and port; the kernel spreads incoming connections
    /// among them (on Linux by a hash of the connection's addresses). The
    /// way to run one listener per thread, each on its own runtime.
    ///
    /// ```
    /// use weft_runtime::net::{ListenOptions, TcpListener};
    ///
    /// weft_runtime::run(async {
    ///     let options = ListenOptions::new().reuse_port(true);
    ///     let first = TcpListener::bind_with("127.0.0.1:0", &options).await.unwrap();
    ///     let addr = first.local_addr().unwrap();
    ///     let second = TcpListener::bind_with(addr, &options).await.unwrap();
    ///     assert_eq!(second.local_addr().unwrap(), addr);
    /// });
    /// ```
    #[cfg(all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    ))]
    pub fn reuse_port(mut self, reuse: bool) -> Self {
        self.reuse_port = reuse;
        self
    }

    /// `IPV6_V6ONLY` for an IPv6 address: `true` accepts IPv6 only, `false`
    /// IPv4-mapped connections too. Unset, the OS default applies (on Linux
    /// `net.ipv6.bindv6only`, usually both).
    pub fn only_v6(mut self, only_v6: bool) -> Self {
        self.only_v6 = Some(only_v6);
        self
    }

    /// `SO_SNDBUF`, which accepted connections inherit. The kernel may
    /// round or double the value (Linux doubles it for its bookkeeping).
    pub fn send_buffer_size(mut self, bytes: usize) -> Self {
        self.send_buffer_size = Some(bytes);
        self
    }

    /// `SO_RCVBUF`, which accepted connections inherit; set it before
    /// `listen` so that the TCP window scale can be chosen to match.
    pub fn recv_buffer_size(mut self, bytes: usize) -> Self {
        self.recv_buffer_size = Some(bytes);
        self
    }

    /// A non-blocking socket listening on `addr`, set up as asked.
    pub(crate) fn listen(&self, addr: SocketAddr) -> io::Result<std::net::TcpListener> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_nonblocking(true)?;
        if self.reuse_address {
            socket.set_reuse_address(true)?;
        }
        #[cfg(all(
            unix,
            not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
        ))]
        if self.reuse_port {
            socket.set_reuse_port(true)?;
        }
        if let (Some(only_v6), SocketAddr::V6(_)) = (self.only_v6, addr) {
            socket.set_only_v6(only_v6)?;
        }
        if let Some(bytes) = self.send_buffer_size {
            socket.set_send_buffer_size(bytes)?;
        }
        if let Some(bytes) = self.recv_buffer_size {
            socket.set_recv_buffer_size(bytes)?;
        }
        socket.bind(&addr.into()).map_err(|e| bind_error(e, addr))?;
        let backlog = i32::try_from(self.backlog).unwrap_or(i32::MAX);
        socket.listen(backlog)?;
        Ok(socket.into())
    }
}

/// The OS's bind error with the address added, keeping its kind
/// (`AddrInUse`, `AddrNotAvailable`, `PermissionDenied`).
pub(crate) fn bind_error(e: io::Error, addr: impl std::fmt::Display) -> io::Error {
    io::Error::new(e.kind(), format!("cannot bind {addr}: {e}"))
}
