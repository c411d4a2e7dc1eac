//! The state of one simulated network, shared by every handle on it, and
//! the wire its packets travel on.
//!
//! All of it sits in one `Rc<RefCell<World>>`: the runtime is
//! single-threaded, so a handle borrows the world for the length of one
//! operation and no lock is needed. Everything is kept in `BTreeMap`s and
//! `BTreeSet`s, never in hash maps, so that every walk over connections or
//! sockets (when a partition begins or heals) takes the same order on every
//! run: that order decides which random numbers each packet draws.
//!
//! A waker may run arbitrary code, so none is woken while the world is
//! borrowed: operations push the wakers to wake onto
//! [`Wire::wake`], and [`WorldRef::with`] wakes them once the borrow has
//! ended.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::task::Waker;
use std::time::{Duration, Instant};

use super::conn::Connection;
use super::datagram::Inbox;
use super::event::{NetEvent, NetEventKind};
use super::faults::Faults;
use super::handshake::Backlog;
use crate::sim::SimRng;

/// The first port handed out when a socket binds port 0 (the start of
/// IANA's dynamic range, as on most systems).
const FIRST_EPHEMERAL_PORT: u16 = 49152;

/// What a simulated operation asks of the task that tried it.
#[derive(Debug)]
pub(super) enum Step<T> {
    /// Done.
    Ready(T),
    /// Not yet: the task's waker is registered for the next change, and it
    /// should also be polled again at the instant given (the arrival of
    /// data already on the way, or a timeout), if any.
    Wait(Option<Instant>),
}

/// The wakers of tasks waiting for the same change (several tasks can
/// wait on one UDP socket or for one partition to heal).
#[derive(Debug, Default)]
pub(super) struct Wakers(Vec<Waker>);

impl Wakers {
    /// Adds `waker`, unless it would wake a task already in the list.
    pub(super) fn register(&mut self, waker: &Waker) {
        if !self.0.iter().any(|w| w.will_wake(waker)) {
            self.0.push(waker.clone());
        }
    }
}

/// The medium: simulated time, the seeded stream, the faults, the
/// partitions, the log, and the wakers to wake after the current
/// operation.
#[derive(Debug)]
pub(super) struct Wire {
    /// Simulated time 0: the runtime's clock when the net was made.
    epoch: Instant,
    pub(super) rng: SimRng,
    pub(super) faults: Faults,
    /// Pairs of hosts that cannot reach each other, smaller address first.
    partitions: BTreeSet<(IpAddr, IpAddr)>,
    /// Connects waiting for a partition to heal.
    pub(super) heal_waiters: Wakers,
    log: Vec<NetEvent>,
    to_wake: Vec<Waker>,
}

impl Wire {
    /// Simulated time: how far the runtime's clock is past the epoch.
    pub(super) fn now(&self) -> Duration {
        crate::time::now().saturating_duration_since(self.epoch)
    }

    /// The runtime-clock instant of simulated time `at`.
    pub(super) fn instant(&self, at: Duration) -> Instant {
        self.epoch + at
    }

    /// One packet's one-way delay: latency plus a draw of the jitter.
    pub(super) fn delay(&mut self) -> Duration {
        self.faults.latency + self.rng.duration_in(Duration::ZERO..=self.faults.jitter)
    }

    pub(super) fn partitioned(&self, a: IpAddr, b: IpAddr) -> bool {
        self.partitions.contains(&pair(a, b))
    }

    pub(super) fn log(&mut self, kind: NetEventKind) {
        let at = self.now();
        self.log.push(NetEvent { at, kind });
    }

    /// Wakes `waker` once the current operation has released the world.
    pub(super) fn wake(&mut self, waker: Option<Waker>) {
        self.to_wake.extend(waker);
    }

    /// Wakes every waker of `wakers` once the operation is over.
    pub(super) fn wake_all(&mut self, wakers: &mut Wakers) {
        self.to_wake.append(&mut wakers.0);
    }
}

/// A pair of hosts in a fixed order, so that `(a, b)` and `(b, a)` are one
/// partition.
fn pair(a: IpAddr, b: IpAddr) -> (IpAddr, IpAddr) {
    (a.min(b), a.max(b))
}

