//! Sockets on weft's reactor: TCP ([`TcpListener`], [`TcpStream`], and the
//! halves a stream splits into), UDP ([`UdpSocket`]), Unix sockets
//! ([`unix`], on Unix), their options, and name resolution off the
//! runtime's thread ([`lookup_host`]).
//!
//! Every socket is non-blocking and registered once with the runtime's
//! reactor, edge-triggered, for both directions. An operation follows one
//! rule:
//!
//! ```text
//!   read(buf) ──▶ readiness bit set? ──no──▶ store the task's waker, Pending
//!                      │yes                    (the next OS edge wakes it)
//!                      ▼
//!                 recv() syscall ── WouldBlock ──▶ clear the bit, wait for the edge
//!                      │ data / EOF / error
//!                      ▼
//!                    Ready
//! ```
//!
//! The readiness bit is cleared only when the socket is known to be
//! drained (or full): the OS answered `WouldBlock`, or a read or write moved
//! fewer bytes than asked, which saves the syscall that would only say
//! `WouldBlock`. From then on the kernel reports the next change as a fresh
//! edge: no wake-up is missed, and none is counted twice.
//!
//! **One task per direction.** The reactor keeps one waker for reading and
//! one for writing, so a socket can have one reader and one writer waiting
//! at the same time. The types enforce it: reading or writing a
//! [`TcpStream`] takes `&mut self`, and to read in one task while writing
//! in another, split the stream: [`TcpStream::into_split`] gives owned
//! halves (they share the registration through an `Rc`; the runtime is
//! single-threaded) and [`TcpStream::split`] borrowed ones.
//!
//! **Fairness.** Each completed operation spends one unit of the task's
//! cooperative budget. A task that always finds its socket ready (a peer
//! flooding it with data never makes `recv` say `WouldBlock`) is sent to the
//! back of the run queue after a bounded number of operations, so one busy
//! connection cannot starve the others.
//!
//! **Cancellation.** `read`, `write`, `accept` and `connect` are
//! cancel-safe: dropping the future before it completes loses no data (a
//! read that did not complete consumed nothing; a write that did not
//! complete sent nothing; a dropped `connect` closes its socket).
//! `write_all` and `read_exact` are not: dropped half-way, they do not say
//! how much was transferred.
//!
//! **Addresses.** `bind` and `connect` take anything that is
//! [`ToSocketAddrs`]. A `SocketAddr` or an IP literal such as
//! `"127.0.0.1:8080"` is parsed at once; a host name is resolved by the OS
//! resolver on the blocking pool ([`lookup_host`]), so a slow DNS server
//! never stalls the other tasks.
//!
//! **Options and raw access.** [`ListenOptions`] sets a listener up before
//! it binds (backlog, `SO_REUSEADDR`, `SO_REUSEPORT`, buffer sizes); a
//! [`TcpStream`] has keepalive, linger, TTL and buffer-size setters. Every
//! socket type converts from and into its standard-library twin
//! (`from_std`, `into_std`) and lends its OS handle (`AsRawFd`/`AsFd` on
//! Unix, `AsRawSocket`/`AsSocket` on Windows).
//!
//! With the cargo feature `io-compat`, the streams and their halves
//! implement `futures-io`'s `AsyncRead` and `AsyncWrite`; with `hyper`,
//! [`TcpStream`] and `unix::UnixStream` implement hyper's `rt::Read` and
//! `rt::Write` (see the `weft_runtime::hyper` module).
//!
//! ```
//! use weft_runtime::net::{TcpListener, TcpStream};
//!
//! weft_runtime::run(async {
//!     let mut listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let client = weft_runtime::spawn(async move {
//!         let mut stream = TcpStream::connect(addr).await.unwrap();
//!         stream.write_all(b"ping").await.unwrap();
//!         let mut reply = [0; 4];
//!         stream.read_exact(&mut reply).await.unwrap();
//!         reply
//!     });
//!     let (mut peer, _) = listener.accept().await.unwrap();
//!     let mut request = [0; 4];
//!     peer.read_exact(&mut request).await.unwrap();
//!     peer.write_all(b"pong").await.unwrap();
//!     assert_eq!(&request, b"ping");
//!     assert_eq!(&client.await.unwrap(), b"pong");
//! });
//! ```

mod addr;
mod datagram;
#[cfg(feature = "hyper")]
mod hyper_io;
#[cfg(feature = "io-compat")]
mod io_compat;
mod listen_options;
mod listener;
mod ops;
mod raw_access;
mod split;
mod stream;
mod tcp_options;
mod udp;
#[cfg(unix)]
pub mod unix;

pub use addr::{lookup_host, ToSocketAddrs};
pub use listen_options::ListenOptions;
pub use listener::TcpListener;
pub(crate) use ops::retry_interrupted;
pub(crate) use split::SocketCloser;
pub use stream::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, TcpStream, WriteHalf};
pub use udp::UdpSocket;
