//! Floors of the I/O rows: std's blocking sockets on one thread. Each
//! step reads only what an earlier step already sent, so no call ever
//! blocks; what is left is the system calls themselves.

use std::io::{Read, Write};
use std::net::UdpSocket;
use std::os::unix::net::UnixStream;

use crate::workloads::{expect_eq, message, sequence_of, Verified, MESSAGE};

/// udp_echo's floor: `datagrams` echoed between two blocking sockets with
/// `window` in flight.
///
/// # Panics
///
/// If a socket call fails.
///
/// ```
/// assert!(weft_benches::floor::udp_echo(100, 4).is_ok());
/// ```
pub fn udp_echo(datagrams: u64, window: u64) -> Verified {
    let server = UdpSocket::bind("127.0.0.1:0").expect("udp_echo floor: bind");
    let client = UdpSocket::bind("127.0.0.1:0").expect("udp_echo floor: bind");
    let server_addr = server.local_addr().expect("udp_echo floor: address");
    let send = |sequence| {
        client
            .send_to(&message(sequence), server_addr)
            .expect("udp_echo floor: client send")
    };
    let mut sent = 0;
    while sent < datagrams.min(window) {
        send(sent);
        sent += 1;
    }
    let (mut buf, mut sum, mut short) = ([0; MESSAGE], 0, 0);
    for _ in 0..datagrams {
        let (len, from) = server.recv_from(&mut buf).expect("udp_echo floor: receive");
        server
            .send_to(&buf[..len], from)
            .expect("udp_echo floor: server send");
        let (len, _) = client.recv_from(&mut buf).expect("udp_echo floor: receive");
        short += u64::from(len != MESSAGE);
        sum += sequence_of(&buf);
        if sent < datagrams {
            send(sent);
            sent += 1;
        }
    }
    expect_eq("echoes shorter than 64 bytes", 0, short)?;
    expect_eq(
        "sum of sequence numbers echoed",
        datagrams * datagrams.saturating_sub(1) / 2,
        sum,
    )
}

/// fd_ping_pong's floor: `round_trips` over a blocking socket pair.
///
/// # Panics
///
/// If a socket call fails.
///
/// ```
/// assert!(weft_benches::floor::fd_ping_pong(100).is_ok());
/// ```
pub fn fd_ping_pong(round_trips: u64) -> Verified {
    let (mut ask, mut answer) = UnixStream::pair().expect("fd_ping_pong floor: socket pair");
    let (mut buf, mut sum) = ([0; MESSAGE], 0);
    for i in 0..round_trips {
        ask.write_all(&message(i))
            .expect("fd_ping_pong floor: write");
        answer
            .read_exact(&mut buf)
            .expect("fd_ping_pong floor: read");
        answer.write_all(&buf).expect("fd_ping_pong floor: write");
        ask.read_exact(&mut buf).expect("fd_ping_pong floor: read");
        sum += sequence_of(&buf);
    }
    expect_eq(
        "sum of sequence numbers echoed",
        round_trips * round_trips.saturating_sub(1) / 2,
        sum,
    )
}
