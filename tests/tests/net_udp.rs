//! weft's `UdpSocket` on real sockets on 127.0.0.1: datagrams both ways,
//! connected sockets, peeking, readiness that a short datagram must not
//! clear, cancellation, the one-waiter-per-direction rule, options, and
//! raw access.
//!
//! Every test runs under `run_bounded`, so a lost wake-up fails the test
//! instead of hanging it.

use std::future::poll_fn;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;

use weft_runtime::net::UdpSocket;
use weft_runtime::spawn;
use weft_tests::{poll_once, run_bounded, WakeCounter};

async fn bound() -> (UdpSocket, SocketAddr) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    (socket, addr)
}

#[test]
fn datagrams_travel_both_ways_with_their_senders() {
    run_bounded(async {
        let (a, a_addr) = bound().await;
        let (b, b_addr) = bound().await;
        assert_eq!(a.send_to(b"to b", b_addr).await.unwrap(), 4);
        let mut buf = [0; 16];
        assert_eq!(b.recv_from(&mut buf).await.unwrap(), (4, a_addr));
        assert_eq!(&buf[..4], b"to b");
        b.send_to(b"back to a", a_addr).await.unwrap();
        assert_eq!(a.recv_from(&mut buf).await.unwrap(), (9, b_addr));
        assert_eq!(&buf[..9], b"back to a");
    });
}

#[test]
fn a_connected_socket_sends_to_and_hears_from_its_peer_only() {
    run_bounded(async {
        let (server, server_addr) = bound().await;
        let (client, client_addr) = bound().await;
        let (stranger, _) = bound().await;
        client.connect(server_addr).await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), server_addr);
        client.send(b"hello").await.unwrap();
        let mut buf = [0; 8];
        assert_eq!(server.recv_from(&mut buf).await.unwrap(), (5, client_addr));

        // The stranger's datagram is filtered out by the kernel; the
        // server's reply is the one the client receives.
        stranger.send_to(b"noise", client_addr).await.unwrap();
        server.send_to(b"reply", client_addr).await.unwrap();
        assert_eq!(client.recv(&mut buf).await.unwrap(), 5);
        assert_eq!(&buf[..5], b"reply");
    });
}

#[test]
fn connect_accepts_a_host_name() {
    run_bounded(async {
        let (server, server_addr) = bound().await;
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client
            .connect(("localhost", server_addr.port()))
            .await
            .unwrap();
        let peer = client.peer_addr().unwrap();
        if peer.ip() == server_addr.ip() {
            client.send(b"by name").await.unwrap();
            let mut buf = [0; 8];
            assert_eq!(server.recv(&mut buf).await.unwrap(), 7);
        } else {
            // "localhost" resolved to ::1 first on this machine; the
            // port is all the test can check then.
            assert_eq!(peer.port(), server_addr.port());
        }
    });
}

