//! The stream additions that users of asyncio 3.13 reach for, on real
//! sockets on 127.0.0.1 (port 0) and on in-memory readers: closing and
//! resetting a server's clients, the server handle and its options, handler
//! failures, `StreamWriter::abort`, `readuntil` with several separators,
//! `feed_data` / `feed_eof`, `write_and_drain`, and the `futures-io` traits.
//!
//! Every test runs under a generous timeout, so a lost wake-up fails it
//! instead of hanging; no result depends on timing.

use std::cell::{OnceCell, RefCell};
use std::io::ErrorKind;
use std::pin::pin;
use std::rc::Rc;

use weft_primitives::Event;
use weft_runtime::net::TcpListener;
use weft_runtime::streams::{
    open_connection, open_connection_with, start_server, start_server_with, ConnectOptions,
    HandlerFailure, ReadError, Server, ServerHandle, ServerOptions, StreamReader, StreamWriter,
};
use weft_runtime::{spawn, yield_now};
use weft_tests::{poll_once, run_bounded, WakeCounter};

/// Yields until `server` has `n` live connections.
async fn until_connections(server: &Server, n: usize) {
    while server.connections() != n {
        yield_now().await;
    }
}

/// Reads until end of stream or an error; returns the bytes and the error.
async fn read_all(reader: &mut StreamReader) -> (Vec<u8>, Option<std::io::Error>) {
    let mut got = Vec::new();
    loop {
        match reader.read(64 * 1024).await {
            Ok(bytes) if bytes.is_empty() => return (got, None),
            Ok(bytes) => got.extend_from_slice(&bytes),
            Err(e) => return (got, Some(e)),
        }
    }
}

/// A keep-alive handler: it greets with `greeting`, then reads lines until
/// end of stream, like a server waiting on an idle peer.
fn keep_alive(
    greeting: Vec<u8>,
) -> impl Fn(StreamReader, StreamWriter) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>
{
    move |mut reader: StreamReader, mut writer: StreamWriter| {
        let greeting = greeting.clone();
        Box::pin(async move {
            writer.write(&greeting).unwrap();
            while let Ok(line) = reader.readline().await {
                if line.is_empty() {
                    break;
                }
            }
        })
    }
}

// ---- close_clients / abort_clients / connections / handle ----

#[test]
fn close_clients_ends_idle_connections_and_sends_what_was_queued() {
    run_bounded(async {
        // 8 MiB: more than the loopback socket buffers hold, so most of it
        // is still queued in the server's writers when the clients close.
        let greeting: Vec<u8> = (0..8 << 20).map(|i: u32| (i % 251) as u8).collect();
        let server = start_server(keep_alive(greeting.clone()), "127.0.0.1:0")
            .await
            .unwrap();
        let mut clients = Vec::new();
        for _ in 0..3 {
            let (mut reader, writer) = open_connection(server.local_addr()).await.unwrap();
            // The handler has started: it wrote its greeting.
            assert_eq!(reader.readexactly(1).await.unwrap(), greeting[..1]);
            clients.push((reader, writer));
        }
        assert_eq!(server.connections(), 3);

        server.close();
        server.close_clients();
        // Bounded although no client sends anything or leaves.
        server.wait_closed().await;
        assert_eq!(server.connections(), 0);

        // Each client gets the whole greeting (flushed first), then FIN.
        for (reader, _writer) in &mut clients {
            let (got, error) = read_all(reader).await;
            assert!(error.is_none(), "{error:?}");
            assert!(
                got == greeting[1..],
                "got {} of {} bytes",
                got.len(),
                greeting.len()
            );
        }
    });
}

