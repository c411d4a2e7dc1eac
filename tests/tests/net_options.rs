//! Socket options and raw access on real TCP sockets on 127.0.0.1:
//! listening options (backlog, SO_REUSEPORT), a busy address, keepalive,
//! linger as a way to reset a connection, TTL, buffer sizes, and the way
//! into and out of the runtime (`from_std`, `into_std`, the OS handle).

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use weft_runtime::net::{ListenOptions, TcpListener, TcpStream};
use weft_runtime::spawn;
use weft_tests::run_bounded;

async fn connected() -> (TcpStream, TcpStream) {
    let mut listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

#[test]
fn binding_a_busy_address_is_addr_in_use_and_names_it() {
    run_bounded(async {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = taken.local_addr().unwrap();
        for options in [
            ListenOptions::new(),
            ListenOptions::new().reuse_address(false),
        ] {
            let err = TcpListener::bind_with(addr, &options).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse);
            assert!(err.to_string().contains(&addr.to_string()), "{err}");
        }
    });
}

/// Two listeners share a port through SO_REUSEPORT; every connection is
/// accepted by one of them, and each listener is a working socket.
#[cfg(unix)]
#[test]
fn reuse_port_lets_two_listeners_share_a_port() {
    run_bounded(async {
        let options = ListenOptions::new().reuse_port(true).backlog(64);
        let first = TcpListener::bind_with("127.0.0.1:0", &options)
            .await
            .unwrap();
        let addr = first.local_addr().unwrap();
        let second = TcpListener::bind_with(addr, &options).await.unwrap();
        assert_eq!(second.local_addr().unwrap(), addr);
        // Without the option on the newcomer, the port is busy.
        let err = TcpListener::bind(addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);

        let clients = 20;
        let serve = |mut listener: TcpListener| {
            spawn(async move {
                let mut served = 0;
                // Each accepts until the test's clients are all answered;
                // the count per listener depends on the kernel's hash.
                while let Ok(Ok((mut stream, _))) =
                    weft_runtime::timeout(Duration::from_millis(500), listener.accept()).await
                {
                    let mut byte = [0; 1];
                    stream.read_exact(&mut byte).await.unwrap();
                    stream.write_all(&byte).await.unwrap();
                    served += 1;
                }
                served
            })
        };
        let (a, b) = (serve(first), serve(second));
        for i in 0..clients {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(&[i]).await.unwrap();
            let mut echo = [0; 1];
            stream.read_exact(&mut echo).await.unwrap();
            assert_eq!(echo[0], i);
        }
        assert_eq!(a.await.unwrap() + b.await.unwrap(), usize::from(clients));
    });
}

#[test]
fn listen_options_reach_the_accepted_sockets() {
    run_bounded(async {
        let options = ListenOptions::new()
            .backlog(8)
            .recv_buffer_size(128 * 1024)
            .send_buffer_size(128 * 1024);
        let mut listener = TcpListener::bind_with("127.0.0.1:0", &options)
            .await
            .unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        // The kernel may round or double; it must not ignore the request.
        assert!(server.recv_buffer_size().unwrap() >= 64 * 1024);
        assert!(server.send_buffer_size().unwrap() >= 64 * 1024);
        drop(client);
    });
}

#[test]
fn ipv6_only_listener() {
    run_bounded(async {
        let options = ListenOptions::new().only_v6(true);
        match TcpListener::bind_with("[::1]:0", &options).await {
            Ok(listener) => assert!(listener.local_addr().unwrap().is_ipv6()),
            Err(e) => eprintln!("skipped: no IPv6 loopback here ({e})"),
        }
    });
}

#[test]
fn keepalive_nodelay_ttl_and_buffers_read_back() {
    run_bounded(async {
        let (client, _server) = connected().await;
        client.set_keepalive(Some(Duration::from_secs(30))).unwrap();
        assert!(client.keepalive().unwrap());
        client.set_keepalive(None).unwrap();
        assert!(!client.keepalive().unwrap());
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        client.set_ttl(9).unwrap();
        assert_eq!(client.ttl().unwrap(), 9);
        client.set_linger(Some(Duration::from_secs(2))).unwrap();
        assert_eq!(client.linger().unwrap(), Some(Duration::from_secs(2)));
        client.set_linger(None).unwrap();
        assert_eq!(client.linger().unwrap(), None);
        client.set_send_buffer_size(32 * 1024).unwrap();
        client.set_recv_buffer_size(32 * 1024).unwrap();
        assert!(client.send_buffer_size().unwrap() >= 16 * 1024);
        assert!(client.recv_buffer_size().unwrap() >= 16 * 1024);

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.set_ttl(12).unwrap();
        assert_eq!(listener.ttl().unwrap(), 12);
    });
}

/// Linger 0 and drop: the peer's next read fails with a reset instead of
/// reading end of stream, and the bytes still queued are thrown away.
#[test]
fn linger_zero_resets_the_connection() {
    run_bounded(async {
        let (client, mut server) = connected().await;
        client.set_linger(Some(Duration::ZERO)).unwrap();
        drop(client);
        let err = server.read(&mut [0; 16]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset);

        // A plain drop, for contrast, is an orderly end of stream.
        let (client, mut server) = connected().await;
        drop(client);
        assert_eq!(server.read(&mut [0; 16]).await.unwrap(), 0);
    });
}

#[test]
fn from_std_into_std_and_the_raw_handle() {
    run_bounded(async {
        let (client, mut server) = connected().await;
        let peer = client.peer_addr().unwrap();
        #[cfg(unix)]
        {
            use std::os::fd::{AsFd, AsRawFd};
            assert_ne!(client.as_raw_fd(), server.as_raw_fd());
            let dup = client.as_fd().try_clone_to_owned().unwrap();
            assert_eq!(std::net::TcpStream::from(dup).peer_addr().unwrap(), peer);
        }
        let mut std_client = client.into_std().unwrap();
        std_client.set_nonblocking(false).unwrap();
        std_client.write_all(b"from std").unwrap();
        let mut buf = [0; 8];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"from std");
        // And back into the runtime.
        let mut client = TcpStream::from_std(std_client).unwrap();
        assert_eq!(client.peer_addr().unwrap(), peer);
        server.write_all(b"again").await.unwrap();
        let mut buf = [0; 5];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"again");

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let std_listener = listener.into_std().unwrap();
        std_listener.set_nonblocking(false).unwrap();
        let connecting = std::thread::spawn(move || std::net::TcpStream::connect(addr).unwrap());
        let (mut accepted, _) = std_listener.accept().unwrap();
        let mut plain = connecting.join().unwrap();
        plain.write_all(b"!").unwrap();
        let mut byte = [0; 1];
        accepted.read_exact(&mut byte).unwrap();
        assert_eq!(&byte, b"!");
    });
}
