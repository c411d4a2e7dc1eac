//! A simulated network, for testing distributed programs in one process:
//! hosts with their own IP addresses, TCP and UDP sockets between them,
//! and faults (latency and jitter, loss, reordering, resets, partitions)
//! drawn from a seed.
//!
//! ```text
//!   Net::new(seed, faults) ── host("10.0.0.1") ── TcpListener::bind(&host, addr)
//!        │                    host("10.0.0.2") ── TcpStream::connect(&host, addr)
//!        │                                        UdpSocket::bind(&host, addr)
//!        └── partition(&a, &b) / heal(&a, &b) / flap(...)   events() : the log
//! ```
//!
//! # Swapping real sockets for simulated ones
//!
//! [`TcpStream`], [`TcpListener`] and their halves have the methods of
//! weft's real ones ([`crate::net`]) with the same names, signatures and
//! cancel-safety; [`UdpSocket`] has the usual UDP methods. Only the
//! constructors differ: they take the [`Host`] the socket lives on
//! (`TcpListener::bind(&host, addr)`, `TcpStream::connect(&host, addr)`,
//! `UdpSocket::bind(&host, addr)`), since one process plays many machines.
//! Code written against the methods switches with a type alias or a `cfg`,
//! and builds its sockets in one place. Addresses are IP literals: the
//! simulation resolves no names ([`ToSimAddr`]).
//!
//! # What the network does
//!
//! * **Time.** Every packet's arrival time is the runtime's clock at the
//!   send plus a delay drawn from [`Faults`]. Under a paused clock
//!   (`Builder::new().start_paused(true)`) the runtime jumps from one
//!   arrival to the next, so a minute of simulated traffic runs in
//!   milliseconds. Deliveries are observed by the task that waits for them
//!   (a timer at the arrival time): the network spawns no task of its own.
//!   Timers tick every millisecond, so data due at 2.05 ms is read at the
//!   3 ms tick; the log keeps the exact arrival times.
//! * **TCP** keeps each direction's bytes in order, with a 64 KiB window
//!   that makes writers wait for a slow reader. A handshake takes one round
//!   trip for the client and one and a half for the listener. Nothing
//!   listening (or no host at that IP) gives `ConnectionRefused` after a
//!   round trip. A lost segment arrives a retransmission timeout late. A
//!   reset, drawn per write, fails the write and every later operation on
//!   both ends with `ConnectionReset`.
//! * **UDP** loses, delays and reorders datagrams one by one.
//! * **Partitions** ([`Net::partition`]) cut two hosts apart until
//!   [`Net::heal`]. What happens then is what a real TCP does: a connect
//!   keeps retrying its SYN and succeeds after the heal, or fails with
//!   `TimedOut` after [`Faults::connect_timeout`]; an open connection
//!   stalls, its data held (in flight or written later) and delivered in
//!   order after the heal, one delay after it; data held longer than
//!   [`Faults::abort_after`] makes the sender give up (`TimedOut` on its
//!   end, `ConnectionReset` on the peer's). Datagrams sent across a
//!   partition, or in flight when it begins, are lost.
//! * **The log.** Every decision is recorded as a [`NetEvent`] with its
//!   simulated time: [`Net::events`].
//!
//! # Determinism
//!
//! Every fault decision draws from the net's [`SimRng`](crate::sim::SimRng),
//! seeded by [`Net::new`], at the moment the operation that needs it runs,
//! in a fixed order per operation; connections and sockets are walked in
//! `BTreeMap` order, never in hash order; no real time, thread id or OS
//! resource is consulted. So with the same seed, the same faults and the
//! same order of task polls, every decision, arrival time and log line is
//! the same, on every run and every machine. The order of task polls is
//! the runtime's: deterministic on the paused clock with no real I/O in
//! play (the default FIFO scheduler needs nothing more). Real sockets,
//! `spawn_blocking` or a real clock make it depend on the OS again: the
//! simulation still works then, but two runs may differ.
//!
//! What is not simulated: bandwidth (only latency limits throughput,
//! and the window), congestion control, MTU segmentation (a write is one
//! segment), IP fragmentation, ICMP (a datagram to a closed port vanishes),
//! TIME_WAIT, and the tasks' own CPU time.
//!
//! ```
//! use std::time::Duration;
//! use weft_runtime::sim::net::{Faults, Net, TcpListener, TcpStream};
//! use weft_runtime::time;
//!
//! let rt = weft_runtime::Builder::new().start_paused(true).build();
//! rt.block_on(async {
//!     let faults = Faults { latency: Duration::from_millis(10), ..Faults::default() };
//!     let net = Net::new(42, faults);
//!     let (server, client) = (net.host("10.0.0.1"), net.host("10.0.0.2"));
//!     let mut listener = TcpListener::bind(&server, "10.0.0.1:80").await.unwrap();
//!     let start = time::now();
//!     let mut stream = TcpStream::connect(&client, "10.0.0.1:80").await.unwrap();
//!     assert_eq!(time::now() - start, Duration::from_millis(20)); // one round trip
//!     let (mut accepted, _) = listener.accept().await.unwrap(); // at 30 ms
//!
//!     net.partition(&server, &client);
//!     stream.write_all(b"later").await.unwrap(); // held by the partition
//!     time::sleep(Duration::from_secs(5)).await;
//!     net.heal(&server, &client); // at 5.03 s: the data arrives one delay later
//!     let mut buf = [0; 5];
//!     accepted.read_exact(&mut buf).await.unwrap();
//!     assert_eq!(&buf, b"later");
//!     assert_eq!(time::now() - start, Duration::from_millis(5_040));
//! });
//! ```

