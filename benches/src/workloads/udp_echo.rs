//! udp_echo: 64-byte datagrams through an echo server, one client socket.
//!
//! Two UDP sockets on 127.0.0.1 in one task: the server half receives a
//! datagram and sends it back to its sender; the client half keeps a
//! window of W datagrams in flight (it sends the next as each echo comes
//! back) until N have been echoed. Both halves are joined in the runtime's
//! `block_on` future (the same `zip` on every runtime), because weft's
//! sockets belong to their runtime's thread and are not `Send`.
//!
//! ```text
//!   client ──W datagrams in flight──▶ server
//!     ▲                                 │ recv_from, send_to back
//!     └─────── echo: send the next ◀────┘            (× N)
//! ```
//!
//! Each datagram carries its sequence number: every echo must be 64 bytes
//! long, N must come back, and their numbers must add up to
//! `0 + 1 + … + (N - 1)`.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use futures_lite::future::zip;

use super::io_message::{message, sequence_of, MESSAGE};
use super::{expect_eq, Verified};
use crate::runtimes::{BenchRuntime, Smol, Tokio, Weft};

/// A runtime's UDP socket, as the workload uses it.
pub trait UdpRuntime: BenchRuntime {
    /// The runtime's UDP socket type.
    type Socket;

    /// Binds a socket to 127.0.0.1 on a free port.
    fn bind_local() -> impl Future<Output = io::Result<Self::Socket>>;

    /// The address `socket` is bound to.
    fn local_addr(socket: &Self::Socket) -> io::Result<SocketAddr>;

    /// Sends `buf` as one datagram to `target`.
    fn send_to(
        socket: &Self::Socket,
        buf: &[u8],
        target: SocketAddr,
    ) -> impl Future<Output = io::Result<usize>>;

    /// Receives one datagram.
    fn recv_from(
        socket: &Self::Socket,
        buf: &mut [u8],
    ) -> impl Future<Output = io::Result<(usize, SocketAddr)>>;
}

/// Implements [`UdpRuntime`] for `$runtime` with `$socket`: the three
/// libraries' UDP sockets have the same method names and shapes.
macro_rules! udp_runtime {
    ($runtime:ty, $socket:ty) => {
        impl UdpRuntime for $runtime {
            type Socket = $socket;

            async fn bind_local() -> io::Result<Self::Socket> {
                <$socket>::bind("127.0.0.1:0").await
            }

            fn local_addr(socket: &Self::Socket) -> io::Result<SocketAddr> {
                socket.local_addr()
            }

            async fn send_to(
                socket: &Self::Socket,
                buf: &[u8],
                target: SocketAddr,
            ) -> io::Result<usize> {
                socket.send_to(buf, target).await
            }

            async fn recv_from(
                socket: &Self::Socket,
                buf: &mut [u8],
            ) -> io::Result<(usize, SocketAddr)> {
                socket.recv_from(buf).await
            }
        }
    };
}

udp_runtime!(Weft, weft_runtime::net::UdpSocket);
udp_runtime!(Tokio, tokio::net::UdpSocket);
udp_runtime!(Smol, smol::net::UdpSocket);

/// `datagrams` 64-byte datagrams echoed, `window` in flight at a time.
///
/// # Panics
///
/// If a socket operation fails (a benchmark has no error to recover from).
///
/// ```
/// use weft_benches::runtimes::{BenchRuntime, Weft};
/// use weft_benches::workloads::udp_echo;
///
/// let rt = Weft::new();
/// assert!(rt.block_on(udp_echo::<Weft>(100, 4)).is_ok());
/// ```
pub async fn udp_echo<R: UdpRuntime>(datagrams: u64, window: u64) -> Verified {
    let server = R::bind_local().await.expect("udp_echo: bind the server");
    let client = R::bind_local().await.expect("udp_echo: bind the client");
    let server_addr = R::local_addr(&server).expect("udp_echo: server address");
    let serve = async {
        let mut buf = [0; MESSAGE];
        for _ in 0..datagrams {
            let (len, from) = R::recv_from(&server, &mut buf)
                .await
                .expect("udp_echo: server receive");
            R::send_to(&server, &buf[..len], from)
                .await
                .expect("udp_echo: server send");
        }
    };
    let drive = async {
        let client = &client;
        let send =
            |sequence| async move { R::send_to(client, &message(sequence), server_addr).await };
        let mut sent = 0;
        while sent < datagrams.min(window) {
            send(sent).await.expect("udp_echo: client send");
            sent += 1;
        }
        let mut buf = [0; MESSAGE];
        let (mut received, mut sum, mut short) = (0, 0, 0);
        while received < datagrams {
            let (len, _) = R::recv_from(client, &mut buf)
                .await
                .expect("udp_echo: client receive");
            short += u64::from(len != MESSAGE);
            sum += sequence_of(&buf);
            received += 1;
            if sent < datagrams {
                send(sent).await.expect("udp_echo: client send");
                sent += 1;
            }
        }
        (received, sum, short)
    };
    let ((), (received, sum, short)) = zip(serve, drive).await;
    expect_eq("echoes shorter than 64 bytes", 0, short)?;
    expect_eq("datagrams echoed", datagrams, received)?;
    expect_eq(
        "sum of sequence numbers echoed",
        datagrams * datagrams.saturating_sub(1) / 2,
        sum,
    )
}
