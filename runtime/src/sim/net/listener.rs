//! [`TcpListener`]: a simulated socket that accepts connections.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use super::addr::ToSimAddr;
use super::conn::Side;
use super::ops::End;
use super::stream::TcpStream;
use super::wait::Alarm;
use super::world::WorldRef;
use super::Host;

/// A simulated TCP listener on one [`Host`]: the real
/// [`TcpListener`](crate::net::TcpListener)'s methods, with `bind` taking
/// the host too.
///
/// A connection enters the listener's backlog when its handshake reaches
/// the server (one and a half round trips after the client's `connect`
/// began) and `accept` takes it from then on. Dropping the listener resets
/// the connections it never accepted; later connects are refused.
///
/// ```
/// use weft_runtime::sim::net::{Faults, Net, TcpListener, TcpStream};
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let net = Net::new(3, Faults::default());
///     let (server, client) = (net.host("10.0.0.1"), net.host("10.0.0.2"));
///     let mut listener = TcpListener::bind(&server, "0.0.0.0:80").await.unwrap();
///     assert_eq!(listener.local_addr().unwrap(), "10.0.0.1:80".parse().unwrap());
///     let stream = TcpStream::connect(&client, "10.0.0.1:80").await.unwrap();
///     let (_accepted, peer) = listener.accept().await.unwrap();
///     assert_eq!(peer, stream.local_addr().unwrap());
/// });
/// ```
#[derive(Debug)]
pub struct TcpListener {
    world: WorldRef,
    addr: SocketAddr,
    alarm: Alarm,
}

impl TcpListener {
    /// Listens on `addr` of `host`: its own IP, `0.0.0.0` or loopback
    /// (both mean the host's IP); port 0 picks a free ephemeral port.
    /// `AddrInUse` if a listener holds the address, `AddrNotAvailable` if
    /// the IP belongs to another host.
    ///
    /// # Panics
    ///
    /// Outside the runtime the host's net was made in.
    pub async fn bind(host: &Host, addr: impl ToSimAddr) -> io::Result<TcpListener> {
        let requested = addr.to_sim_addr()?;
        let addr = host.world.with(|w| {
            let addr = w.bind_addr(host.ip, requested, |w, a| w.tcp_bound.contains(&a))?;
            w.tcp_listen(addr);
            Ok::<_, io::Error>(addr)
        })?;
        Ok(TcpListener {
            world: host.world.clone(),
            addr,
            alarm: Alarm::default(),
        })
    }

    /// Waits for a connection and returns it with the peer's address.
    /// Cancel-safe: a connection leaves the backlog only when the future
    /// completes.
    pub async fn accept(&mut self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// The poll form of [`accept`](TcpListener::accept).
    pub fn poll_accept(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (world, addr) = (&self.world, self.addr);
        let (conn, peer) = std::task::ready!(self
            .alarm
            .poll_step(cx, |cx| world.with(|w| w.tcp_accept(addr, cx.waker()))));
        let end = End::new(world.clone(), conn, Side::Server);
        Poll::Ready(Ok((TcpStream::new(end), peer)))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        let addr = self.addr;
        self.world.with(|w| w.tcp_unlisten(addr));
    }
}
