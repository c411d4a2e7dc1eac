//! The fixed load client for TCP echo servers: plain threads and blocking
//! sockets, the same for every server under test, so that only the server
//! differs between two measurements.
//!
//! * [`request_response`]: one thread per connection; each sends a
//!   message, waits for the whole echo, checks it byte for byte, and sends
//!   the next. All connections are open before the clock starts, and a
//!   barrier starts the threads together.
//! * [`bulk`]: one connection; a writer thread streams a block in 64 KiB
//!   writes then shuts its side down, while the calling thread reads the
//!   echo back, checks it and waits for the end of the stream.
//!
//! ```text
//!   request_response: thread i ── write msg(i, seq) ──▶ server ──▶ read 64 B, compare ──┐
//!                               ◀────────────────────── next request ◀──────────────────┘
//!   bulk:             writer ── 64 KiB writes, shutdown(Write) ──▶ server ──▶ reader: check, until EOF
//! ```
//!
//! Every socket has read and write timeouts, so a server that stops
//! answering makes the client fail within seconds instead of hanging.
//! Messages carry the connection and sequence numbers, and the bulk
//! stream a position-dependent pattern, so an echo that drops, reorders
//! or mixes bytes between connections is caught.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// How long a blocking socket call may wait before the client gives up.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(10);

/// The size of each write in [`bulk`].
const BULK_CHUNK: usize = 64 * 1024;

/// When a request/response load ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Each connection stops at its first request after this much time.
    After(Duration),
    /// Each connection sends exactly this many requests.
    Requests(u64),
}

/// What a [`request_response`] load did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestOutcome {
    /// Requests answered correctly, over all connections.
    pub requests: u64,
    /// From the start signal to the last connection's end.
    pub elapsed: Duration,
}

/// What a [`bulk`] load did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkOutcome {
    /// From the first write to the end of the echoed stream.
    pub elapsed: Duration,
}

