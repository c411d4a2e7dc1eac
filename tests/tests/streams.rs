//! asyncio's streams on real sockets on 127.0.0.1: echo, many connections,
//! a 256 MiB transfer checked byte by byte, the reader's end-of-stream and
//! limit errors, a slow reader that makes `drain` wait, resets, half-closes,
//! closing a server while handlers are mid-request, and resources freed.
//!
//! Every test runs under a generous `timeout`, so a lost wake-up fails the
//! test instead of hanging it; no test depends on timing for its result.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;

use weft_primitives::Event;
use weft_runtime::net::{TcpListener, TcpStream};
use weft_runtime::streams::{
    open_connection, start_server, ReadError, Server, StreamReader, StreamWriter,
    DEFAULT_HIGH_WATER,
};
use weft_runtime::{spawn, spawn_blocking, timeout, yield_now, Handle};
use weft_tests::{poll_once, WakeCounter};

/// Runs `test` on a fresh runtime and fails it if it takes over two
/// minutes (the 256 MiB transfer is the slowest, in debug builds).
fn run_bounded<F: Future>(test: F) -> F::Output {
    weft_runtime::run(async {
        weft_runtime::timeout(Duration::from_secs(120), test)
            .await
            .expect("the test did not finish in time: a lost wake-up or a starved task")
    })
}

/// An echo server: every byte read is written back, with back-pressure.
async fn echo_server() -> Server {
    start_server(
        |mut reader: StreamReader, mut writer: StreamWriter| async move {
            let mut buf = vec![0; 64 * 1024];
            loop {
                match reader.read_into(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if writer.write(&buf[..n]).is_err() || writer.drain().await.is_err() {
                            return;
                        }
                    }
                }
            }
        },
        "127.0.0.1:0",
    )
    .await
    .unwrap()
}

/// A server whose handler writes `reply` and closes.
async fn replying_server(reply: &'static [u8]) -> Server {
    start_server(
        move |_reader: StreamReader, mut writer: StreamWriter| async move {
            writer.write(reply).unwrap();
            writer.close();
            writer.wait_closed().await.unwrap();
        },
        "127.0.0.1:0",
    )
    .await
    .unwrap()
}

/// The test streams' bytes: one block of a prime length, repeated, so that
/// no chunk size used here lines up with it and a lost, doubled or
/// reordered chunk shows. Checking compares slices (fast even in debug).
struct Pattern {
    block: Vec<u8>,
}

impl Pattern {
    fn new() -> Self {
        const PERIOD: usize = 65_521;
        Self {
            block: (0..2 * PERIOD)
                .map(|i| i % PERIOD)
                .map(|j| (j * 31 % 256) as u8 ^ (j / 256) as u8)
                .collect(),
        }
    }

    /// Fills `out` with the stream's bytes starting at `offset`.
    fn fill(&self, offset: usize, out: &mut [u8]) {
        let period = self.block.len() / 2;
        for (k, piece) in out.chunks_mut(period).enumerate() {
            let start = (offset + k * period) % period;
            piece.copy_from_slice(&self.block[start..start + piece.len()]);
        }
    }

    /// Whether `data` is the stream's bytes starting at `offset`.
    fn matches(&self, offset: usize, data: &[u8]) -> bool {
        let period = self.block.len() / 2;
        data.chunks(period).enumerate().all(|(k, piece)| {
            let start = (offset + k * period) % period;
            piece == &self.block[start..start + piece.len()]
        })
    }
}

/// Sends `total` pattern bytes in `chunk`-sized writes, draining after each.
async fn send_pattern(writer: &mut StreamWriter, total: usize, chunk: usize) {
    let pattern = Pattern::new();
    let mut buf = vec![0; chunk];
    let mut sent = 0;
    while sent < total {
        let n = chunk.min(total - sent);
        pattern.fill(sent, &mut buf[..n]);
        writer.write(&buf[..n]).unwrap();
        writer.drain().await.unwrap();
        sent += n;
    }
}

/// Reads to end of stream, checking the pattern on the fly; returns the
/// byte count.
async fn receive_pattern(reader: &mut StreamReader) -> usize {
    let pattern = Pattern::new();
    let mut buf = vec![0; 1 << 20];
    let mut got = 0;
    loop {
        let n = reader.read_into(&mut buf).await.unwrap();
        if n == 0 {
            return got;
        }
        assert!(
            pattern.matches(got, &buf[..n]),
            "wrong bytes at offset {got}"
        );
        got += n;
    }
}