mod addr;
mod conn;
mod datagram;
mod event;
mod faults;
mod handshake;
mod listener;
mod ops;
mod split;
mod stream;
mod udp;
mod wait;
mod world;

use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::time::Duration;

pub use addr::ToSimAddr;
pub use event::{ConnectOutcome, DatagramFate, NetEvent, NetEventKind, ResetCause};
pub use faults::Faults;
pub use listener::TcpListener;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
pub use stream::TcpStream;
pub use udp::UdpSocket;

use crate::time::sleep;
use crate::JoinHandle;
use world::WorldRef;

/// A simulated network: its hosts, sockets, partitions, faults, seeded
/// random stream and log. Cloning gives another handle on the same
/// network. See the [module docs](self).
///
/// ```
/// use weft_runtime::sim::net::{Faults, Net};
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let net = Net::new(7, Faults::default());
///     let a = net.host("10.0.0.1");
///     assert_eq!(a.ip().to_string(), "10.0.0.1");
///     assert_eq!(net.host("10.0.0.1").ip(), a.ip()); // the same host
/// });
/// ```
#[derive(Debug, Clone)]
pub struct Net {
    world: WorldRef,
    seed: u64,
}

impl Net {
    /// A network whose faults are drawn from `seed`. Its simulated time
    /// starts now, on the clock of the runtime it is made in.
    ///
    /// # Panics
    ///
    /// Outside a weft runtime: the network runs on its clock.
    pub fn new(seed: u64, faults: Faults) -> Net {
        assert!(
            crate::Handle::try_current().is_some(),
            "sim::net::Net::new must be called inside a weft runtime (it runs on its clock)"
        );
        Net {
            world: WorldRef::new(seed, faults),
            seed,
        }
    }

    /// The seed the network draws its faults from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The host with IP address `ip` (a literal such as `"10.0.0.1"` or
    /// `"fd00::1"`), added to the network the first time it is named.
    ///
    /// # Panics
    ///
    /// If `ip` is not an IP address literal, or is a loopback or
    /// unspecified address (to a socket, those mean "this host").
    pub fn host(&self, ip: &str) -> Host {
        let ip = addr::parse_host_ip(ip);
        self.world.with(|w| w.add_host(ip));
        Host {
            world: self.world.clone(),
            ip,
        }
    }