#[test]
fn abort_clients_resets_connections_and_drops_what_was_queued() {
    run_bounded(async {
        let greeting = vec![7u8; 8 << 20];
        let server = start_server(keep_alive(greeting.clone()), "127.0.0.1:0")
            .await
            .unwrap();
        let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
        assert_eq!(reader.readexactly(1).await.unwrap(), [7]); // the greeting started

        server.close();
        server.abort_clients();
        server.wait_closed().await;

        let (got, error) = read_all(&mut reader).await;
        assert!(got.len() < greeting.len(), "the queue was sent anyway");
        let error = error.expect("a reset, not an end of stream");
        assert_eq!(error.kind(), ErrorKind::ConnectionReset);
    });
}

#[test]
fn abort_clients_resets_a_connection_whose_handler_dropped_its_writer() {
    run_bounded(async {
        let server = start_server(
            |mut reader: StreamReader, writer: StreamWriter| async move {
                drop(writer); // FIN now; the handler keeps reading
                while !reader.readline().await.unwrap_or_default().is_empty() {}
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
        assert_eq!(reader.read(1).await.unwrap(), b""); // the FIN
        until_connections(&server, 1).await;
        server.abort_clients();
        server.close();
        server.wait_closed().await;
        // The server's socket is gone with a reset: writing to it fails,
        // sooner or later (the first send may still be accepted locally).
        let mut failed = None;
        for _ in 0..100 {
            if let Err(e) = writer.write_and_drain(b"anyone?\n").await {
                failed = Some(e);
                break;
            }
            yield_now().await;
        }
        let failed = failed.expect("writes kept succeeding after the reset");
        assert!(
            matches!(
                failed.kind(),
                ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
            ),
            "{failed:?}"
        );
    });
}

#[test]
fn a_handler_closes_the_server_through_a_handle() {
    run_bounded(async {
        let slot: Rc<OnceCell<ServerHandle>> = Rc::new(OnceCell::new());
        let handle = slot.clone();
        let server = start_server_with(
            move |mut reader: StreamReader, mut writer: StreamWriter| {
                let server = handle.get().expect("set before serving").clone();
                async move {
                    // The idle client's handler reads end of stream here.
                    if reader.readline().await.unwrap() == b"stop\n" {
                        let live = format!("{} live\n", server.connections());
                        writer.write(live.as_bytes()).unwrap();
                        server.close();
                        server.close_clients();
                    }
                }
            },
            "127.0.0.1:0",
            ServerOptions::new().start_serving(false),
        )
        .await
        .unwrap();
        slot.set(server.handle()).unwrap();

        // Connections queue in the backlog until serving starts.
        let (mut idle_reader, _idle_writer) = open_connection(server.local_addr()).await.unwrap();
        let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
        for _ in 0..10 {
            yield_now().await;
        }
        assert_eq!(server.connections(), 0);
        assert!(!server.is_serving());

        writer.write(b"stop\n").unwrap();
        server.serve_forever().await; // starts serving; ends when the handler closes it
        assert!(!server.is_serving());
        assert_eq!(reader.readline().await.unwrap(), b"2 live\n");
        server.wait_closed().await;
        // The idle client was closed by close_clients.
        assert_eq!(idle_reader.read(1).await.unwrap(), b"");
        let err = server.start_serving().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("closed"), "{err}");
    });
}

#[cfg(unix)]
#[test]
fn close_clients_on_a_unix_server() {
    use weft_runtime::streams::{open_unix_connection, start_unix_server};

    let dir = weft_tests::TempDir::new();
    let path = dir.join("idle.sock");
    run_bounded(async {
        let server = start_unix_server(keep_alive(b"hello\n".to_vec()), &path)
            .await
            .unwrap();
        let (mut reader, _writer) = open_unix_connection(&path).await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"hello\n");
        assert_eq!(server.connections(), 1);
        server.close();
        server.close_clients();
        server.wait_closed().await;
        assert_eq!(reader.read(1).await.unwrap(), b"");
    });
}

// ---- options ----