#[test]
fn echo_round_trips_line_by_line() {
    run_bounded(async {
        let server = echo_server().await;
        let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
        for i in 0..500 {
            let line = format!("line {i}\n");
            writer.write(line.as_bytes()).unwrap();
            writer.drain().await.unwrap();
            assert_eq!(reader.readline().await.unwrap(), line.as_bytes());
        }
        writer.close();
        writer.wait_closed().await.unwrap();
        assert!(reader.read(1).await.unwrap().is_empty());
        assert!(reader.at_eof());
    });
}

#[test]
fn two_hundred_connections_at_once() {
    run_bounded(async {
        let server = echo_server().await;
        let addr = server.local_addr();
        let clients: Vec<_> = (0..200)
            .map(|c| {
                spawn(async move {
                    let (mut reader, mut writer) = open_connection(addr).await.unwrap();
                    for round in 0..10 {
                        let message = format!("client {c} round {round}\n");
                        writer.write(message.as_bytes()).unwrap();
                        writer.drain().await.unwrap();
                        assert_eq!(reader.readline().await.unwrap(), message.as_bytes());
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
    });
}

#[test]
fn a_256_mib_transfer_arrives_intact() {
    const TOTAL: usize = 256 << 20;
    run_bounded(async {
        let server = echo_server().await;
        let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
        writer.set_write_buffer_limits(1 << 20, 256 << 10).unwrap();
        let sender = spawn(async move {
            send_pattern(&mut writer, TOTAL, (1 << 20) + 7).await;
            writer.write_eof().unwrap();
            writer
        });
        assert_eq!(receive_pattern(&mut reader).await, TOTAL);
        sender.await.unwrap();
    });
}

#[test]
fn readexactly_at_end_of_stream_returns_the_partial_bytes() {
    run_bounded(async {
        let server = replying_server(b"0123456").await;
        let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
        assert_eq!(reader.readexactly(4).await.unwrap(), b"0123");
        let err = reader.readexactly(10).await.unwrap_err();
        let ReadError::Incomplete(incomplete) = &err else {
            panic!("expected Incomplete, got {err:?}")
        };
        assert_eq!(incomplete.partial(), b"456");
        assert_eq!(incomplete.expected(), Some(10));
        assert_eq!(
            err.to_string(),
            "the stream ended after 3 of the 10 bytes expected (the bytes are in the error)"
        );
        assert!(reader.at_eof());
        let io_err = std::io::Error::from(err);
        assert_eq!(io_err.kind(), ErrorKind::UnexpectedEof);
    });
}

#[test]
fn readuntil_at_end_of_stream_returns_the_partial_bytes() {
    run_bounded(async {
        let server = replying_server(b"a--b--tail").await;
        let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
        assert_eq!(reader.readuntil(b"--").await.unwrap(), b"a--");
        assert_eq!(reader.readuntil(b"--").await.unwrap(), b"b--");
        let err = reader.readuntil(b"--").await.unwrap_err();
        let ReadError::Incomplete(incomplete) = &err else {
            panic!("expected Incomplete, got {err:?}")
        };
        assert_eq!(incomplete.partial(), b"tail");
        assert_eq!(incomplete.expected(), None);
        assert!(reader.at_eof());
        // At end of stream with nothing left, the partial bytes are empty.
        assert_eq!(
            reader.readuntil(b"--").await.unwrap_err().partial(),
            Some(&b""[..])
        );
    });
}

#[test]
fn readuntil_with_an_empty_separator_is_refused() {
    run_bounded(async {
        let server = replying_server(b"data").await;
        let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
        let err = reader.readuntil(b"").await.unwrap_err();
        let ReadError::Io(io_err) = err else {
            panic!("expected Io, got {err:?}")
        };
        assert_eq!(io_err.kind(), ErrorKind::InvalidInput);
        assert_eq!(reader.read_to_end().await.unwrap(), b"data");
    });
}

#[test]
fn readuntil_over_the_limit_keeps_the_data() {
    run_bounded(async {
        let server = start_server(
            |_reader: StreamReader, mut writer: StreamWriter| async move {
                writer.write(&[b'x'; 100]).unwrap();
                writer.drain().await.unwrap();
                writer.write(b"!end\n").unwrap();
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
        reader.set_limit(16).unwrap();
        let err = reader.readuntil(b"!").await.unwrap_err();
        let ReadError::LimitOverrun(overrun) = &err else {
            panic!("expected LimitOverrun, got {err:?}")
        };
        assert_eq!(overrun.limit(), 16);
        assert!(overrun.consumed() > 16);
        // Nothing was consumed: the bytes are still there, in order.
        assert!(reader.buffer().len() >= overrun.consumed());
        assert!(reader
            .buffer()
            .iter()
            .take(overrun.consumed())
            .all(|&b| b == b'x'));

        // With a larger limit the same call succeeds.
        reader.set_limit(1000).unwrap();
        let mut expected = vec![b'x'; 100];
        expected.push(b'!');
        assert_eq!(reader.readuntil(b"!").await.unwrap(), expected);
        assert_eq!(reader.readline().await.unwrap(), b"end\n");
    });
}

#[test]
fn readline_with_and_without_a_final_newline() {
    run_bounded(async {
        let server = replying_server(b"first\nsecond\nlast").await;
        let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"first\n");
        assert_eq!(reader.readline().await.unwrap(), b"second\n");
        assert_eq!(reader.readline().await.unwrap(), b"last");
        assert!(reader.at_eof());
        assert_eq!(reader.readline().await.unwrap(), b"");

        let server = replying_server(b"only\n").await;
        let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"only\n");
        assert_eq!(reader.readline().await.unwrap(), b"");
    });
}

#[test]
fn lines_iterate_until_end_of_stream_and_stop_after_an_error() {
    run_bounded(async {
        let server = replying_server(b"a\nbb\nccc").await;
        let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
        let mut lines = reader.lines();
        let mut got = Vec::new();
        while let Some(line) = lines.next().await {
            got.push(line.unwrap());
        }
        assert_eq!(got, [&b"a\n"[..], b"bb\n", b"ccc"]);

        let server = replying_server(b"short\nfar too long a line\n").await;
        let (mut reader, _writer) = open_connection(server.local_addr()).await.unwrap();
        reader.set_limit(8).unwrap();
        let mut lines = reader.lines();
        assert_eq!(lines.next().await.unwrap().unwrap(), b"short\n");
        assert!(matches!(
            lines.next().await,
            Some(Err(ReadError::LimitOverrun(_)))
        ));
        assert!(lines.next().await.is_none());
        // The long line is still in the reader.
        reader.set_limit(100).unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"far too long a line\n");
    });
}

/// A `readline` dropped half-way (here by a timeout) loses nothing: the
/// bytes it gathered stay in the reader for the next call.
#[test]
fn a_dropped_readline_loses_no_bytes() {
    run_bounded(async {
        let (mut listener, addr) = listen().await;
        let (mut reader, _writer) = open_connection(addr).await.unwrap();
        let (mut peer, _) = listener.accept().await.unwrap();
        peer.write_all(b"hel").await.unwrap();
        // A line cannot complete yet, however the timing goes.
        assert!(timeout(Duration::from_millis(20), reader.readline())
            .await
            .is_err());
        peer.write_all(b"lo\nworld\n").await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"hello\n");
        assert_eq!(reader.readline().await.unwrap(), b"world\n");
    });
}

async fn listen() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// The peer does not read until the writer's `drain` has had to wait; the
/// writer's queue never holds more than the high-water mark plus one write;
/// then the peer reads everything, in order.
#[test]
fn a_slow_reader_makes_drain_wait_and_bounds_the_queue() {
    const TOTAL: usize = 32 << 20;
    const CHUNK: usize = 16 * 1024 + 3;
    run_bounded(async {
        let (mut listener, addr) = listen().await;
        let (_reader, mut writer) = open_connection(addr).await.unwrap();
        let (peer, _) = listener.accept().await.unwrap();
        assert_eq!(
            writer.write_buffer_limits(),
            (DEFAULT_HIGH_WATER, 16 * 1024)
        );

        let drain_waited = Rc::new(Event::new());
        let largest_queue = Rc::new(Cell::new(0));
        let sender = spawn({
            let (drain_waited, largest_queue) = (drain_waited.clone(), largest_queue.clone());
            async move {
                let pattern = Pattern::new();
                let mut buf = vec![0; CHUNK];
                let mut sent = 0;
                while sent < TOTAL {
                    let n = CHUNK.min(TOTAL - sent);
                    pattern.fill(sent, &mut buf[..n]);
                    writer.write(&buf[..n]).unwrap();
                    sent += n;
                    largest_queue.set(largest_queue.get().max(writer.write_buffer_size()));
                    {
                        let mut drain = pin!(writer.drain());
                        if poll_once(drain.as_mut(), &WakeCounter::new()).is_pending() {
                            drain_waited.set();
                            drain.await.unwrap();
                        }
                    }
                    assert!(writer.write_buffer_size() <= DEFAULT_HIGH_WATER);
                }
                writer.close();
                writer.wait_closed().await.unwrap();
            }
        });

        // Nobody reads until `drain` had to wait.
        drain_waited.wait().await;
        assert!(!sender.is_finished());
        let (read_half, _write_half) = peer.into_split();
        let mut peer_reader = StreamReader::new(read_half);
        assert_eq!(receive_pattern(&mut peer_reader).await, TOTAL);
        sender.await.unwrap();
        assert!(
            largest_queue.get() > DEFAULT_HIGH_WATER,
            "the queue never filled"
        );
        assert!(largest_queue.get() <= DEFAULT_HIGH_WATER + CHUNK);
    });
}

/// Bytes written and never drained still reach the peer: the writer's
/// flusher task sends them in the background, even after the writer is
/// dropped, and then ends the stream.
#[test]
fn bytes_written_without_drain_reach_the_peer() {
    const TOTAL: usize = 4 << 20;
    run_bounded(async {
        let (mut listener, addr) = listen().await;
        let (_reader, mut writer) = open_connection(addr).await.unwrap();
        let (peer, _) = listener.accept().await.unwrap();
        let pattern = Pattern::new();
        let mut all = vec![0; TOTAL];
        pattern.fill(0, &mut all);
        writer.write(&all).unwrap();
        assert!(
            writer.write_buffer_size() > 0,
            "the kernel took 4 MiB at once"
        );
        drop(writer);
        let (read_half, _write_half) = peer.into_split();
        assert_eq!(
            receive_pattern(&mut StreamReader::new(read_half)).await,
            TOTAL
        );
    });
}

/// A peer that closes with unread data in its receive buffer makes Linux
/// send a reset. Then `write`, `drain` and `wait_closed` fail with the OS
/// error, every time.
#[test]
fn a_peer_reset_fails_drain_and_later_writes() {
    run_bounded(async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let peer = spawn_blocking(move || {
            let (socket, _) = std_listener.accept().unwrap();
            // Wait until data is there, then close without reading it.
            socket.peek(&mut [0; 1]).unwrap();
        });
        let (_reader, mut writer) = open_connection(addr).await.unwrap();
        writer.write(b"never read").unwrap();
        peer.await.unwrap();

        let first = loop {
            if let Err(e) = writer.write(&[0; 4096]) {
                break e;
            }
            if let Err(e) = writer.drain().await {
                break e;
            }
            yield_now().await;
        };
        assert!(
            matches!(
                first.kind(),
                ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
            ),
            "{first:?}"
        );
        let code = first.raw_os_error();
        assert!(code.is_some());
        assert_eq!(writer.write(b"more").unwrap_err().raw_os_error(), code);
        assert_eq!(writer.drain().await.unwrap_err().raw_os_error(), code);
        assert!(writer.is_closing());
        assert_eq!(writer.write_buffer_size(), 0);
        assert_eq!(writer.wait_closed().await.unwrap_err().raw_os_error(), code);
    });
}

#[test]
fn a_peer_reset_fails_reads() {
    run_bounded(async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let peer = spawn_blocking(move || {
            let (socket, _) = std_listener.accept().unwrap();
            socket.peek(&mut [0; 1]).unwrap();
        });
        let (mut reader, mut writer) = open_connection(addr).await.unwrap();
        writer.write(b"never read").unwrap();
        peer.await.unwrap();
        let err = reader.readline().await.unwrap_err();
        let ReadError::Io(io_err) = err else {
            panic!("expected Io, got {err:?}")
        };
        assert_eq!(io_err.kind(), ErrorKind::ConnectionReset);
    });
}

/// After a reset, the first read error is kept and every later read
/// returns it: the bytes buffered before the reset never come back as if they
/// were a last line, and the stream never looks complete (asyncio keeps its
/// reader's exception the same way).
#[test]
fn a_read_error_is_kept_for_every_later_read() {
    run_bounded(async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let peer = spawn_blocking(move || {
            let (mut socket, _) = std_listener.accept().unwrap();
            std::io::Write::write_all(&mut socket, b"partial").unwrap();
            // Wait until our data is there, then close without reading it:
            // Linux answers with a reset.
            socket.peek(&mut [0; 1]).unwrap();
        });
        let (mut reader, mut writer) = open_connection(addr).await.unwrap();
        assert_eq!(reader.readexactly(3).await.unwrap(), b"par");
        writer.write(b"never read").unwrap();
        peer.await.unwrap();

        let first = reader.readline().await.unwrap_err();
        let ReadError::Io(first) = first else {
            panic!("expected Io, got {first:?}")
        };
        assert_eq!(first.kind(), ErrorKind::ConnectionReset);
        for _ in 0..2 {
            let again = reader.readline().await.unwrap_err();
            assert!(
                matches!(&again, ReadError::Io(e) if e.kind() == ErrorKind::ConnectionReset),
                "{again:?}"
            );
        }
        assert_eq!(
            reader.read(100).await.unwrap_err().kind(),
            ErrorKind::ConnectionReset
        );
        assert_eq!(
            reader.read_to_end().await.unwrap_err().kind(),
            ErrorKind::ConnectionReset
        );
        assert!(reader.readexactly(1).await.is_err());
        assert!(!reader.at_eof());
        // Nothing is lost: the bytes buffered before the reset are still there.
        assert_eq!(reader.buffer(), b"tial");
    });
}

