//! weft's TCP sockets on real sockets on 127.0.0.1: connect and accept,
//! reads and writes, half-close, split halves driven by two tasks at once,
//! fairness under a flooding peer, and registrations freed on drop.
//!
//! Every test runs under a generous `timeout`, so a lost wake-up fails the
//! test instead of hanging it; no test depends on timing for its result.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use weft_primitives::Event;
use weft_runtime::net::{TcpListener, TcpStream};
use weft_runtime::{spawn, spawn_blocking, Handle};
use weft_tests::run_bounded;

/// A listener on a free port of 127.0.0.1, and its address.
async fn listen() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// A connected pair: (client side, server side).
async fn pair() -> (TcpStream, TcpStream) {
    let (mut listener, addr) = listen().await;
    let client = TcpStream::connect(addr).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// The byte at offset `i` of the test streams: not periodic in any power
/// of two, so a lost, doubled or reordered chunk shows.
fn pattern(i: usize) -> u8 {
    (i % 251) as u8 ^ (i / 251 % 7) as u8
}

#[test]
fn connect_and_accept_agree_on_addresses() {
    run_bounded(async {
        let (mut listener, addr) = listen().await;
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), addr);
        assert_eq!(server.local_addr().unwrap(), addr);
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(server.peer_addr().unwrap(), peer);

        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        client.set_nodelay(false).unwrap();
        assert!(!client.nodelay().unwrap());
        assert!(client.take_error().unwrap().is_none());
    });
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    run_bounded(async {
        let (listener, addr) = listen().await;
        drop(listener);
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn binding_a_taken_port_fails() {
    run_bounded(async {
        let (_listener, addr) = listen().await;
        let err = TcpListener::bind(addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
    });
}

#[test]
fn echo_round_trips_from_the_main_future() {
    run_bounded(async {
        let (mut client, mut server) = pair().await;
        let echo = spawn(async move {
            let mut buf = [0; 64];
            loop {
                match server.read(&mut buf).await.unwrap() {
                    0 => return,
                    n => server.write_all(&buf[..n]).await.unwrap(),
                }
            }
        });
        // Far more than one poll's I/O budget, all in the main future.
        for round in 0..1000u32 {
            let message = round.to_be_bytes();
            client.write_all(&message).await.unwrap();
            let mut reply = [0; 4];
            client.read_exact(&mut reply).await.unwrap();
            assert_eq!(reply, message);
        }
        client.shutdown(Shutdown::Write).unwrap();
        echo.await.unwrap();
    });
}

#[test]
fn read_exact_at_end_of_stream_says_how_much_arrived() {
    run_bounded(async {
        let (mut client, mut server) = pair().await;
        client.write_all(b"abc").await.unwrap();
        drop(client);
        let mut buf = [0; 10];
        let err = server.read_exact(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
        assert!(err.to_string().contains("after 3 of 10 bytes"), "{err}");
        assert_eq!(&buf[..3], b"abc");
    });
}

#[test]
fn shutdown_write_is_a_half_close() {
    run_bounded(async {
        let (mut client, mut server) = pair().await;
        client.write_all(b"request").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();

        let mut request = Vec::new();
        let mut buf = [0; 16];
        loop {
            match server.read(&mut buf).await.unwrap() {
                0 => break,
                n => request.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(request, b"request");
        // The other direction still works.
        server.write_all(b"response").await.unwrap();
        drop(server);
        let mut response = [0; 8];
        client.read_exact(&mut response).await.unwrap();
        assert_eq!(&response, b"response");
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
    });
}

#[test]
fn dropping_the_owned_write_half_ends_the_stream_for_the_peer() {
    run_bounded(async {
        let (client, mut server) = pair().await;
        let (mut reader, writer) = client.into_split();
        drop(writer);
        let mut buf = [0; 4];
        assert_eq!(server.read(&mut buf).await.unwrap(), 0);
        // The read half is still connected.
        server.write_all(b"late").await.unwrap();
        reader.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"late");
    });
}

/// Both directions at full speed at once, each half in its own task. With a
/// single waiting slot per socket, or with a half that blocked the other,
/// this would deadlock: each side's writes stall until the other side reads.
#[test]
fn owned_halves_carry_both_directions_at_once() {
    const TOTAL: usize = 8 << 20;
    async fn send(mut half: weft_runtime::net::OwnedWriteHalf) {
        let chunk: Vec<u8> = (0..TOTAL).map(pattern).collect();
        for piece in chunk.chunks(100_003) {
            half.write_all(piece).await.unwrap();
        }
    }
    async fn receive(mut half: weft_runtime::net::OwnedReadHalf) -> usize {
        let mut got = 0;
        let mut buf = vec![0; 65_536];
        loop {
            match half.read(&mut buf).await.unwrap() {
                0 => return got,
                n => {
                    assert!(buf[..n]
                        .iter()
                        .enumerate()
                        .all(|(k, b)| *b == pattern(got + k)));
                    got += n;
                }
            }
        }
    }
    run_bounded(async {
        let (client, server) = pair().await;
        let (client_in, client_out) = client.into_split();
        let (server_in, server_out) = server.into_split();
        let tasks = [
            spawn(async move {
                send(client_out).await;
                0
            }),
            spawn(async move {
                send(server_out).await;
                0
            }),
            spawn(receive(client_in)),
            spawn(receive(server_in)),
        ];
        let mut received = 0;
        for task in tasks {
            received += task.await.unwrap();
        }
        assert_eq!(received, 2 * TOTAL);
    });
}

/// A peer floods one connection without pause while a second connection
/// does request/response. The flooded reader reads 64 bytes at a time, so
/// the kernel always has more for it (the flooding thread refills the
/// socket far faster) and only the cooperative budget makes it yield; the
/// echo must complete while the flood is still going.
///
/// A starved runtime cannot run its own `timeout`, so the flooding thread
/// also gives up after a minute: then the flood ends first and the test
/// fails instead of hanging.
#[test]
fn a_flooding_connection_does_not_starve_another() {
    run_bounded(async {
        let (mut listener, addr) = listen().await;
        let stop = Arc::new(AtomicBool::new(false));
        let flooder = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut socket = std::net::TcpStream::connect(addr).unwrap();
                let chunk = vec![7u8; 64 * 1024];
                let started = std::time::Instant::now();
                while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(60) {
                    if socket.write_all(&chunk).is_err() {
                        break;
                    }
                }
            })
        };
        let (mut flooded, _) = listener.accept().await.unwrap();
        let flowing = Arc::new(Event::new());
        let flood_reader = spawn({
            let flowing = flowing.clone();
            async move {
                let mut buf = [0; 64];
                let mut total = 0usize;
                loop {
                    match flooded.read(&mut buf).await {
                        Ok(0) | Err(_) => return total,
                        Ok(n) => total += n,
                    }
                    if total >= 64 * 1024 {
                        flowing.set();
                    }
                }
            }
        });
        flowing.wait().await;

        // The echo runs in the main future while the flood goes on.
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let echo = spawn(async move {
            let mut byte = [0; 1];
            while server.read(&mut byte).await.unwrap() == 1 {
                server.write_all(&byte).await.unwrap();
            }
        });
        for i in 0..50u8 {
            client.write_all(&[i]).await.unwrap();
            let mut reply = [0; 1];
            client.read_exact(&mut reply).await.unwrap();
            assert_eq!(reply[0], i);
        }
        assert!(
            !flood_reader.is_finished(),
            "the flood ended before the echo did"
        );

        stop.store(true, Ordering::Relaxed);
        drop(client);
        echo.await.unwrap();
        assert!(flood_reader.await.unwrap() >= 64 * 1024);
        spawn_blocking(move || flooder.join().unwrap())
            .await
            .unwrap();
    });
}

#[test]
fn sockets_free_their_registrations_when_dropped() {
    run_bounded(async {
        let (mut listener, addr) = listen().await;
        let baseline = Handle::current().metrics().io_registrations;
        for _ in 0..100 {
            let mut client = TcpStream::connect(addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            let (mut server_in, mut server_out) = server.into_split();
            client.write_all(b"x").await.unwrap();
            let mut byte = [0; 1];
            server_in.read_exact(&mut byte).await.unwrap();
            server_out.write_all(&byte).await.unwrap();
            client.read_exact(&mut byte).await.unwrap();
            assert_eq!(Handle::current().metrics().io_registrations, baseline + 2);
            drop((client, server_in, server_out));
            assert_eq!(Handle::current().metrics().io_registrations, baseline);
        }
        drop(listener);
        assert_eq!(Handle::current().metrics().io_registrations, baseline - 1);
    });
}

#[test]
fn std_sockets_can_be_adopted() {
    run_bounded(async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let mut listener = TcpListener::from_std(std_listener).unwrap();
        let peer = spawn_blocking(move || {
            let mut socket = std::net::TcpStream::connect(addr).unwrap();
            socket.write_all(b"from a thread").unwrap();
            let mut reply = String::new();
            socket.read_to_string(&mut reply).unwrap();
            reply
        });
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0; 13];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"from a thread");
        stream.write_all(b"back").await.unwrap();
        drop(stream);
        assert_eq!(peer.await.unwrap(), "back");
    });
}

