//! weft's Unix sockets on real socket files in a temporary directory:
//! streams (connect, accept, pairs, both kinds of split, half-close),
//! datagrams, asyncio's streams over a Unix path, and the errors for a
//! path that is too long, taken, or missing.
#![cfg(unix)]

use std::io::ErrorKind;
use std::net::Shutdown;
use std::pin::pin;
use std::rc::Rc;

use weft_runtime::net::unix::{UnixDatagram, UnixListener, UnixStream};
use weft_runtime::spawn;
use weft_runtime::streams::{
    open_connection, open_unix_connection, start_server, start_unix_server, StreamReader,
    StreamWriter,
};
use weft_tests::{poll_once, run_bounded, TempDir, WakeCounter};

#[test]
fn connect_accept_and_echo_over_a_path() {
    let dir = TempDir::new();
    let path = dir.join("echo.sock");
    run_bounded(async {
        let mut listener = UnixListener::bind(&path).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        let server = spawn(async move {
            let (mut stream, peer) = listener.accept().await.unwrap();
            assert!(peer.is_unnamed());
            let mut buf = [0; 5];
            stream.read_exact(&mut buf).await.unwrap();
            stream.write_all(&buf).await.unwrap();
        });
        let mut client = UnixStream::connect(&path).await.unwrap();
        assert_eq!(
            client.peer_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        client.write_all(b"hello").await.unwrap();
        let mut echo = [0; 5];
        client.read_exact(&mut echo).await.unwrap();
        assert_eq!(&echo, b"hello");
        server.await.unwrap();
    });
}

/// Owned halves in two tasks move a large payload both ways at once; the
/// write half's drop is the end of stream the peer sees.
#[test]
fn owned_halves_in_two_tasks() {
    run_bounded(async {
        let (a, b) = UnixStream::pair().unwrap();
        let payload: Vec<u8> = (0..1_000_000u32).map(|i| (i % 253) as u8).collect();
        let (mut a_read, mut a_write) = a.into_split();
        let (mut b_read, mut b_write) = b.into_split();
        let sent = payload.clone();
        let a_sends = spawn(async move {
            a_write.write_all(&sent).await.unwrap();
        }); // a_write dropped at the end: end of stream for b
        let sent = payload.clone();
        let b_sends = spawn(async move {
            b_write.write_all(&sent).await.unwrap();
            b_write.shutdown().unwrap();
        });
        let b_receives = spawn(async move {
            let mut got = Vec::new();
            let mut buf = vec![0; 64 * 1024];
            loop {
                match b_read.read(&mut buf).await.unwrap() {
                    0 => break got,
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
        });
        let mut got = Vec::new();
        let mut buf = vec![0; 64 * 1024];
        loop {
            match a_read.read(&mut buf).await.unwrap() {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(got, payload);
        assert_eq!(b_receives.await.unwrap(), payload);
        a_sends.await.unwrap();
        b_sends.await.unwrap();
    });
}

#[test]
fn borrowed_halves_and_half_close() {
    run_bounded(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let (mut from_b, mut to_b) = a.split();
        b.write_all(b"question").await.unwrap();
        let mut buf = [0; 8];
        from_b.read_exact(&mut buf).await.unwrap();
        to_b.write_all(b"answer").await.unwrap();
        to_b.shutdown().unwrap();
        let mut got = [0; 6];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"answer");
        assert_eq!(b.read(&mut buf).await.unwrap(), 0); // end of stream
                                                        // The other direction still works after the half-close.
        b.write_all(b"still").await.unwrap();
        b.shutdown(Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        loop {
            match a.read(&mut buf).await.unwrap() {
                0 => break,
                n => rest.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(rest, b"still");
        assert_eq!(
            a.try_read(&mut buf).unwrap(),
            0,
            "end of stream stays readable"
        );
    });
}

/// A read dropped while waiting consumed nothing: the bytes that arrive
/// later go to the next read.
#[test]
fn a_dropped_read_consumes_nothing() {
    run_bounded(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let mut buf = [0; 8];
        {
            let counter = WakeCounter::new();
            let mut read = pin!(a.read(&mut buf));
            assert!(poll_once(read.as_mut(), &counter).is_pending());
        }
        b.write_all(b"later").await.unwrap();
        assert_eq!(a.read(&mut buf).await.unwrap(), 5);
        assert_eq!(&buf[..5], b"later");
    });
}

#[test]
fn a_path_that_is_too_long_is_named_with_the_limit() {
    let dir = TempDir::new();
    let long = dir.join(&"x".repeat(200));
    run_bounded(async {
        let unbound = UnixDatagram::unbound().unwrap();
        let errors = [
            UnixListener::bind(&long).unwrap_err(),
            UnixStream::connect(&long).await.unwrap_err(),
            UnixDatagram::bind(&long).unwrap_err(),
            unbound.connect(&long).unwrap_err(),
            unbound.send_to(b"x", &long).await.unwrap_err(),
            start_unix_server(|_r: StreamReader, _w: StreamWriter| async {}, &long)
                .await
                .unwrap_err(),
        ];
        for err in errors {
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            let message = err.to_string();
            assert!(message.contains(&"x".repeat(200)), "{message}");
            assert!(message.contains("allows at most"), "{message}");
        }
    });
}

#[test]
fn a_taken_path_and_a_missing_one_are_named() {
    let dir = TempDir::new();
    let path = dir.join("taken.sock");
    run_bounded(async {
        let _listener = UnixListener::bind(&path).unwrap();
        let err = UnixListener::bind(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        assert!(err.to_string().contains("taken.sock"), "{err}");

        let missing = dir.join("missing.sock");
        let err = UnixStream::connect(&missing).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("missing.sock"), "{err}");
        let err = open_unix_connection(&missing).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    });
}

/// A socket file whose listener is gone refuses connections.
#[test]
fn a_socket_nobody_listens_on_refuses() {
    let dir = TempDir::new();
    let path = dir.join("stale.sock");
    run_bounded(async {
        drop(UnixListener::bind(&path).unwrap()); // the file stays
        let err = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        assert!(err.to_string().contains("stale.sock"), "{err}");
    });
}

#[test]
fn datagrams_keep_their_boundaries_and_senders() {
    let dir = TempDir::new();
    let server_path = dir.join("server.sock");
    let client_path = dir.join("client.sock");
    run_bounded(async {
        let server = UnixDatagram::bind(&server_path).unwrap();
        let client = UnixDatagram::bind(&client_path).unwrap();
        client.send_to(b"first", &server_path).await.unwrap();
        client.send_to(b"second!", &server_path).await.unwrap();
        let mut buf = [0; 64];
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(
            (&buf[..n], from.as_pathname()),
            (&b"first"[..], Some(client_path.as_path()))
        );
        let (n, _) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"second!");

        client.connect(&server_path).unwrap();
        assert_eq!(
            client.peer_addr().unwrap().as_pathname(),
            Some(server_path.as_path())
        );
        client.send(b"connected").await.unwrap();
        assert_eq!(server.recv(&mut buf).await.unwrap(), 9);
        assert_eq!(
            server.try_recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
    });
}

/// An unbound datagram socket and a pair: replies need a named sender or a
/// pair; a dropped receive takes nothing; a second receiving task is told
/// why it may not wait.
#[test]
fn datagram_pairs_cancellation_and_one_waiter() {
    run_bounded(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let b = Rc::new(b);
        {
            let counter = WakeCounter::new();
            let mut buf = [0; 8];
            let mut recv = pin!(b.recv(&mut buf));
            assert!(poll_once(recv.as_mut(), &counter).is_pending());
        }
        let waiting = {
            let b = b.clone();
            spawn(async move { b.recv(&mut [0; 8]).await.unwrap() })
        };
        weft_runtime::yield_now().await;
        let err = b.recv(&mut [0; 8]).await.unwrap_err();
        assert!(err.to_string().contains("already waiting"), "{err}");
        a.send(b"one").await.unwrap();
        assert_eq!(waiting.await.unwrap(), 3);
        a.try_send(b"four").unwrap();
        assert_eq!(b.recv(&mut [0; 8]).await.unwrap(), 4);

        let unbound = UnixDatagram::unbound().unwrap();
        assert!(unbound.local_addr().unwrap().is_unnamed());
    });
}

/// One handler function serves a TCP server and a Unix server: the reader
/// and writer are the same types over both.
#[test]
fn asyncio_streams_over_a_unix_path() {
    async fn shout(mut reader: StreamReader, mut writer: StreamWriter) {
        while let Ok(line) = reader.readline().await {
            if line.is_empty() {
                break;
            }
            writer.write(&line.to_ascii_uppercase()).unwrap();
            writer.drain().await.unwrap();
        }
    }

    let dir = TempDir::new();
    let path = dir.join("shout.sock");
    run_bounded(async {
        let unix_server = start_unix_server(shout, &path).await.unwrap();
        let tcp_server = start_server(shout, "127.0.0.1:0").await.unwrap();
        assert_eq!(unix_server.local_addr().as_pathname(), Some(path.as_path()));

        let (mut reader, mut writer) = open_unix_connection(&path).await.unwrap();
        assert_eq!(
            writer.unix_peer_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        assert!(writer.unix_local_addr().unwrap().is_unnamed());
        let err = writer.peer_addr().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(reader.peer_addr().is_err());
        writer.write(b"over unix\nand more\n").unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"OVER UNIX\n");
        assert_eq!(reader.readline().await.unwrap(), b"AND MORE\n");
        writer.close();
        writer.wait_closed().await.unwrap();
        assert!(reader.read(1).await.unwrap().is_empty());

        let (mut reader, mut writer) = open_connection(tcp_server.local_addr()).await.unwrap();
        assert!(writer.unix_peer_addr().is_err());
        writer.write(b"over tcp\n").unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"OVER TCP\n");
        drop((reader, writer));

        unix_server.close();
        tcp_server.close();
        unix_server.wait_closed().await;
        tcp_server.wait_closed().await;
        // Closed means refused, and the socket file stays.
        assert_eq!(
            UnixStream::connect(&path).await.unwrap_err().kind(),
            ErrorKind::ConnectionRefused
        );
    });
}

#[test]
fn from_std_into_std_and_the_raw_handle() {
    use std::io::{Read, Write};
    use std::os::fd::{AsFd, AsRawFd};

    let dir = TempDir::new();
    let path = dir.join("raw.sock");
    run_bounded(async {
        let listener =
            UnixListener::from_std(std::os::unix::net::UnixListener::bind(&path).unwrap()).unwrap();
        assert!(listener.as_raw_fd() >= 0);
        let std_listener = listener.into_std().unwrap();
        assert_eq!(
            std_listener.local_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );

        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let mut a = UnixStream::from_std(a).unwrap();
        let dup = a.as_fd().try_clone_to_owned().unwrap();
        assert!(std::os::unix::net::UnixStream::from(dup)
            .peer_addr()
            .unwrap()
            .is_unnamed());
        a.write_all(b"to std").await.unwrap();
        let mut got = [0; 6];
        (&b).read_exact(&mut got).unwrap();
        assert_eq!(&got, b"to std");
        let mut a = a.into_std().unwrap();
        a.set_nonblocking(false).unwrap();
        a.write_all(b"plain").unwrap();
        let mut got = [0; 5];
        (&b).read_exact(&mut got).unwrap();
        assert_eq!(&got, b"plain");

        let (d, _e) = std::os::unix::net::UnixDatagram::pair().unwrap();
        let d = UnixDatagram::from_std(d).unwrap();
        assert!(d.as_raw_fd() >= 0);
        assert!(d.into_std().unwrap().peer_addr().unwrap().is_unnamed());
    });
}
