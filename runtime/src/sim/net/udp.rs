//! [`UdpSocket`]: a simulated datagram socket (the fates datagrams meet
//! are described in `datagram.rs`).

use std::cell::Cell;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;

use super::addr::{on_host, ToSimAddr};
use super::wait::Alarm;
use super::world::WorldRef;
use super::Host;

/// A simulated UDP socket on one [`Host`], with the methods of a Rust UDP
/// socket (tokio's shape: every method takes `&self`, so several tasks can
/// share one socket through an `Rc`).
///
/// Sending never waits: the datagram is handed to the network, which may
/// lose it, delay it, reorder it, or drop it at a partition. A receiver
/// waits until a datagram arrives; one longer than the buffer is cut to
/// the buffer's length and the rest discarded, as with real UDP.
///
/// ```
/// use weft_runtime::sim::net::{Faults, Net, UdpSocket};
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let net = Net::new(4, Faults::default());
///     let (a, b) = (net.host("10.0.0.1"), net.host("10.0.0.2"));
///     let server = UdpSocket::bind(&a, "10.0.0.1:53").await.unwrap();
///     let client = UdpSocket::bind(&b, "0.0.0.0:0").await.unwrap();
///     client.send_to(b"ping", "10.0.0.1:53").await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = server.recv_from(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"ping");
///     assert_eq!(from, client.local_addr().unwrap());
/// });
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    world: WorldRef,
    addr: SocketAddr,
    peer: Cell<Option<SocketAddr>>,
}

impl UdpSocket {
    /// Binds `addr` on `host`: its own IP, `0.0.0.0` or loopback (both
    /// mean the host's IP); port 0 picks a free ephemeral port.
    ///
    /// # Panics
    ///
    /// Outside the runtime the host's net was made in.
    pub async fn bind(host: &Host, addr: impl ToSimAddr) -> io::Result<UdpSocket> {
        let requested = addr.to_sim_addr()?;
        let addr = host.world.with(|w| w.udp_bind(host.ip, requested))?;
        Ok(UdpSocket {
            world: host.world.clone(),
            addr,
            peer: Cell::new(None),
        })
    }

    /// Sends `buf` to `target` as one datagram and returns its length.
    /// `InvalidInput` if it is longer than 65 507 bytes.
    pub async fn send_to(&self, buf: &[u8], target: impl ToSimAddr) -> io::Result<usize> {
        let to = on_host(self.addr.ip(), target.to_sim_addr()?);
        self.world.with(|w| w.udp_send(self.addr, to, buf))
    }

    /// Waits for a datagram and returns its length and sender. Cancel-safe:
    /// a datagram leaves the socket only when the future completes.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let mut alarm = Alarm::default();
        let addr = self.addr;
        let received = poll_fn(|cx| {
            alarm.poll_step(cx, |cx| {
                self.world.with(|w| w.udp_recv(addr, buf, cx.waker()))
            })
        })
        .await;
        Ok(received)
    }

    /// Sets the socket's peer: [`send`](UdpSocket::send) goes there, and
    /// datagrams from anyone else are dropped on arrival.
    pub async fn connect(&self, addr: impl ToSimAddr) -> io::Result<()> {
        let peer = on_host(self.addr.ip(), addr.to_sim_addr()?);
        self.peer.set(Some(peer));
        let own = self.addr;
        self.world.with(|w| {
            w.udp
                .get_mut(&own)
                .expect("a bound socket keeps its inbox")
                .peer = Some(peer);
        });
        Ok(())
    }

    /// Sends `buf` to the connected peer; `NotConnected` without one.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.send_to(buf, self.peer_addr()?).await
    }

    /// Receives a datagram from the connected peer (only theirs arrive).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.recv_from(buf).await?.0)
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }

    /// The connected peer; `NotConnected` without one.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.peer.get().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotConnected,
                "the UDP socket is not connected",
            )
        })
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        let addr = self.addr;
        self.world.with(|w| w.udp_unbind(addr));
    }
}
