//! [`UdpSocket`]: datagrams on weft's reactor.
//!
//! A datagram socket is registered like a stream socket, edge-triggered,
//! for both directions, and every operation follows the reactor's rule:
//! try the syscall once readiness is set, and clear readiness only when the
//! OS says `WouldBlock`. Unlike a byte stream, a short result proves
//! nothing here: a 20-byte datagram read into a 64 KiB buffer may have ten
//! more datagrams queued behind it, so readiness stays set and the next
//! receive tries the socket at once.
//!
//! Operations take `&self`, as in tokio, so an `Rc<UdpSocket>` can be
//! shared: one task receives while another sends. The reactor wakes one
//! task per direction, so a second task waiting to receive at the same
//! time is refused with an error instead of being left asleep (see
//! `io/one_waiter.rs`); the poll forms cannot check that and keep only the
//! most recent poller's waker.
//!
//! **Cancellation.** Every waiting operation is cancel-safe: a receive
//! whose future is dropped consumed no datagram (`recv` is one syscall that
//! either takes a datagram and completes, or takes nothing), and a send
//! that did not complete sent nothing.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::task::{Context, Poll};

use super::addr::{self, ToSocketAddrs};
use super::raw_access::{self, impl_raw_access};
use crate::io::one_waiter::{poll_op, try_op, wait_op, WaiterClaims};
use crate::reactor::{Direction, IoSource};

/// A UDP socket registered with the current weft runtime.
///
/// ```
/// use weft_runtime::net::UdpSocket;
///
/// weft_runtime::run(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
/// });
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    io: IoSource<mio::net::UdpSocket>,
    claims: WaiterClaims,
}

impl UdpSocket {
    /// Binds a socket to `addr` (port 0 picks a free port), trying each
    /// address it resolves to in turn; the error is the last address's,
    /// and names it.
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     let socket = weft_runtime::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert_ne!(socket.local_addr().unwrap().port(), 0);
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let mut last_error = None;
        for addr in addr::resolve(addr).await? {
            let bound = mio::net::UdpSocket::bind(addr)
                .map_err(|e| super::listen_options::bind_error(e, addr));
            match bound.and_then(Self::from_mio) {
                Ok(socket) => return Ok(socket),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.expect("resolve returns at least one address"))
    }

