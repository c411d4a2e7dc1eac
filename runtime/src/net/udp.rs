//! [`UdpSocket`]: UDP datagrams on weft's reactor. The rules every
//! datagram socket keeps (readiness cleared only on `WouldBlock`, `&self`
//! operations with one waiting task per direction, cancel-safe receives)
//! and the methods it shares with `UnixDatagram` are in `net/datagram.rs`;
//! here are UDP's own: binding and connecting to IP addresses, peeking,
//! broadcast and multicast.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::task::{Context, Poll};

use super::addr::{self, ToSocketAddrs};
use super::datagram::datagram_methods;
use super::raw_access::{self, impl_raw_access};
use crate::driver::io_source::IoSource;
use crate::driver::reactor::Direction;
use crate::io::one_waiter::{poll_op, try_op, wait_op, WaiterClaims};
use crate::scheduler::context;

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
            io: IoSource::new(socket, context::reactor())?,
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

    datagram_methods!(SocketAddr, "UdpSocket");

    /// Sends `buf` as one datagram to `target` and returns its length.
    /// Cancel-safe.
    pub async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        wait_op(&self.io, &self.claims, Direction::Write, SEND, |s| {
            s.send_to(buf, target)
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

    /// The poll form of [`send_to`](UdpSocket::send_to).
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        poll_op(&self.io, cx, Direction::Write, |s| s.send_to(buf, target))
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

    /// One non-blocking send to `target`.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        try_op(&self.io, Direction::Write, |s| s.send_to(buf, target))
    }

    /// One non-blocking peek at the next datagram from the connected peer.
    pub fn try_peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        try_op(&self.io, Direction::Read, |s| s.peek(buf))
    }

    /// One non-blocking peek at the next datagram, with the sender.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        try_op(&self.io, Direction::Read, |s| s.peek_from(buf))
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