/// Everything one simulated network holds.
#[derive(Debug)]
pub(super) struct World {
    pub(super) wire: Wire,
    /// Each host and the next ephemeral port it tries.
    hosts: BTreeMap<IpAddr, u16>,
    /// TCP addresses in use: listeners and the client ends of connections.
    pub(super) tcp_bound: BTreeSet<SocketAddr>,
    pub(super) listeners: BTreeMap<SocketAddr, Backlog>,
    pub(super) conns: BTreeMap<u64, Connection>,
    pub(super) next_conn: u64,
    pub(super) udp: BTreeMap<SocketAddr, Inbox>,
}

/// A handle on a world: what every host and socket holds.
#[derive(Debug, Clone)]
pub(super) struct WorldRef(Rc<RefCell<World>>);

impl WorldRef {
    pub(super) fn new(seed: u64, faults: Faults) -> Self {
        let wire = Wire {
            epoch: crate::time::now(),
            rng: SimRng::new(seed),
            faults,
            partitions: BTreeSet::new(),
            heal_waiters: Wakers::default(),
            log: Vec::new(),
            to_wake: Vec::new(),
        };
        Self(Rc::new(RefCell::new(World {
            wire,
            hosts: BTreeMap::new(),
            tcp_bound: BTreeSet::new(),
            listeners: BTreeMap::new(),
            conns: BTreeMap::new(),
            next_conn: 0,
            udp: BTreeMap::new(),
        })))
    }

    /// Runs one operation on the world, then wakes the tasks it woke.
    pub(super) fn with<R>(&self, op: impl FnOnce(&mut World) -> R) -> R {
        let (result, to_wake) = {
            let mut world = self.0.borrow_mut();
            let result = op(&mut world);
            (result, std::mem::take(&mut world.wire.to_wake))
        };
        for waker in to_wake {
            waker.wake();
        }
        result
    }

    /// Both handles are on the same network.
    pub(super) fn same(&self, other: &WorldRef) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl World {
    /// Adds a host (or finds it).
    pub(super) fn add_host(&mut self, ip: IpAddr) {
        self.hosts.entry(ip).or_insert(FIRST_EPHEMERAL_PORT);
    }

    /// The address a socket of host `ip` asked for (`requested`) binds to:
    /// the unspecified and loopback addresses stand for the host's own, and
    /// port 0 picks a free port with `in_use` telling which are taken.
    pub(super) fn bind_addr(
        &mut self,
        ip: IpAddr,
        requested: SocketAddr,
        in_use: impl Fn(&World, SocketAddr) -> bool,
    ) -> io::Result<SocketAddr> {
        let wanted = requested.ip();
        if wanted != ip && !wanted.is_unspecified() && !wanted.is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("{wanted} is not an address of simulated host {ip}"),
            ));
        }
        if requested.port() != 0 {
            let addr = SocketAddr::new(ip, requested.port());
            if in_use(self, addr) {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("{addr} is already in use"),
                ));
            }
            return Ok(addr);
        }
        let first = self.hosts[&ip];
        let mut port = first;
        loop {
            let addr = SocketAddr::new(ip, port);
            port = port.checked_add(1).unwrap_or(FIRST_EPHEMERAL_PORT);
            if !in_use(self, addr) {
                self.hosts.insert(ip, port);
                return Ok(addr);
            }
            if port == first {
                return Err(io::Error::new(
                    io::ErrorKind::AddrNotAvailable,
                    format!("simulated host {ip} has no free ephemeral port"),
                ));
            }
        }
    }

    /// Stops all traffic between `a` and `b`; see the module docs of `net`.
    pub(super) fn partition(&mut self, a: IpAddr, b: IpAddr) {
        if a == b || !self.wire.partitions.insert(pair(a, b)) {
            return;
        }
        self.wire.log(NetEventKind::Partition { a, b });
        self.hold_segments(a, b);
        self.cut_datagrams(a, b);
    }

    /// Lets traffic between `a` and `b` flow again.
    pub(super) fn heal(&mut self, a: IpAddr, b: IpAddr) {
        if !self.wire.partitions.remove(&pair(a, b)) {
            return;
        }
        self.wire.log(NetEventKind::Heal { a, b });
        self.release_segments(a, b);
        let mut waiters = std::mem::take(&mut self.wire.heal_waiters);
        self.wire.wake_all(&mut waiters);
    }

    pub(super) fn is_partitioned(&self, a: IpAddr, b: IpAddr) -> bool {
        self.wire.partitioned(a, b)
    }

    pub(super) fn take_log(&mut self) -> Vec<NetEvent> {
        std::mem::take(&mut self.wire.log)
    }

    pub(super) fn log(&self) -> &[NetEvent] {
        &self.wire.log
    }
}