#[test]
fn peek_leaves_the_datagram_for_the_next_receive() {
    run_bounded(async {
        let (a, a_addr) = bound().await;
        let (b, b_addr) = bound().await;
        a.send_to(b"look twice", b_addr).await.unwrap();
        let mut buf = [0; 16];
        assert_eq!(b.peek_from(&mut buf).await.unwrap(), (10, a_addr));
        assert_eq!(b.try_peek_from(&mut buf).unwrap(), (10, a_addr));
        assert_eq!(b.recv_from(&mut buf).await.unwrap(), (10, a_addr));
        assert_eq!(&buf[..10], b"look twice");
        // Connected forms.
        b.connect(a_addr).await.unwrap();
        a.send_to(b"again", b_addr).await.unwrap();
        assert_eq!(b.peek(&mut buf).await.unwrap(), 5);
        assert_eq!(b.try_peek(&mut buf).unwrap(), 5);
        assert_eq!(b.recv(&mut buf).await.unwrap(), 5);
        assert_eq!(
            b.try_recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
    });
}

/// Three datagrams wait in the queue; each receive reads one into a large
/// buffer (a "short" read). Had the short read cleared readiness, the
/// second receive would wait for an edge that never comes, since nothing
/// new arrives.
#[test]
fn a_short_datagram_does_not_clear_readiness() {
    run_bounded(async {
        let (receiver, receiver_addr) = bound().await;
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for datagram in [&b"one"[..], b"two", b"three"] {
            sender.send_to(datagram, receiver_addr).unwrap();
        }
        let mut buf = [0; 64 * 1024];
        let mut got = Vec::new();
        for _ in 0..3 {
            let n = receiver.recv(&mut buf).await.unwrap();
            got.push(buf[..n].to_vec());
        }
        assert_eq!(got, [&b"one"[..], b"two", b"three"]);
    });
}

/// A receive dropped after it started waiting took nothing: the datagram
/// that arrives later goes to the next receive.
#[test]
fn a_dropped_receive_consumes_nothing() {
    run_bounded(async {
        let (a, a_addr) = bound().await;
        let (b, b_addr) = bound().await;
        let mut buf = [0; 8];
        {
            let counter = WakeCounter::new();
            let mut recv = pin!(b.recv_from(&mut buf));
            assert!(poll_once(recv.as_mut(), &counter).is_pending());
        } // dropped while waiting
        let mut buf = [0; 8];
        // A receive that times out is dropped too.
        let timed_out = weft_runtime::timeout(Duration::from_millis(20), b.recv_from(&mut buf));
        assert!(
            timed_out.await.is_err(),
            "nothing was sent, yet a datagram came"
        );
        a.send_to(b"kept", b_addr).await.unwrap();
        assert_eq!(b.recv_from(&mut buf).await.unwrap(), (4, a_addr));
        assert_eq!(&buf[..4], b"kept");
    });
}

/// One task receives while another sends on the same `Rc`-shared socket;
/// a second receiving task is refused with an error instead of being left
/// asleep, and may receive once the first is done.
#[test]
fn one_waiting_task_per_direction() {
    run_bounded(async {
        let (socket, addr) = bound().await;
        let socket = Rc::new(socket);
        let receiver = {
            let socket = socket.clone();
            spawn(async move {
                let mut buf = [0; 8];
                socket.recv_from(&mut buf).await.unwrap().0
            })
        };
        weft_runtime::yield_now().await; // the receiver is now waiting
        let err = socket.recv_from(&mut [0; 8]).await.unwrap_err();
        assert!(
            err.to_string().contains("already waiting to receive"),
            "{err}"
        );
        // The sending direction is free: send to ourselves.
        socket.send_to(b"self", addr).await.unwrap();
        assert_eq!(receiver.await.unwrap(), 4);
        // The claim went with the finished receive.
        socket.send_to(b"more", addr).await.unwrap();
        assert_eq!(socket.recv(&mut [0; 8]).await.unwrap(), 4);
    });
}

#[test]
fn poll_and_try_forms() {
    run_bounded(async {
        let (a, a_addr) = bound().await;
        let (b, b_addr) = bound().await;
        assert_eq!(
            b.try_recv_from(&mut [0; 4]).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        assert_eq!(a.try_send_to(b"try", b_addr).unwrap(), 3);
        let mut buf = [0; 8];
        let got = poll_fn(|cx| b.poll_peek_from(cx, &mut buf)).await.unwrap();
        assert_eq!(got, (3, a_addr));
        let got = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await.unwrap();
        assert_eq!(got, (3, a_addr));
        poll_fn(|cx| b.poll_send_to(cx, b"poll", a_addr))
            .await
            .unwrap();
        a.connect(b_addr).await.unwrap();
        b.connect(a_addr).await.unwrap();
        assert_eq!(poll_fn(|cx| a.poll_recv(cx, &mut buf)).await.unwrap(), 4);
        poll_fn(|cx| a.poll_send(cx, b"x")).await.unwrap();
        assert_eq!(poll_fn(|cx| b.poll_peek(cx, &mut buf)).await.unwrap(), 1);
        assert_eq!(b.try_recv(&mut buf).unwrap(), 1);
        assert_eq!(a.try_send(b"yz").unwrap(), 2);
        assert_eq!(b.recv(&mut buf).await.unwrap(), 2);
    });
}

/// An echo server task and a client exchange many datagrams; every one
/// comes back intact and in order (loopback neither drops nor reorders
/// while the client waits for each echo).
#[test]
fn echo_of_many_datagrams() {
    run_bounded(async {
        let (server, server_addr) = bound().await;
        let echo = spawn(async move {
            let mut buf = [0; 1500];
            for _ in 0..1000 {
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                server.send_to(&buf[..n], from).await.unwrap();
            }
        });
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.connect(server_addr).await.unwrap();
        let mut buf = [0; 1500];
        for i in 0..1000u32 {
            let datagram = [i.to_le_bytes(), (i * 7).to_le_bytes()].concat();
            client.send(&datagram).await.unwrap();
            let n = client.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], &datagram[..]);
        }
        echo.await.unwrap();
    });
}

