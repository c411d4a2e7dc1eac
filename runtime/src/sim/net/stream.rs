//! [`TcpStream`]: one end of a simulated TCP connection.
//!
//! Its methods are the real [`TcpStream`](crate::net::TcpStream)'s, with
//! the same signatures and the same cancel-safety; only `connect` differs:
//! it takes the [`Host`] the connection starts from. How a connect goes:
//!
//! ```text
//!   connect(&host, addr) ── partition? ──yes──▶ retry the SYN when it heals,
//!        │no                                   TimedOut after Faults::connect_timeout
//!        ▼
//!   listener at addr? ──no──▶ ConnectionRefused, one round trip later
//!        │yes
//!        ▼
//!   connected one round trip later; the listener accepts it half a round trip after
//! ```

use std::cell::Cell;
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::rc::Rc;

use super::addr::{on_host, ToSimAddr};
use super::conn::Side;
use super::handshake::Syn;
use super::ops::{self, End};
use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use super::wait::Alarm;
use super::world::WorldRef;
use super::Host;
use crate::time::sleep_until;

/// One end of a simulated TCP connection: the real
/// [`TcpStream`](crate::net::TcpStream)'s methods, on the simulated
/// network.
///
/// Dropping it closes the connection: the peer reads end of stream after
/// everything sent before, and its later writes fail with `BrokenPipe`.
///
/// ```
/// use weft_runtime::sim::net::{Faults, Net, TcpListener, TcpStream};
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let net = Net::new(1, Faults::default());
///     let (server, client) = (net.host("10.0.0.1"), net.host("10.0.0.2"));
///     let mut listener = TcpListener::bind(&server, "10.0.0.1:7").await.unwrap();
///     let echo = weft_runtime::spawn(async move {
///         let (mut stream, _) = listener.accept().await.unwrap();
///         let mut buf = [0; 5];
///         stream.read_exact(&mut buf).await.unwrap();
///         stream.write_all(&buf).await.unwrap();
///     });
///     let mut stream = TcpStream::connect(&client, "10.0.0.1:7").await.unwrap();
///     stream.write_all(b"hello").await.unwrap();
///     let mut reply = [0; 5];
///     stream.read_exact(&mut reply).await.unwrap();
///     assert_eq!(&reply, b"hello");
///     echo.await.unwrap();
/// });
/// ```
#[derive(Debug)]
pub struct TcpStream {
    end: End,
    read_alarm: Alarm,
    write_alarm: Alarm,
    nodelay: Cell<bool>,
}

impl TcpStream {
    pub(super) fn new(end: End) -> Self {
        Self {
            end,
            read_alarm: Alarm::default(),
            write_alarm: Alarm::default(),
            nodelay: Cell::new(false),
        }
    }

    /// Opens a connection from `host` to `addr` (an IP literal; loopback
    /// means `host` itself); see the module docs for the timeline.
    ///
    /// Errors: `ConnectionRefused` if nothing listens at `addr` (also when
    /// no host has that IP), `TimedOut` if a partition outlasted
    /// [`Faults::connect_timeout`](super::Faults::connect_timeout),
    /// `InvalidInput` for an address that is not a literal. Dropping the
    /// future before it completes closes the half-open connection.
    ///
    /// ```
    /// use weft_runtime::sim::net::{Faults, Net, TcpStream};
    ///
    /// let rt = weft_runtime::Builder::new().start_paused(true).build();
    /// rt.block_on(async {
    ///     let net = Net::new(1, Faults::default());
    ///     let client = net.host("10.0.0.2");
    ///     let err = TcpStream::connect(&client, "10.0.0.9:80").await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside the runtime the host's net was made in.
    pub async fn connect(host: &Host, addr: impl ToSimAddr) -> io::Result<TcpStream> {
        let to = on_host(host.ip, addr.to_sim_addr()?);
        let world: &WorldRef = &host.world;
        let give_up = world.with(|w| w.wire.now() + w.wire.faults.connect_timeout);
        let mut alarm = Alarm::default();
        loop {
            match world.with(|w| w.tcp_syn(host.ip, to))? {
                Syn::Sent { conn, established } => {
                    let stream = TcpStream::new(End::new(world.clone(), conn, Side::Client));
                    sleep_until(world.with(|w| w.wire.instant(established))).await;
                    return Ok(stream);
                }
                Syn::Refused { at } => {
                    sleep_until(world.with(|w| w.wire.instant(at))).await;
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionRefused,
                        format!("nothing listens at simulated address {to}"),
                    ));
                }
                Syn::Held => {
                    let healed = poll_fn(|cx| {
                        alarm.poll_step(cx, |cx| {
                            world.with(|w| w.wait_heal(host.ip, to, give_up, cx.waker()))
                        })
                    })
                    .await;
                    if !healed {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("connect to {to}: a partition outlasted the connect timeout"),
                        ));
                    }
                }
            }
        }
    }

    ops::read_methods!();
    ops::write_methods!();
    ops::addr_methods!();

    /// Shuts down the reading side (later reads return end of stream), the
    /// writing side (the peer reads end of stream after the bytes already
    /// sent: a half-close) or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            self.end
                .world
                .with(|w| w.tcp_shutdown_read(self.end.conn, self.end.side));
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            self.end.shutdown_write()?;
        }
        Ok(())
    }

    /// Records `TCP_NODELAY`. It changes nothing here: the simulation
    /// never coalesces writes (each write is one segment).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.nodelay.set(nodelay);
        Ok(())
    }

    /// What [`set_nodelay`](TcpStream::set_nodelay) recorded.
    pub fn nodelay(&self) -> io::Result<bool> {
        Ok(self.nodelay.get())
    }

    /// Splits the stream into a read half and a write half that borrow it,
    /// for two futures of one task.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (
            ReadHalf::new(&self.end, &mut self.read_alarm),
            WriteHalf::new(&self.end, &mut self.write_alarm),
        )
    }

    /// Splits the stream into owned halves that two tasks can use at once.
    /// The connection closes when both are dropped; dropping the write
    /// half alone shuts down the writing side (the peer reads end of
    /// stream).
    ///
    /// ```
    /// use weft_runtime::sim::net::{Faults, Net, TcpListener, TcpStream};
    ///
    /// let rt = weft_runtime::Builder::new().start_paused(true).build();
    /// rt.block_on(async {
    ///     let net = Net::new(2, Faults::default());
    ///     let (a, b) = (net.host("10.0.0.1"), net.host("10.0.0.2"));
    ///     let mut listener = TcpListener::bind(&a, "10.0.0.1:9").await.unwrap();
    ///     let client = TcpStream::connect(&b, "10.0.0.1:9").await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     let (_reader, mut writer) = client.into_split();
    ///     weft_runtime::spawn(async move { writer.write_all(b"one way").await.unwrap() });
    ///     let mut got = Vec::new();
    ///     let (mut from_client, _) = server.into_split();
    ///     let mut buf = [0; 16];
    ///     loop {
    ///         match from_client.read(&mut buf).await.unwrap() {
    ///             0 => break,
    ///             n => got.extend_from_slice(&buf[..n]),
    ///         }
    ///     }
    ///     assert_eq!(got, b"one way");
    /// });
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let end = Rc::new(self.end);
        (
            OwnedReadHalf::new(end.clone(), self.read_alarm),
            OwnedWriteHalf::new(end, self.write_alarm),
        )
    }
}
