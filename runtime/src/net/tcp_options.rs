//! Socket options of a connected [`TcpStream`]: keepalive, linger, TTL and
//! buffer sizes (`TCP_NODELAY` sits with the stream itself).
//!
//! Each is one `setsockopt(2)`/`getsockopt(2)` through `socket2`, which
//! knows every platform's names and units, on the socket the stream has
//! registered with the reactor; none of them touches readiness.
//!
//! `set_linger(Some(Duration::ZERO))` is how a connection is *reset*
//! rather than closed: dropping the stream then sends RST instead of FIN,
//! and discards whatever was still queued to send. The peer's next read
//! fails with `ConnectionReset`.

use std::io;
use std::time::Duration;

use socket2::{SockRef, TcpKeepalive};

use super::stream::TcpStream;

impl TcpStream {
    fn sock_ref(&self) -> SockRef<'_> {
        SockRef::from(self.io.get_ref())
    }

    /// Turns TCP keepalive on with probes after `idle` of silence
    /// (`Some`), or off (`None`). With it on, a peer that vanished without
    /// closing (power loss, a dropped NAT mapping) turns into a read error
    /// instead of a connection that waits forever.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_runtime::net::{TcpListener, TcpStream};
    ///
    /// weft_runtime::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_keepalive(Some(Duration::from_secs(60))).unwrap();
    ///     assert!(stream.keepalive().unwrap());
    ///     stream.set_keepalive(None).unwrap();
    ///     assert!(!stream.keepalive().unwrap());
    /// });
    /// ```
    pub fn set_keepalive(&self, idle: Option<Duration>) -> io::Result<()> {
        match idle {
            Some(idle) => self
                .sock_ref()
                .set_tcp_keepalive(&TcpKeepalive::new().with_time(idle)),
            None => self.sock_ref().set_keepalive(false),
        }
    }

    /// Whether `SO_KEEPALIVE` is on.
    pub fn keepalive(&self) -> io::Result<bool> {
        self.sock_ref().keepalive()
    }

    /// Sets `SO_LINGER`: what closing does with unsent bytes. `None` (the
    /// default) closes in the background; `Some(Duration::ZERO)` resets
    /// the connection on close (RST), discarding them.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_runtime::net::{TcpListener, TcpStream};
    ///
    /// weft_runtime::run(async {
    ///     let mut listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     client.set_linger(Some(Duration::ZERO)).unwrap();
    ///     drop(client); // sends RST, not FIN
    ///     let err = server.read(&mut [0; 8]).await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
    /// });
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.sock_ref().set_linger(linger)
    }

    /// The `SO_LINGER` option.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.sock_ref().linger()
    }

    /// Sets `IP_TTL`, the hop limit of the packets this socket sends.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The `IP_TTL` option.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets `SO_SNDBUF`, the kernel's send buffer for this socket. The
    /// kernel may round the value or, as Linux does, double it for its own
    /// bookkeeping, so [`send_buffer_size`](TcpStream::send_buffer_size)
    /// may read back more.
    ///
    /// ```
    /// use weft_runtime::net::{TcpListener, TcpStream};
    ///
    /// weft_runtime::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_send_buffer_size(64 * 1024).unwrap();
    ///     stream.set_recv_buffer_size(64 * 1024).unwrap();
    ///     assert!(stream.send_buffer_size().unwrap() >= 32 * 1024);
    ///     assert!(stream.recv_buffer_size().unwrap() >= 32 * 1024);
    /// });
    /// ```
    pub fn set_send_buffer_size(&self, bytes: usize) -> io::Result<()> {
        self.sock_ref().set_send_buffer_size(bytes)
    }

    /// The `SO_SNDBUF` option.
    pub fn send_buffer_size(&self) -> io::Result<usize> {
        self.sock_ref().send_buffer_size()
    }

    /// Sets `SO_RCVBUF`, the kernel's receive buffer for this socket (see
    /// [`set_send_buffer_size`](TcpStream::set_send_buffer_size) on what
    /// the kernel does with the value).
    pub fn set_recv_buffer_size(&self, bytes: usize) -> io::Result<()> {
        self.sock_ref().set_recv_buffer_size(bytes)
    }

    /// The `SO_RCVBUF` option.
    pub fn recv_buffer_size(&self) -> io::Result<usize> {
        self.sock_ref().recv_buffer_size()
    }
}