    /// Registers a standard-library UDP socket with the current runtime (it
    /// is switched to non-blocking mode).
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     let addr = std_socket.local_addr().unwrap();
    ///     let socket = weft_runtime::net::UdpSocket::from_std(std_socket).unwrap();
    ///     assert_eq!(socket.local_addr().unwrap(), addr);
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a weft runtime.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Self::from_mio(mio::net::UdpSocket::from_std(socket))
    }

    fn from_mio(socket: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: IoSource::new(socket)?,
            claims: WaiterClaims::default(),
        })
    }

    /// Takes the socket out of the runtime as a standard-library one (still
    /// in non-blocking mode; see [`net`](super)'s notes on raw access).
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     let socket = weft_runtime::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = socket.local_addr().unwrap();
    ///     assert_eq!(socket.into_std().unwrap().local_addr().unwrap(), addr);
    /// });
    /// ```
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        raw_access::into_std(self.io)
    }

    /// Sets the socket's default peer, the first address `addr` resolves
    /// to: [`send`](UdpSocket::send) goes there, and
    /// [`recv`](UdpSocket::recv) takes datagrams from there only.
    ///
    /// ```
    /// use weft_runtime::net::UdpSocket;
    ///
    /// weft_runtime::run(async {
    ///     let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     client.connect(server.local_addr().unwrap()).await.unwrap();
    ///     client.send(b"hello").await.unwrap();
    ///     let mut buf = [0; 8];
    ///     let (n, from) = server.recv_from(&mut buf).await.unwrap();
    ///     server.send_to(&buf[..n], from).await.unwrap();
    ///     assert_eq!(client.recv(&mut buf).await.unwrap(), 5);
    ///     assert_eq!(client.peer_addr().unwrap(), server.local_addr().unwrap());
    /// });
    /// ```
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let addrs = addr::resolve(addr).await?;
        self.io.get_ref().connect(addrs[0])
    }

    /// Sends `buf` as one datagram to the connected peer and returns its
    /// length. Cancel-safe.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        wait_op(&self.io, &self.claims, Direction::Write, SEND, |s| {
            s.send(buf)
        })
        .await
    }

    /// Receives one datagram from the connected peer into `buf` and returns
    /// its length; the part of a datagram that does not fit is discarded.
    /// Cancel-safe: a dropped future took no datagram.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        wait_op(&self.io, &self.claims, Direction::Read, RECV, |s| {
            s.recv(buf)
        })
        .await
    }

    /// Sends `buf` as one datagram to `target` and returns its length.
    /// Cancel-safe.
    pub async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        wait_op(&self.io, &self.claims, Direction::Write, SEND, |s| {
            s.send_to(buf, target)
        })
        .await
    }

    /// Receives one datagram into `buf` and returns its length and sender.
    /// Cancel-safe.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        wait_op(&self.io, &self.claims, Direction::Read, RECV, |s| {
            s.recv_from(buf)
        })
        .await
    }

    /// Copies the next datagram from the connected peer into `buf` without
    /// taking it off the queue: the next receive returns it again.
    ///
    /// ```
    /// use weft_runtime::net::UdpSocket;
    ///
    /// weft_runtime::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.send_to(b"twice", b.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0; 8];
    ///     let (n, from) = b.peek_from(&mut buf).await.unwrap();
    ///     assert_eq!((n, from), (5, a.local_addr().unwrap()));
    ///     assert_eq!(b.recv_from(&mut buf).await.unwrap(), (5, from));
    /// });
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        wait_op(&self.io, &self.claims, Direction::Read, RECV, |s| {
            s.peek(buf)
        })
        .await
    }

    /// [`peek`](UdpSocket::peek) for an unconnected socket: also returns
    /// the sender.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        wait_op(&self.io, &self.claims, Direction::Read, RECV, |s| {
            s.peek_from(buf)
        })
        .await
    }

    /// The poll form of [`send`](UdpSocket::send). Only the waker of the
    /// most recent poll in the sending direction is kept.
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        poll_op(&self.io, cx, Direction::Write, |s| s.send(buf))
    }

    /// The poll form of [`recv`](UdpSocket::recv). Only the waker of the
    /// most recent poll in the receiving direction is kept.
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        poll_op(&self.io, cx, Direction::Read, |s| s.recv(buf))
    }

    /// The poll form of [`send_to`](UdpSocket::send_to).
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        poll_op(&self.io, cx, Direction::Write, |s| s.send_to(buf, target))
    }

    /// The poll form of [`recv_from`](UdpSocket::recv_from).
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        poll_op(&self.io, cx, Direction::Read, |s| s.recv_from(buf))
    }

    /// The poll form of [`peek`](UdpSocket::peek).
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        poll_op(&self.io, cx, Direction::Read, |s| s.peek(buf))
    }

    /// The poll form of [`peek_from`](UdpSocket::peek_from).
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        poll_op(&self.io, cx, Direction::Read, |s| s.peek_from(buf))
    }

    /// One non-blocking send to the connected peer: `WouldBlock` if the
    /// send buffer is full.
    ///
    /// ```
    /// use weft_runtime::net::UdpSocket;
    ///
    /// weft_runtime::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let err = b.try_recv(&mut [0; 8]).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock); // nothing sent yet
    ///     a.connect(b.local_addr().unwrap()).await.unwrap();
    ///     a.try_send(b"now").unwrap();
    ///     assert_eq!(b.recv(&mut [0; 8]).await.unwrap(), 3);
    /// });
    /// ```
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        try_op(&self.io, Direction::Write, |s| s.send(buf))
    }

    /// One non-blocking receive from the connected peer: `WouldBlock` if no
    /// datagram is queued.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        try_op(&self.io, Direction::Read, |s| s.recv(buf))
    }

    /// One non-blocking send to `target`.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        try_op(&self.io, Direction::Write, |s| s.send_to(buf, target))
    }

    /// One non-blocking receive, with the sender.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        try_op(&self.io, Direction::Read, |s| s.recv_from(buf))
    }

    /// One non-blocking peek at the next datagram from the connected peer.
    pub fn try_peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        try_op(&self.io, Direction::Read, |s| s.peek(buf))
    }

    /// One non-blocking peek at the next datagram, with the sender.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        try_op(&self.io, Direction::Read, |s| s.peek_from(buf))
    }

    /// The local address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address (`NotConnected` before
    /// [`connect`](UdpSocket::connect)).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any: an ICMP
    /// "port unreachable" after a send to a closed port, for instance.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Sets `SO_BROADCAST`: whether datagrams may go to a broadcast
    /// address.
    ///
    /// ```
    /// weft_runtime::run(async {
    ///     let socket = weft_runtime::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.set_broadcast(true).unwrap();
    ///     assert!(socket.broadcast().unwrap());
    ///     socket.set_ttl(16).unwrap();
    ///     assert_eq!(socket.ttl().unwrap(), 16);
    /// });
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// The `SO_BROADCAST` option.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Sets `IP_TTL`, the hop limit of the datagrams this socket sends.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The `IP_TTL` option.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Joins the IPv4 multicast group `group` on the interface with
    /// address `interface` (`Ipv4Addr::UNSPECIFIED`: the OS picks one).
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use weft_runtime::net::UdpSocket;
    ///
    /// weft_runtime::run(async {
    ///     let socket = UdpSocket::bind("0.0.0.0:0").await.unwrap();
    ///     let group = Ipv4Addr::new(239, 255, 0, 1);
    ///     // A machine without a multicast route refuses; both answers are fine here.
    ///     if socket.join_multicast_v4(group, Ipv4Addr::LOCALHOST).is_ok() {
    ///         socket.set_multicast_loop_v4(true).unwrap();
    ///         socket.set_multicast_ttl_v4(1).unwrap();
    ///         socket.leave_multicast_v4(group, Ipv4Addr::LOCALHOST).unwrap();
    ///     }
    /// });
    /// ```
    pub fn join_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(&group, &interface)
    }

    /// Leaves the IPv4 multicast group `group` on `interface`.
    pub fn leave_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(&group, &interface)
    }

    /// Joins the IPv6 multicast group `group` on the interface with index
    /// `interface` (0: the OS picks one).
    pub fn join_multicast_v6(&self, group: Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(&group, interface)
    }

    /// Leaves the IPv6 multicast group `group` on interface `interface`.
    pub fn leave_multicast_v6(&self, group: Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(&group, interface)
    }

    /// Sets `IP_MULTICAST_LOOP`: whether this host's own IPv4 multicast
    /// datagrams come back to its sockets.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }

    /// The `IP_MULTICAST_LOOP` option.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_TTL`: how many hops IPv4 multicast datagrams go
    /// (1, the default, keeps them on the local network).
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// The `IP_MULTICAST_TTL` option.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get_ref().multicast_ttl_v4()
    }

    /// Sets `IPV6_MULTICAST_LOOP`, the IPv6 form of
    /// [`set_multicast_loop_v4`](UdpSocket::set_multicast_loop_v4).
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v6(on)
    }

    /// The `IPV6_MULTICAST_LOOP` option.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v6()
    }
}

/// What the waiting operations wait to do, for the error a second waiting
/// task gets.
const SEND: &str = "send on this UdpSocket";
const RECV: &str = "receive on this UdpSocket";

impl_raw_access!(UdpSocket);