#[test]
fn options_read_back() {
    run_bounded(async {
        let (socket, _) = bound().await;
        socket.set_broadcast(true).unwrap();
        assert!(socket.broadcast().unwrap());
        socket.set_broadcast(false).unwrap();
        assert!(!socket.broadcast().unwrap());
        socket.set_ttl(7).unwrap();
        assert_eq!(socket.ttl().unwrap(), 7);
        socket.set_multicast_ttl_v4(3).unwrap();
        assert_eq!(socket.multicast_ttl_v4().unwrap(), 3);
        socket.set_multicast_loop_v4(false).unwrap();
        assert!(!socket.multicast_loop_v4().unwrap());
        assert!(socket.take_error().unwrap().is_none());

        let v6 = UdpSocket::bind("[::1]:0").await;
        if let Ok(v6) = v6 {
            v6.set_multicast_loop_v6(false).unwrap();
            assert!(!v6.multicast_loop_v6().unwrap());
        } // else: no IPv6 on this machine
    });
}

/// A multicast group on the loopback interface: joined, a datagram sent to
/// the group loops back to the member, then left. Skipped where the OS has
/// no multicast route on loopback.
#[test]
fn multicast_on_loopback() {
    run_bounded(async {
        let member = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        let port = member.local_addr().unwrap().port();
        let group = Ipv4Addr::new(239, 255, 77, 1);
        if let Err(e) = member.join_multicast_v4(group, Ipv4Addr::LOCALHOST) {
            eprintln!("skipped: cannot join a multicast group on loopback: {e}");
            return;
        }
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        sender.set_multicast_loop_v4(true).unwrap();
        if let Err(e) = sender.send_to(b"group", (group, port).into()).await {
            eprintln!("skipped: cannot send to a multicast group on loopback: {e}");
            return;
        }
        let mut buf = [0; 8];
        match weft_runtime::timeout(Duration::from_secs(2), member.recv(&mut buf)).await {
            Ok(n) => assert_eq!(&buf[..n.unwrap()], b"group"),
            Err(_) => eprintln!("skipped: multicast on loopback is not routed here"),
        }
        member
            .leave_multicast_v4(group, Ipv4Addr::LOCALHOST)
            .unwrap();
    });
}

#[test]
fn binding_a_busy_address_names_it() {
    run_bounded(async {
        let (_taken, addr) = bound().await;
        let err = UdpSocket::bind(addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    });
}

#[test]
fn from_std_into_std_and_the_raw_handle() {
    run_bounded(async {
        let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = std_socket.local_addr().unwrap();
        let socket = UdpSocket::from_std(std_socket).unwrap();
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            let dup = socket.as_fd().try_clone_to_owned().unwrap();
            assert_eq!(std::net::UdpSocket::from(dup).local_addr().unwrap(), addr);
        }
        let back = socket.into_std().unwrap();
        assert_eq!(back.local_addr().unwrap(), addr);
        // Out of the runtime, it works as a plain (non-blocking) socket.
        back.send_to(b"plain", addr).unwrap();
        back.set_nonblocking(false).unwrap();
        let mut buf = [0; 8];
        assert_eq!(back.recv_from(&mut buf).unwrap(), (5, addr));
    });
}