#[test]
fn server_options_limit_backlog_and_an_existing_listener() {
    run_bounded(async {
        let report_limit = |reader: StreamReader, mut writer: StreamWriter| async move {
            writer
                .write(format!("{}\n", reader.limit()).as_bytes())
                .unwrap();
        };
        let server = start_server_with(
            report_limit,
            "127.0.0.1:0",
            ServerOptions::new().limit(100).backlog(8),
        )
        .await
        .unwrap();
        let (mut reader, _w) = open_connection(server.local_addr()).await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"100\n");

        // asyncio's sock=: a listener the caller made.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = Server::from_listener(listener, report_limit, ServerOptions::new()).unwrap();
        let (mut reader, _w) = open_connection(server.local_addr()).await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"65536\n");

        // A backlog far above the OS maximum is capped, not refused.
        let big = start_server_with(
            report_limit,
            "127.0.0.1:0",
            ServerOptions::new().backlog(u32::MAX),
        )
        .await
        .unwrap();
        let (mut reader, _w) = open_connection(big.local_addr()).await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"65536\n");
    });
}

#[test]
fn zero_limits_are_refused_with_clear_errors() {
    run_bounded(async {
        let handler = |_r: StreamReader, _w: StreamWriter| async {};
        let err = start_server_with(handler, "127.0.0.1:0", ServerOptions::new().limit(0))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("limit of 0"), "{err}");

        let server = start_server(handler, "127.0.0.1:0").await.unwrap();
        let err = open_connection_with(server.local_addr(), &ConnectOptions::new().limit(0))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let (reader, _w) =
            open_connection_with(server.local_addr(), &ConnectOptions::new().limit(3))
                .await
                .unwrap();
        assert_eq!(reader.limit(), 3);
    });
}

#[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
#[test]
fn reuse_port_lets_two_servers_share_a_port() {
    run_bounded(async {
        let handler =
            |_r: StreamReader, mut w: StreamWriter| async move { w.write(b"up\n").unwrap() };
        let options = ServerOptions::new().reuse_port(true);
        let first = start_server_with(handler, "127.0.0.1:0", options.clone())
            .await
            .unwrap();
        let second = start_server_with(handler, first.local_addr(), options)
            .await
            .unwrap();
        assert_eq!(first.local_addr(), second.local_addr());
        let (mut reader, _w) = open_connection(first.local_addr()).await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"up\n");
    });
}

// ---- handler failures ----

#[test]
fn handler_errors_and_panics_go_to_the_hook_and_are_counted() {
    run_bounded(async {
        let failures: Rc<RefCell<Vec<HandlerFailure>>> = Rc::default();
        let log = failures.clone();
        let server = start_server_with(
            |mut reader: StreamReader, mut writer: StreamWriter| async move {
                let line = reader.readline().await?;
                match &line[..] {
                    b"error\n" => return Err(std::io::Error::other("the request was bad")),
                    b"panic\n" => panic!("the handler broke"),
                    _ => writer.write_and_drain(b"ok\n").await?,
                }
                Ok(())
            },
            "127.0.0.1:0",
            ServerOptions::new().on_handler_failure(move |f| log.borrow_mut().push(f.clone())),
        )
        .await
        .unwrap();

        let mut peers = Vec::new();
        for request in [&b"error\n"[..], b"panic\n"] {
            let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
            peers.push(writer.local_addr().unwrap().to_string());
            writer.write(request).unwrap();
            assert_eq!(reader.read(1).await.unwrap(), b""); // the handler ended
        }
        // The server still serves.
        let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
        writer.write(b"hello\n").unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"ok\n");
        server.close();
        drop((reader, writer));
        server.wait_closed().await;

        assert_eq!(server.handler_failures(), 2);
        let failures = failures.borrow();
        assert_eq!(failures.len(), 2);
        assert!(!failures[0].panicked());
        assert_eq!(failures[0].message(), "the request was bad");
        assert_eq!(failures[0].peer(), peers[0]);
        assert!(failures[1].panicked());
        assert_eq!(failures[1].message(), "the handler broke");
        assert_eq!(failures[1].peer(), peers[1]);
        assert_eq!(failures[1].server(), server.local_addr().to_string());
        let line = failures[0].to_string();
        assert!(
            line.contains(&peers[0]) && line.contains("failed"),
            "{line}"
        );
    });
}

