//! Turning what a caller wrote (`"127.0.0.1:80"`, `("example.org", 443)`,
//! a `SocketAddr`) into socket addresses, without ever blocking the
//! runtime's thread.
//!
//! The OS resolver (`getaddrinfo`) blocks while it asks DNS, for seconds if
//! a server is slow. So names are resolved on the blocking pool, and the
//! runtime's thread keeps running other tasks meanwhile; a literal address
//! is parsed on the spot, without that round trip:
//!
//! ```text
//!   connect(addr) ──▶ SocketAddr, (IpAddr, port), "1.2.3.4:80", "[::1]:80" ──▶ parsed here, at once
//!                │
//!                └──▶ "example.org:80", ("example.org", 80) ──▶ lookup_host: getaddrinfo on the
//!                                                               blocking pool, the task awaits it
//! ```
//!
//! That split needs to know, per type, which is which, so the socket
//! constructors take weft's own [`ToSocketAddrs`] (implemented for the
//! address types of std and for strings) rather than std's trait, whose
//! one method hides whether it will block. Any std `ToSocketAddrs` value
//! can still be resolved with [`lookup_host`], and its addresses passed on.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Addresses a socket can bind or connect to: a [`SocketAddr`] (or its V4
/// and V6 forms), an `(IpAddr, u16)` pair, a slice of socket addresses, or
/// a host name with a port, as `"host:port"` or `("host", port)`.
///
/// Literal addresses are parsed at once; a host name is resolved by
/// [`lookup_host`], on the blocking pool, so the runtime's thread is never
/// blocked by a slow DNS server. The trait is sealed: it is implemented
/// for these types only.
///
/// ```
/// use weft_runtime::net::TcpListener;
///
/// weft_runtime::run(async {
///     let parsed = TcpListener::bind("127.0.0.1:0").await.unwrap(); // at once
///     let resolved = TcpListener::bind(("localhost", 0)).await.unwrap(); // on the pool
///     assert!(parsed.local_addr().unwrap().ip().is_loopback());
///     assert!(resolved.local_addr().unwrap().ip().is_loopback());
/// });
/// ```
pub trait ToSocketAddrs: sealed::Sealed {}

mod sealed {
    /// What an address argument stands for, found without blocking.
    pub trait Sealed {
        fn to_addrs(&self) -> super::Addrs;
    }
}

/// What an address argument stands for: addresses already, or a name for
/// the resolver.
#[derive(Debug)]
pub enum Addrs {
    Ready(Vec<SocketAddr>),
    /// `"host:port"`, for the OS resolver.
    Lookup(String),
}

/// Implements the trait for types whose value converts to one address.
macro_rules! literal_addr {
    ($($ty:ty),*) => {$(
        impl ToSocketAddrs for $ty {}
        impl sealed::Sealed for $ty {
            fn to_addrs(&self) -> Addrs {
                Addrs::Ready(vec![SocketAddr::from(*self)])
            }
        }
    )*};
}

literal_addr!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

impl ToSocketAddrs for [SocketAddr] {}
impl sealed::Sealed for [SocketAddr] {
    fn to_addrs(&self) -> Addrs {
        Addrs::Ready(self.to_vec())
    }
}

impl ToSocketAddrs for str {}
impl sealed::Sealed for str {
    fn to_addrs(&self) -> Addrs {
        match self.parse() {
            Ok(addr) => Addrs::Ready(vec![addr]),
            Err(_) => Addrs::Lookup(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl sealed::Sealed for String {
    fn to_addrs(&self) -> Addrs {
        self.as_str().to_addrs()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl sealed::Sealed for (&str, u16) {
    fn to_addrs(&self) -> Addrs {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => Addrs::Ready(vec![SocketAddr::new(ip, port)]),
            Err(_) => Addrs::Lookup(format!("{host}:{port}")),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl sealed::Sealed for (String, u16) {
    fn to_addrs(&self) -> Addrs {
        (self.0.as_str(), self.1).to_addrs()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrs + ?Sized> sealed::Sealed for &T {
    fn to_addrs(&self) -> Addrs {
        (**self).to_addrs()
    }
}

/// Every address `addr` stands for, in the resolver's order: parsed at
/// once for a literal, resolved on the blocking pool for a name. Never
/// empty.
pub(crate) async fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    match addr.to_addrs() {
        Addrs::Ready(addrs) if addrs.is_empty() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "an empty list of socket addresses was given",
        )),
        Addrs::Ready(addrs) => Ok(addrs),
        Addrs::Lookup(name) => lookup_host(name).await,
    }
}

/// Resolves `host` with the OS resolver on the blocking pool
/// ([`spawn_blocking`](crate::spawn_blocking)), so that the runtime's
/// thread runs other tasks while DNS answers. Takes anything std can
/// resolve: `"example.org:443"`, `("example.org", 443)`, a `SocketAddr`, or
/// a type of one's own.
///
/// The addresses come in the resolver's order. A name that does not
/// resolve, or resolves to no address, gives an error that names it.
/// Dropping the future does not stop the lookup already running on the
/// pool; its answer is discarded.
///
/// ```
/// weft_runtime::run(async {
///     let addrs = weft_runtime::net::lookup_host("localhost:80").await.unwrap();
///     assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
///
///     // A port that is not a number: the error names what was asked.
///     let err = weft_runtime::net::lookup_host("localhost:http").await.unwrap_err();
///     assert!(err.to_string().contains("localhost:http"));
/// });
/// ```
///
/// # Panics
///
/// Outside a weft runtime.
pub async fn lookup_host<A>(host: A) -> io::Result<Vec<SocketAddr>>
where
    A: std::net::ToSocketAddrs + fmt::Debug + Send + 'static,
{
    let looked_up = crate::spawn_blocking(move || {
        let addrs = host.to_socket_addrs().map(Iterator::collect::<Vec<_>>);
        (host, addrs)
    })
    .await;
    let (host, addrs) = match looked_up {
        Ok(answer) => answer,
        Err(e) => {
            return Err(io::Error::other(format!(
                "the name lookup did not finish: {e}"
            )))
        }
    };
    match addrs {
        Ok(addrs) if addrs.is_empty() => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host:?} resolved to no socket address"),
        )),
        Ok(addrs) => Ok(addrs),
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("cannot resolve {host:?}: {e}"),
        )),
    }
}