    /// Cuts `a` and `b` apart, in both directions, until
    /// [`heal`](Net::heal); see the module docs for what TCP and UDP do
    /// meanwhile. Partitioning hosts already apart, or a host from itself,
    /// does nothing.
    ///
    /// # Panics
    ///
    /// If a host belongs to another network.
    pub fn partition(&self, a: &Host, b: &Host) {
        self.check(a, b);
        self.world.with(|w| w.partition(a.ip, b.ip));
    }

    /// Lets `a` and `b` reach each other again: held TCP data is delivered
    /// in order, one delay from now, and waiting connects retry.
    ///
    /// # Panics
    ///
    /// If a host belongs to another network.
    pub fn heal(&self, a: &Host, b: &Host) {
        self.check(a, b);
        self.world.with(|w| w.heal(a.ip, b.ip));
    }

    /// Whether a partition stands between `a` and `b`.
    pub fn is_partitioned(&self, a: &Host, b: &Host) -> bool {
        self.world.with(|w| w.is_partitioned(a.ip, b.ip))
    }

    /// Spawns a task that makes the link between `a` and `b` flap
    /// `cycles` times: up for a time drawn from `up`, then partitioned
    /// for a time drawn from `down`, then healed. The durations are drawn
    /// from the net's seed when each phase begins. Abort the returned
    /// handle to stop early (the link stays as it is then).
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_runtime::sim::net::{Faults, Net};
    ///
    /// let rt = weft_runtime::Builder::new().start_paused(true).build();
    /// rt.block_on(async {
    ///     let net = Net::new(5, Faults::default());
    ///     let (a, b) = (net.host("10.0.0.1"), net.host("10.0.0.2"));
    ///     let second = Duration::from_secs(1);
    ///     net.flap(&a, &b, second..=second, second..=second, 2).await.unwrap();
    ///     assert_eq!(weft_runtime::sim::net::NetEventKind::Heal { a: a.ip(), b: b.ip() },
    ///                net.events().last().unwrap().kind);
    ///     assert_eq!(net.events().last().unwrap().at, Duration::from_secs(4));
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// If a host belongs to another network, or outside a runtime.
    pub fn flap(
        &self,
        a: &Host,
        b: &Host,
        up: RangeInclusive<Duration>,
        down: RangeInclusive<Duration>,
        cycles: u32,
    ) -> JoinHandle<()> {
        self.check(a, b);
        let (net, a, b) = (self.clone(), a.clone(), b.clone());
        let name = format!("sim net flap {} <-> {}", a.ip, b.ip);
        crate::spawn_named(name, async move {
            let draw = |range: &RangeInclusive<Duration>| {
                net.world.with(|w| w.wire.rng.duration_in(range.clone()))
            };
            for _ in 0..cycles {
                sleep(draw(&up)).await;
                net.partition(&a, &b);
                sleep(draw(&down)).await;
                net.heal(&a, &b);
            }
        })
    }

    /// Changes the faults from now on (packets already sent keep their
    /// fate).
    pub fn set_faults(&self, faults: Faults) {
        self.world.with(|w| w.wire.faults = faults);
    }

    /// A copy of the log so far, oldest first.
    pub fn events(&self) -> Vec<NetEvent> {
        self.world.with(|w| w.log().to_vec())
    }

    /// Takes the log so far, leaving it empty (for long runs).
    pub fn take_events(&self) -> Vec<NetEvent> {
        self.world.with(|w| w.take_log())
    }

    fn check(&self, a: &Host, b: &Host) {
        assert!(
            self.world.same(&a.world) && self.world.same(&b.world),
            "a host of another simulated network"
        );
    }
}

/// One simulated machine of a [`Net`], named by its IP address. Sockets
/// are made on a host; cloning gives another handle on the same host.
#[derive(Debug, Clone)]
pub struct Host {
    world: WorldRef,
    ip: IpAddr,
}

impl Host {
    /// The host's IP address.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }
}