#[test]
fn handlers_returning_unit_still_work() {
    run_bounded(async {
        let server = start_server(
            |_r: StreamReader, mut w: StreamWriter| async move { w.write(b"plain\n").unwrap() },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, _w) = open_connection(server.local_addr()).await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"plain\n");
        assert_eq!(reader.read(1).await.unwrap(), b"");
        assert_eq!(server.handler_failures(), 0);
    });
}

// ---- StreamWriter::abort and close ----

#[test]
fn writer_abort_resets_the_connection() {
    run_bounded(async {
        let outcome: Rc<OnceCell<std::io::Result<Vec<u8>>>> = Rc::default();
        let seen = outcome.clone();
        let server = start_server(
            move |mut reader: StreamReader, _w: StreamWriter| {
                let seen = seen.clone();
                async move {
                    let _ = seen.set(reader.read_to_end().await);
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
        until_connections(&server, 1).await; // accepted: the handler will run
        writer.abort();
        assert!(writer.is_closing());
        let err = writer.write(b"late").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
        assert!(err.to_string().contains("4 bytes after abort()"), "{err}");
        writer.wait_closed().await.unwrap();
        writer.abort(); // twice: nothing
        writer.close(); // after abort: nothing
        assert_eq!(reader.read(1).await.unwrap(), b""); // this side's reader ends at once
        drop((reader, writer)); // the socket is released: RST, no FIN first
        server.close();
        server.wait_closed().await;
        let err = outcome.get().unwrap().as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    });
}

#[test]
fn abort_cuts_short_a_close_waiting_on_a_peer_that_does_not_read() {
    run_bounded(async {
        // The server reads nothing until the client is done.
        let go = Rc::new(Event::new());
        let wait_for_go = go.clone();
        let server = start_server(
            move |mut reader: StreamReader, _w: StreamWriter| {
                let go = wait_for_go.clone();
                async move {
                    go.wait().await;
                    let _ = reader.read_to_end().await;
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
        writer.write(&vec![1; 16 << 20]).unwrap();
        writer.close();
        {
            let mut closing = pin!(writer.wait_closed());
            assert!(poll_once(closing.as_mut(), &WakeCounter::new()).is_pending());
        }
        assert!(writer.write_buffer_size() > 0);
        writer.abort();
        assert_eq!(writer.write_buffer_size(), 0);
        writer.wait_closed().await.unwrap();
        drop((reader, writer));
        go.set();
        server.close();
        server.wait_closed().await;
    });
}

// ---- readuntil with several separators ----

#[test]
fn readuntil_any_reports_the_separator_that_ends_first() {
    run_bounded(async {
        let mut reader = StreamReader::from_bytes("a;b\r\nc\nd\r\n\re");
        let seps: [&[u8]; 3] = [b"\r\n", b"\n", b";"];
        assert_eq!(
            reader.readuntil_any(&seps).await.unwrap(),
            (b"a;".to_vec(), 2)
        );
        // `\r\n` and `\n` end together: the shorter one is reported.
        assert_eq!(
            reader.readuntil_any(&seps).await.unwrap(),
            (b"b\r\n".to_vec(), 1)
        );
        assert_eq!(
            reader.readuntil_any(&seps).await.unwrap(),
            (b"c\n".to_vec(), 1)
        );
        // Only the match that ends first counts, wherever it starts.
        let ends: [&[u8]; 2] = [b"d\r\n\r", b"\r\n"];
        assert_eq!(
            reader.readuntil_any(&ends).await.unwrap(),
            (b"d\r\n".to_vec(), 1)
        );
        let Err(ReadError::Incomplete(e)) = reader.readuntil_any(&seps).await else {
            panic!("expected the end of stream")
        };
        assert_eq!(e.partial(), b"\re");
    });
}

#[test]
fn readuntil_any_finds_separators_split_across_reads() {
    run_bounded(async {
        let (mut reader, feeder) = StreamReader::from_feed();
        let parser = spawn(async move {
            let seps: [&[u8]; 2] = [b"\r\n\r\n", b"\n\n"];
            let mut messages = Vec::new();
            while let Ok(message) = reader.readuntil_any(&seps).await {
                messages.push(message);
            }
            messages
        });
        for chunk in [&b"head: 1\r"[..], b"\n\r", b"\nbody\n", b"\nrest"] {
            feeder.feed_data(chunk).unwrap();
            yield_now().await;
        }
        feeder.feed_eof();
        assert_eq!(
            parser.await.unwrap(),
            [(b"head: 1\r\n\r\n".to_vec(), 0), (b"body\n\n".to_vec(), 1)]
        );
    });
}

#[test]
fn readuntil_any_limit_and_bad_separators() {
    run_bounded(async {
        let mut reader = StreamReader::from_bytes("0123456789;x");
        reader.set_limit(4).unwrap();
        let seps: [&[u8]; 2] = [b";", b"!!"];
        let Err(ReadError::LimitOverrun(e)) = reader.readuntil_any(&seps).await else {
            panic!("expected a limit overrun")
        };
        assert!(e.separator_found());
        assert_eq!(e.consumed(), 10);
        assert_eq!(reader.buffer(), b"0123456789;x"); // nothing consumed

        let mut long = StreamReader::from_bytes(vec![b'a'; 100]);
        long.set_limit(10).unwrap();
        let Err(ReadError::LimitOverrun(e)) = long.readuntil_any(&seps).await else {
            panic!("expected a limit overrun")
        };
        assert!(!e.separator_found());

        for bad in [&[][..], &[&b""[..], b"x"][..]] {
            let Err(ReadError::Io(e)) = reader.readuntil_any(bad).await else {
                panic!("expected an InvalidInput error")
            };
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
        }
        assert_eq!(reader.buffer(), b"0123456789;x");
    });
}

#[test]
fn readuntil_any_over_a_socket() {
    run_bounded(async {
        let server = start_server(
            |_r: StreamReader, mut w: StreamWriter| async move {
                w.write(b"GET /\r\nHost: x\nEND").unwrap();
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, _w) = open_connection(server.local_addr()).await.unwrap();
        let seps: [&[u8]; 2] = [b"\r\n", b"\n"];
        assert_eq!(
            reader.readuntil_any(&seps).await.unwrap(),
            (b"GET /\r\n".to_vec(), 1)
        );
        assert_eq!(
            reader.readuntil_any(&seps).await.unwrap(),
            (b"Host: x\n".to_vec(), 1)
        );
        assert_eq!(
            reader.readuntil_any(&seps).await.unwrap_err().partial(),
            Some(&b"END"[..])
        );
    });
}

// ---- in-memory readers ----

#[test]
fn a_fed_reader_waits_for_data_and_ends_at_feed_eof() {
    run_bounded(async {
        let (mut reader, feeder) = StreamReader::from_feed();
        {
            let mut line = pin!(reader.readline());
            let wakes = WakeCounter::new();
            assert!(poll_once(line.as_mut(), &wakes).is_pending());
            feeder.feed_data(b"half").unwrap();
            assert_eq!(wakes.count(), 1);
            assert!(poll_once(line.as_mut(), &wakes).is_pending());
            feeder.feed_data(b" a line\nnext").unwrap();
            assert_eq!(line.await.unwrap(), b"half a line\n");
        }
        assert_eq!(feeder.pending(), 0); // the reader took "next" into its buffer
        assert_eq!(reader.buffer(), b"next");
        feeder.feed_eof();
        feeder.feed_eof(); // twice: nothing
        let err = feeder.feed_data(b"late").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("4 bytes after feed_eof"), "{err}");
        assert_eq!(reader.readline().await.unwrap(), b"next");
        assert!(reader.at_eof());
        assert!(reader.peer_addr().is_err());
    });
}

#[test]
fn dropping_the_feeder_ends_the_stream() {
    run_bounded(async {
        let (mut reader, feeder) = StreamReader::from_feed();
        let parser = spawn(async move { reader.readexactly(4).await });
        feeder.feed_data(b"ab").unwrap();
        drop(feeder);
        let Err(ReadError::Incomplete(e)) = parser.await.unwrap() else {
            panic!("expected the end of stream")
        };
        assert_eq!(e.partial(), b"ab");
        assert_eq!(e.expected(), Some(4));
    });
}

#[test]
fn a_fed_reader_runs_a_line_protocol_parser() {
    /// A tiny parser under test: `KEY=VALUE` lines, up to an empty line.
    async fn parse(reader: &mut StreamReader) -> Result<Vec<(String, String)>, ReadError> {
        let mut pairs = Vec::new();
        let mut lines = reader.lines();
        while let Some(line) = lines.next().await {
            let line = String::from_utf8(line?).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (k, v) = line.split_once('=').unwrap();
            pairs.push((k.to_string(), v.to_string()));
        }
        Ok(pairs)
    }
    run_bounded(async {
        let mut reader = StreamReader::from_bytes("a=1\r\nb=2\n\nignored");
        let pairs = parse(&mut reader).await.unwrap();
        assert_eq!(pairs, [("a".into(), "1".into()), ("b".into(), "2".into())]);
        assert_eq!(reader.read(100).await.unwrap(), b"ignored");
    });
}

// ---- write_and_drain ----

#[test]
fn write_and_drain_waits_for_a_slow_reader() {
    run_bounded(async {
        let server = start_server(
            |mut reader: StreamReader, mut writer: StreamWriter| async move {
                let _ = reader.readline().await; // "go" from the client
                let data = vec![3u8; 16 << 20];
                writer.write_and_drain(&data).await.unwrap();
                assert!(writer.write_buffer_size() <= writer.write_buffer_limits().0);
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
        writer.write_and_drain(b"go\n").await.unwrap();
        let (got, error) = read_all(&mut reader).await;
        assert!(error.is_none());
        assert_eq!(got.len(), 16 << 20);
        assert!(got.iter().all(|&b| b == 3));
        let err = {
            writer.close();
            writer.write_and_drain(b"x").await.unwrap_err()
        };
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
    });
}

// ---- futures-io ----

#[cfg(feature = "io-compat")]
#[test]
fn futures_io_traits_on_readers_and_writers() {
    use futures::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

    run_bounded(async {
        let server = start_server(
            |reader: StreamReader, mut writer: StreamWriter| async move {
                futures::io::copy(reader, &mut writer).await.unwrap();
                AsyncWriteExt::close(&mut writer).await.unwrap();
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
        let payload: Vec<u8> = (0..3_000_000u32).map(|i| (i % 239) as u8).collect();
        let sending = {
            let payload = payload.clone();
            spawn(async move {
                writer.write_all(b"first line\n").await.unwrap();
                writer.write_all(&payload).await.unwrap();
                writer.flush().await.unwrap();
                assert_eq!(writer.write_buffer_size(), 0);
                AsyncWriteExt::close(&mut writer).await.unwrap();
                assert!(writer.is_closing());
            })
        };
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        assert_eq!(line, "first line\n");
        let mut rest = Vec::new();
        AsyncReadExt::read_to_end(&mut reader, &mut rest)
            .await
            .unwrap();
        assert!(rest == payload, "{} of {} bytes", rest.len(), payload.len());
        sending.await.unwrap();
    });
}

#[cfg(feature = "io-compat")]
#[test]
fn futures_io_reads_bytes_buffered_by_readline_first() {
    use futures::AsyncReadExt;

    run_bounded(async {
        let mut reader = StreamReader::from_bytes("line\nrest of it");
        assert_eq!(reader.readline().await.unwrap(), b"line\n");
        let mut rest = String::new();
        reader.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "rest of it");
    });
}

// ---- reunite ----

#[test]
fn reunite_gives_the_socket_back_with_the_bytes_read_ahead() {
    use weft_runtime::streams::StreamSocket;

    run_bounded(async {
        let server = start_server(
            |mut reader: StreamReader, mut writer: StreamWriter| async move {
                // Line mode, then raw bytes both ways.
                writer.write(b"ready\nRAW:").unwrap();
                let mut rest = Vec::new();
                while let Ok(bytes) = reader.read(1024).await {
                    if bytes.is_empty() {
                        break;
                    }
                    rest.extend_from_slice(&bytes);
                }
                writer.write(&rest).unwrap();
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, writer) = open_connection(server.local_addr()).await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"ready\n");
        // One write on the server's side: usually the reader read "RAW:"
        // ahead with the line; whatever it did not is still in the socket.
        let (socket, read_ahead) = reader.reunite(writer).unwrap();
        let StreamSocket::Tcp(mut stream) = socket else {
            panic!("a TCP connection")
        };
        let mut buf = [0; 256];
        let mut prefix = read_ahead;
        while prefix.len() < 4 {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the stream ended early");
            prefix.extend_from_slice(&buf[..n]);
        }
        assert_eq!(prefix, b"RAW:");
        stream.write_all(b"straight to the socket").await.unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut echoed = Vec::new();
        loop {
            match stream.read(&mut buf).await.unwrap() {
                0 => break,
                n => echoed.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(echoed, b"straight to the socket");
    });
}

#[test]
fn reunite_refuses_and_hands_both_back() {
    run_bounded(async {
        let server = start_server(
            |mut reader: StreamReader, _w: StreamWriter| async move {
                let _ = reader.read_to_end().await;
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (reader_a, writer_a) = open_connection(server.local_addr()).await.unwrap();
        let (reader_b, writer_b) = open_connection(server.local_addr()).await.unwrap();

        // Two different connections.
        let err = reader_a.reunite(writer_b).unwrap_err();
        assert!(err.reason().contains("different connections"), "{err}");
        let (reader_a, mut writer_b) = err.into_parts();
        writer_b.write_and_drain(b"still usable\n").await.unwrap();

        // A reader in memory has no socket.
        let err = StreamReader::from_bytes("x").reunite(writer_a).unwrap_err();
        assert!(err.reason().contains("in memory"), "{err}");
        let (_, writer_a) = err.into_parts();

        // Bytes still queued: 16 MiB to a server that reads slowly.
        writer_b.write(&vec![0; 16 << 20]).unwrap();
        let err = reader_b.reunite(writer_b).unwrap_err();
        assert!(err.reason().contains("still queued"), "{err}");
        let (reader_b, mut writer_b) = err.into_parts();

        // Aborted.
        writer_b.abort();
        let err = reader_b.reunite(writer_b).unwrap_err();
        assert!(err.reason().contains("aborted"), "{err}");

        // The first pair still reunites.
        assert!(reader_a.reunite(writer_a).is_ok());
    });
}

#[cfg(unix)]
#[test]
fn reunite_a_unix_connection() {
    use weft_runtime::streams::{open_unix_connection, start_unix_server, StreamSocket};

    let dir = weft_tests::TempDir::new();
    let path = dir.join("reunite.sock");
    run_bounded(async {
        let server = start_unix_server(
            |_r: StreamReader, mut w: StreamWriter| async move { w.write(b"hi\n").unwrap() },
            &path,
        )
        .await
        .unwrap();
        let (mut reader, writer) = open_unix_connection(&path).await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"hi\n");
        let (socket, read_ahead) = reader.reunite(writer).unwrap();
        assert!(read_ahead.is_empty());
        let StreamSocket::Unix(mut stream) = socket else {
            panic!("a Unix connection")
        };
        assert_eq!(stream.read(&mut [0; 8]).await.unwrap(), 0);
        server.close();
        server.wait_closed().await;
    });
}