/// `try_write` and `try_read` never wait: `WouldBlock` when the socket is
/// not ready, and the next `read` still wakes when data comes.
#[test]
fn try_read_and_try_write_do_not_wait() {
    run_bounded(async {
        let (mut client, server) = pair().await;
        let mut buf = [0; 8];
        assert_eq!(
            client.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        assert_eq!(server.try_write(b"hey").unwrap(), 3);
        client.read_exact(&mut buf[..3]).await.unwrap();
        assert_eq!(&buf[..3], b"hey");
    });
}

/// The main future of `run` does a lot of I/O on its own, with no task to
/// take turns with: it must still get a fresh budget for every poll.
#[test]
fn the_main_future_alone_can_do_much_io() {
    run_bounded(async {
        let (mut listener, addr) = listen().await;
        let peer = std::thread::spawn(move || {
            let mut socket = std::net::TcpStream::connect(addr).unwrap();
            for i in 0..2000u32 {
                socket.write_all(&i.to_be_bytes()).unwrap();
                let mut echo = [0; 4];
                socket.read_exact(&mut echo).unwrap();
                assert_eq!(echo, i.to_be_bytes());
            }
        });
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0; 4];
        for _ in 0..2000 {
            stream.read_exact(&mut buf).await.unwrap();
            stream.write_all(&buf).await.unwrap();
        }
        peer.join().unwrap();
    });
}
