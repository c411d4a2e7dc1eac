//! Name resolution off the runtime's thread: `lookup_host` runs the OS
//! resolver on the blocking pool, so a slow resolution does not stop
//! another task's timer; `connect`, `bind` and `open_connection` resolve
//! names that way and parse literals at once; a failing resolution names
//! what failed. No test sends a query to a DNS server: names come from the
//! hosts file (`localhost`) or from a resolver of the test's own.

use std::cell::Cell;
use std::io::{self, ErrorKind};
use std::net::{SocketAddr, ToSocketAddrs};
use std::rc::Rc;
use std::time::{Duration, Instant};

use weft_runtime::net::{lookup_host, TcpListener, TcpStream, UdpSocket};
use weft_runtime::streams::{open_connection, start_server, StreamReader, StreamWriter};
use weft_runtime::{interval, spawn};
use weft_tests::run_bounded;

/// A resolver of the test's own that takes `delay` to answer, like a slow
/// DNS server, and then resolves to `addr` (or fails when it is `None`).
#[derive(Debug, Clone)]
struct SlowName {
    delay: Duration,
    addr: Option<SocketAddr>,
}

impl ToSocketAddrs for SlowName {
    type Iter = std::option::IntoIter<SocketAddr>;

    fn to_socket_addrs(&self) -> io::Result<Self::Iter> {
        std::thread::sleep(self.delay);
        match self.addr {
            Some(addr) => Ok(Some(addr).into_iter()),
            None => Err(io::Error::new(ErrorKind::NotFound, "no such name here")),
        }
    }
}

/// While a 300 ms resolution runs, a 10 ms interval in another task keeps
/// ticking: the runtime's thread is not the one waiting.
#[test]
fn a_slow_resolution_does_not_stop_other_tasks() {
    run_bounded(async {
        let ticks = Rc::new(Cell::new(0u32));
        let ticker = {
            let ticks = ticks.clone();
            spawn(async move {
                let mut every = interval(Duration::from_millis(10));
                loop {
                    every.tick().await;
                    ticks.set(ticks.get() + 1);
                }
            })
        };
        let target: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let started = Instant::now();
        let addrs = lookup_host(SlowName {
            delay: Duration::from_millis(300),
            addr: Some(target),
        })
        .await
        .unwrap();
        assert_eq!(addrs, [target]);
        assert!(started.elapsed() >= Duration::from_millis(300));
        // 30 ticks fit in 300 ms; a blocked thread would have given ~1.
        assert!(
            ticks.get() >= 10,
            "only {} ticks while resolving",
            ticks.get()
        );
        ticker.abort();
    });
}

#[test]
fn a_failing_resolution_names_what_failed() {
    run_bounded(async {
        let err = lookup_host(SlowName {
            delay: Duration::ZERO,
            addr: None,
        })
        .await
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("SlowName"), "{err}");
        assert!(err.to_string().contains("no such name here"), "{err}");

        // A port that is not a number fails inside std, before any query.
        let err = TcpStream::connect("localhost:port").await.unwrap_err();
        assert!(err.to_string().contains("localhost:port"), "{err}");
        let err = open_connection(("localhost".to_string() + ":http").as_str())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("localhost:http"), "{err}");
        let err = TcpListener::bind("localhost:99999").await.unwrap_err();
        assert!(err.to_string().contains("localhost:99999"), "{err}");

        let none: &[SocketAddr] = &[];
        let err = TcpStream::connect(none).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    });
}

/// `localhost` comes from the hosts file, through the blocking pool; the
/// sockets bound and connected by name work.
#[test]
fn names_work_for_bind_connect_and_streams() {
    run_bounded(async {
        let addrs = lookup_host("localhost:80").await.unwrap();
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80));

        let mut listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepting = spawn(async move { listener.accept().await.map(|(_, peer)| peer) });
        // "localhost" may resolve to ::1 first; connect tries each address.
        let stream = TcpStream::connect(("localhost", port)).await.unwrap();
        assert_eq!(
            accepting.await.unwrap().unwrap(),
            stream.local_addr().unwrap()
        );

        let server = start_server(
            |_r: StreamReader, mut w: StreamWriter| async move { w.write(b"hi\n").unwrap() },
            "localhost:0",
        )
        .await
        .unwrap();
        assert!(server.local_addr().ip().is_loopback());
        let (mut reader, _writer) =
            open_connection(format!("127.0.0.1:{}", server.local_addr().port()))
                .await
                .unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"hi\n");

        let udp = UdpSocket::bind("localhost:0").await.unwrap();
        assert!(udp.local_addr().unwrap().ip().is_loopback());
    });
}