/// The client ends its side with `write_eof`; the server reads to end of
/// stream and still answers on the open direction.
#[test]
fn half_close_from_the_client() {
    run_bounded(async {
        let server = start_server(
            |mut reader: StreamReader, mut writer: StreamWriter| async move {
                let request = reader.read_to_end().await.unwrap();
                assert!(reader.at_eof());
                writer
                    .write(format!("got {} bytes", request.len()).as_bytes())
                    .unwrap();
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
        writer.write(&[1; 1000]).unwrap();
        writer.write_eof().unwrap();
        writer.write_eof().unwrap(); // twice is fine
        let err = writer.write(b"late").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
        assert!(!writer.is_closing());
        assert_eq!(reader.read_to_end().await.unwrap(), b"got 1000 bytes");
    });
}

/// The server ends its side first; the client reads end of stream and
/// still sends, and the server still receives.
#[test]
fn half_close_from_the_server() {
    run_bounded(async {
        let received = Rc::new(RefCell::new(Vec::new()));
        let server = start_server(
            {
                let received = received.clone();
                move |mut reader: StreamReader, mut writer: StreamWriter| {
                    let received = received.clone();
                    async move {
                        writer.write(b"ready\n").unwrap();
                        writer.write_eof().unwrap();
                        *received.borrow_mut() = reader.read_to_end().await.unwrap();
                    }
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"ready\n");
        assert_eq!(reader.readline().await.unwrap(), b"");
        assert!(reader.at_eof());
        writer.write(b"after your eof").unwrap();
        writer.close();
        writer.wait_closed().await.unwrap();
        server.close();
        server.wait_closed().await;
        assert_eq!(*received.borrow(), b"after your eof");
    });
}

/// `close` refuses new connections at once; `wait_closed` waits for the
/// handler that is in the middle of a request, which still completes.
#[test]
fn closing_a_server_waits_for_handlers_mid_request() {
    run_bounded(async {
        let in_handler = Rc::new(Event::new());
        let release = Rc::new(Event::new());
        let server = start_server(
            {
                let (in_handler, release) = (in_handler.clone(), release.clone());
                move |mut reader: StreamReader, mut writer: StreamWriter| {
                    let (in_handler, release) = (in_handler.clone(), release.clone());
                    async move {
                        let request = reader.readline().await.unwrap();
                        in_handler.set();
                        release.wait().await;
                        writer.write(&request.to_ascii_uppercase()).unwrap();
                    }
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let addr = server.local_addr();
        let (mut reader, mut writer) = open_connection(addr).await.unwrap();
        writer.write(b"request\n").unwrap();
        in_handler.wait().await;

        assert!(server.is_serving());
        server.close();
        assert!(!server.is_serving());
        let refused = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);

        let mut wait_closed = pin!(server.wait_closed());
        let counter = WakeCounter::new();
        assert!(poll_once(wait_closed.as_mut(), &counter).is_pending());
        release.set();
        assert_eq!(reader.readline().await.unwrap(), b"REQUEST\n");
        wait_closed.await;
    });
}

#[test]
fn serve_forever_returns_when_the_server_is_closed() {
    run_bounded(async {
        let server = Rc::new(echo_server().await);
        let closer = spawn({
            let server = server.clone();
            async move {
                // A connection proves the server is accepting meanwhile.
                let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
                writer.write(b"ping\n").unwrap();
                assert_eq!(reader.readline().await.unwrap(), b"ping\n");
                server.close();
            }
        });
        server.serve_forever().await;
        assert!(!server.is_serving());
        closer.await.unwrap();
        server.wait_closed().await;
    });
}

/// As in asyncio, cancelling `serve_forever` closes the server.
#[test]
fn dropping_serve_forever_closes_the_server() {
    run_bounded(async {
        let server = echo_server().await;
        let elapsed = timeout(Duration::from_millis(10), server.serve_forever()).await;
        assert!(elapsed.is_err());
        assert!(!server.is_serving());
        let refused = TcpStream::connect(server.local_addr()).await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    });
}

/// After many short connections, every socket registration and every task
/// of the server, the handlers and the writers' flushers is gone.
#[test]
fn short_connections_leave_nothing_behind() {
    run_bounded(async {
        let handle = Handle::current();
        let baseline = handle.metrics();
        let server = echo_server().await;
        for i in 0..100 {
            let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
            // Larger than the kernel takes at once: the writers queue part of
            // it and start their flushers.
            let message = vec![i as u8; 1 << 20];
            writer.write(&message).unwrap();
            writer.write_eof().unwrap();
            assert_eq!(reader.read_to_end().await.unwrap(), message);
            drop((reader, writer));
        }
        server.close();
        server.wait_closed().await;
        drop(server);
        yield_now().await; // the aborted accept task goes at its next turn
        let after = handle.metrics();
        assert_eq!(after.io_registrations, baseline.io_registrations);
        assert_eq!(after.tasks_alive, baseline.tasks_alive);
    });
}

#[test]
fn writer_settings_and_misuse_give_clear_errors() {
    run_bounded(async {
        let server = echo_server().await;
        let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
        assert_eq!(writer.peer_addr().unwrap(), server.local_addr());
        assert_eq!(reader.peer_addr().unwrap(), server.local_addr());
        assert_eq!(writer.local_addr().unwrap(), reader.local_addr().unwrap());

        let err = writer.set_write_buffer_limits(10, 20).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(
            err.to_string()
                .contains("low (20) must not exceed high (10)"),
            "{err}"
        );
        assert_eq!(
            reader.set_limit(0).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );

        writer.writelines([&b"one "[..], b"two\n"]).unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"one two\n");

        writer.close();
        assert!(writer.is_closing());
        let err = writer.write(b"after close").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
        assert!(
            err.to_string().contains("after write_eof() or close()"),
            "{err}"
        );
        writer.wait_closed().await.unwrap();
        writer.drain().await.unwrap();
        assert_eq!(reader.read(10).await.unwrap(), b"");
    });
}

/// `drain` spends the task's cooperative budget, so a task writing to a
/// fast peer in a loop cannot keep the others from running.
#[test]
fn a_write_and_drain_loop_lets_other_tasks_run() {
    run_bounded(async {
        // A sink: it reads everything and never answers.
        let server = start_server(
            |mut reader: StreamReader, _writer: StreamWriter| async move {
                while !reader.read(64 * 1024).await.unwrap().is_empty() {}
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (_reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
        let ticks = Rc::new(Cell::new(0u32));
        let ticker = spawn({
            let ticks = ticks.clone();
            async move {
                loop {
                    ticks.set(ticks.get() + 1);
                    yield_now().await;
                }
            }
        });
        // Small writes the kernel always takes at once: `write` never
        // queues and `drain` is never paused.
        let mut rounds = 0;
        while ticks.get() < 3 {
            writer.write(b"x").unwrap();
            writer.drain().await.unwrap();
            rounds += 1;
            assert!(rounds < 1_000_000, "the ticker never ran");
        }
        ticker.abort();
    });
}