/// Opens `connections` connections to the echo server at `addr` and runs
/// request/response with `message`-byte messages until `stop`.
///
/// ```
/// use std::io::{Read, Write};
/// use std::net::TcpListener;
/// use weft_benches::load_client::{request_response, Stop};
///
/// // A one-connection echo server on a plain thread.
/// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
/// let addr = listener.local_addr().unwrap();
/// std::thread::spawn(move || {
///     let (mut stream, _) = listener.accept().unwrap();
///     let mut buf = [0; 64];
///     loop {
///         match stream.read(&mut buf).unwrap() {
///             0 => break,
///             n => stream.write_all(&buf[..n]).unwrap(),
///         }
///     }
/// });
/// let outcome = request_response(addr, 1, 64, Stop::Requests(10)).unwrap();
/// assert_eq!(outcome.requests, 10);
/// ```
pub fn request_response(
    addr: SocketAddr,
    connections: usize,
    message: usize,
    stop: Stop,
) -> Result<RequestOutcome, String> {
    let streams = (0..connections)
        .map(|_| connect(addr))
        .collect::<Result<Vec<_>, _>>()?;
    let start = Arc::new(Barrier::new(connections + 1));
    let clients: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(connection, stream)| {
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                converse(stream, connection as u64, message, stop)
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    let mut requests = 0;
    for client in clients {
        requests += client
            .join()
            .map_err(|_| "a load client thread panicked".to_owned())??;
    }
    Ok(RequestOutcome {
        requests,
        elapsed: began.elapsed(),
    })
}

/// One connection's request/response loop; returns the requests answered.
fn converse(
    mut stream: TcpStream,
    connection: u64,
    message: usize,
    stop: Stop,
) -> Result<u64, String> {
    let started = Instant::now();
    let mut request = vec![0; message];
    let mut reply = vec![0; message];
    let mut sent = 0u64;
    loop {
        let done = match stop {
            Stop::After(duration) => started.elapsed() >= duration,
            Stop::Requests(n) => sent == n,
        };
        if done {
            return Ok(sent);
        }
        fill_message(&mut request, connection, sent);
        stream
            .write_all(&request)
            .map_err(|e| format!("connection {connection}: write: {e}"))?;
        stream
            .read_exact(&mut reply)
            .map_err(|e| format!("connection {connection}: read: {e}"))?;
        if reply != request {
            return Err(format!(
                "connection {connection}: request {sent} came back altered"
            ));
        }
        sent += 1;
    }
}

/// Writes the connection and sequence numbers into the message, then a
/// pattern derived from them.
fn fill_message(message: &mut [u8], connection: u64, sequence: u64) {
    let stamp = (connection << 40) ^ sequence;
    for (i, byte) in message.iter_mut().enumerate() {
        *byte = (stamp >> ((i % 8) * 8)) as u8 ^ i as u8;
    }
}

/// Streams `bytes` bytes through the echo server at `addr` on one
/// connection and checks what comes back.
///
/// ```
/// use std::io::{Read, Write};
/// use std::net::TcpListener;
/// use weft_benches::load_client::bulk;
///
/// let listener = TcpListener::bind("127.0.0.1:0").unwrap();
/// let addr = listener.local_addr().unwrap();
/// std::thread::spawn(move || {
///     let (mut stream, _) = listener.accept().unwrap();
///     let mut buf = [0; 4096];
///     loop {
///         match stream.read(&mut buf).unwrap() {
///             0 => break,
///             n => stream.write_all(&buf[..n]).unwrap(),
///         }
///     }
/// });
/// assert!(bulk(addr, 1 << 20).is_ok());
/// ```
pub fn bulk(addr: SocketAddr, bytes: u64) -> Result<BulkOutcome, String> {
    let mut reader = connect(addr)?;
    let mut writer = reader
        .try_clone()
        .map_err(|e| format!("bulk: cloning the socket: {e}"))?;
    let pattern = Arc::new(Pattern::new());
    let began = Instant::now();
    let sender = {
        let pattern = pattern.clone();
        thread::spawn(move || -> Result<(), String> {
            let mut offset = 0;
            while offset < bytes {
                let len = (bytes - offset).min(BULK_CHUNK as u64) as usize;
                writer
                    .write_all(pattern.at(offset, len))
                    .map_err(|e| format!("bulk: write: {e}"))?;
                offset += len as u64;
            }
            writer
                .shutdown(Shutdown::Write)
                .map_err(|e| format!("bulk: shutdown: {e}"))
        })
    };
    let mut buf = vec![0; BULK_CHUNK];
    let mut received = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| format!("bulk: read: {e}"))?;
        if n == 0 {
            break;
        }
        if buf[..n] != *pattern.at(received, n) {
            return Err(format!("bulk: the echo differs near byte {received}"));
        }
        received += n as u64;
    }
    let elapsed = began.elapsed();
    sender
        .join()
        .map_err(|_| "the bulk writer panicked".to_owned())??;
    if received != bytes {
        return Err(format!("bulk: sent {bytes} bytes, {received} came back"));
    }
    Ok(BulkOutcome { elapsed })
}

/// The bulk stream: the byte at offset `o` is `o % 251` (a prime period,
/// so no write size lines up with it). One precomputed stretch serves
/// every chunk: writing and checking are plain copies and compares.
struct Pattern(Vec<u8>);

impl Pattern {
    const PERIOD: u64 = 251;

    fn new() -> Self {
        let len = BULK_CHUNK + Self::PERIOD as usize;
        Self((0..len).map(|i| (i as u64 % Self::PERIOD) as u8).collect())
    }

    /// The `len` bytes of the stream starting at `offset` (`len` at most
    /// one chunk).
    fn at(&self, offset: u64, len: usize) -> &[u8] {
        let start = (offset % Self::PERIOD) as usize;
        &self.0[start..start + len]
    }
}

/// A blocking connection with Nagle off and bounded waits.
fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let stream = TcpStream::connect_timeout(&addr, SOCKET_TIMEOUT)
        .map_err(|e| format!("connecting to {addr}: {e}"))?;
    stream
        .set_nodelay(true)
        .and_then(|()| stream.set_read_timeout(Some(SOCKET_TIMEOUT)))
        .and_then(|()| stream.set_write_timeout(Some(SOCKET_TIMEOUT)))
        .map_err(|e| format!("configuring a connection to {addr}: {e}"))?;
    Ok(stream)
}
