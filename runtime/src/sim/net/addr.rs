//! [`ToSimAddr`]: the addresses simulated sockets accept.
//!
//! The real sockets take `ToSocketAddrs`, which sends host names to the
//! OS resolver: real I/O, with answers that differ between machines. A
//! simulation must not do that, so its sockets take IP literals only: a
//! `SocketAddr`, an `(ip, port)` pair, or a string such as
//! `"10.0.0.2:80"`. Anything else is an `InvalidInput` error.

use std::io;
use std::net::{IpAddr, SocketAddr};

/// Something that names one simulated socket address; see the module docs.
///
/// ```
/// use std::net::SocketAddr;
/// use weft_runtime::sim::net::ToSimAddr;
///
/// let addr: SocketAddr = "10.0.0.2:80".parse().unwrap();
/// assert_eq!("10.0.0.2:80".to_sim_addr().unwrap(), addr);
/// assert_eq!(([10, 0, 0, 2], 80).to_sim_addr().unwrap(), addr);
/// assert!("server:80".to_sim_addr().is_err()); // no name resolution
/// ```
pub trait ToSimAddr {
    /// The address, or `InvalidInput`.
    fn to_sim_addr(&self) -> io::Result<SocketAddr>;
}

impl ToSimAddr for SocketAddr {
    fn to_sim_addr(&self) -> io::Result<SocketAddr> {
        Ok(*self)
    }
}

impl ToSimAddr for str {
    fn to_sim_addr(&self) -> io::Result<SocketAddr> {
        self.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{self:?} is not an IP:port literal (simulated sockets resolve no names)"),
            )
        })
    }
}

impl ToSimAddr for String {
    fn to_sim_addr(&self) -> io::Result<SocketAddr> {
        self.as_str().to_sim_addr()
    }
}

impl<I: Into<IpAddr> + Copy> ToSimAddr for (I, u16) {
    fn to_sim_addr(&self) -> io::Result<SocketAddr> {
        Ok(SocketAddr::new(self.0.into(), self.1))
    }
}

impl<T: ToSimAddr + ?Sized> ToSimAddr for &T {
    fn to_sim_addr(&self) -> io::Result<SocketAddr> {
        (**self).to_sim_addr()
    }
}

/// Parses a host's IP literal, as [`Net::host`](super::Net::host) takes it.
pub(super) fn parse_host_ip(ip: &str) -> IpAddr {
    let parsed: IpAddr = ip.parse().unwrap_or_else(|_| {
        panic!("simulated host {ip:?}: not an IP address literal such as \"10.0.0.1\"")
    });
    assert!(
        !parsed.is_loopback() && !parsed.is_unspecified(),
        "simulated host {ip:?}: loopback and unspecified addresses mean \"this host\" to its sockets"
    );
    parsed
}

/// `addr` as seen from host `ip`: the loopback and unspecified addresses
/// stand for the host itself.
pub(super) fn on_host(ip: IpAddr, addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_loopback() || addr.ip().is_unspecified() {
        SocketAddr::new(ip, addr.port())
    } else {
        addr
    }
}
