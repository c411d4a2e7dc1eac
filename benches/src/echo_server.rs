//! The echo servers under test: the same loop on weft, tokio and smol, and
//! on weft's streams.
//!
//! Each accepts connections on a listener the child bound on 127.0.0.1,
//! spawns one task per connection, and echoes: read what is there (up to
//! [`BUFFER`] bytes), write all of it back, until the peer closes. Nagle's
//! algorithm is off on every accepted socket (`TCP_NODELAY`), as any
//! request/response server sets it (weft's streams set it themselves, as
//! asyncio's do). Each server uses its runtime's own socket types: the
//! loop is written once per API because the APIs differ, not the logic.
//!
//! ```text
//!   accept ──▶ spawn ──▶ loop { n = read(buf); if n == 0 { break }; write_all(buf[..n]) }
//!   streams:   handler ─▶ loop { n = reader.read_into(buf); if n == 0 { break }; writer.write(buf[..n]); writer.drain() }
//! ```
//!
//! [`serve_child`] runs one of them as a server child
//! (`crate::server_child`).

use std::io;
use std::net::TcpListener;

use crate::server_child::{announce, exit_when_stdin_closes};

/// Bytes read at most per `read` call on a connection.
pub const BUFFER: usize = 64 * 1024;

/// An echo server on one runtime.
///
/// ```
/// use weft_benches::echo_server::{EchoServer, SmolServer, TokioServer, WeftServer, WeftStreamsServer};
///
/// fn check<S: EchoServer>() {
///     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
///     listener.set_nonblocking(true).unwrap();
///     let addr = listener.local_addr().unwrap();
///     std::thread::spawn(move || S::serve(listener));
///     weft_benches::load_client::bulk(addr, 1 << 20).unwrap();
/// }
/// check::<WeftServer>();
/// check::<WeftStreamsServer>();
/// check::<TokioServer>();
/// check::<SmolServer>();
/// ```
pub trait EchoServer {
    /// Serves `listener` (non-blocking, bound on 127.0.0.1) until the
    /// process exits.
    fn serve(listener: TcpListener) -> io::Result<()>;
}

/// The child side of a server child: binds 127.0.0.1 port 0, announces
/// `port=N`, then serves with `S` until its standard input closes. Returns
/// only if the server fails, with the reason.
///
/// ```no_run
/// use weft_benches::echo_server::{serve_child, TokioServer};
///
/// eprintln!("{}", serve_child::<TokioServer>());
/// std::process::exit(1);
/// ```
pub fn serve_child<S: EchoServer>() -> String {
    let served = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| {
            listener.set_nonblocking(true)?;
            announce(listener.local_addr()?)?;
            Ok(listener)
        })
        .and_then(|listener| {
            // The parent closes our stdin when it is done (or dies): exit then.
            exit_when_stdin_closes();
            S::serve(listener)
        });
    match served {
        Ok(()) => "the echo server stopped".to_owned(),
        Err(e) => format!("echo server: {e}"),
    }
}

/// weft's runtime and `weft_runtime::net`: see [`EchoServer`].
#[derive(Debug)]
pub struct WeftServer;

impl EchoServer for WeftServer {
    fn serve(listener: TcpListener) -> io::Result<()> {
        use weft_runtime::net::{TcpListener, TcpStream};

        async fn echo(mut stream: TcpStream) -> io::Result<()> {
            let mut buf = vec![0; BUFFER];
            loop {
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    return Ok(());
                }
                stream.write_all(&buf[..n]).await?;
            }
        }

        weft_runtime::Runtime::new().block_on(async {
            let mut listener = TcpListener::from_std(listener)?;
            loop {
                let (stream, _) = listener.accept().await?;
                stream.set_nodelay(true)?;
                // A connection's error (a reset) ends that connection only.
                drop(weft_runtime::spawn(echo(stream)));
            }
        })
    }
}

/// weft's streams: `start_server`'s handler on an existing listener
/// ([`Server::from_listener`](weft_runtime::streams::Server::from_listener)),
/// reading with `read_into` into a [`BUFFER`]-byte buffer, writing with
/// `write` and `drain` (the handler of weft's `echo_server` example): see
/// [`EchoServer`].
#[derive(Debug)]
pub struct WeftStreamsServer;

impl EchoServer for WeftStreamsServer {
    fn serve(listener: TcpListener) -> io::Result<()> {
        use weft_runtime::net::TcpListener;
        use weft_runtime::streams::{Server, ServerOptions, StreamReader, StreamWriter};

        async fn echo(mut reader: StreamReader, mut writer: StreamWriter) -> io::Result<()> {
            let mut buf = vec![0; BUFFER];
            loop {
                let n = reader.read_into(&mut buf).await?;
                if n == 0 {
                    writer.close();
                    return writer.wait_closed().await;
                }
                writer.write(&buf[..n])?;
                writer.drain().await?;
            }
        }

        weft_runtime::Runtime::new().block_on(async {
            let listener = TcpListener::from_std(listener)?;
            let server = Server::from_listener(listener, echo, ServerOptions::new())?;
            server.serve_forever().await;
            Ok(())
        })
    }
}

/// tokio's current-thread runtime and `tokio::net`: see [`EchoServer`].
#[derive(Debug)]
pub struct TokioServer;

impl EchoServer for TokioServer {
    fn serve(listener: TcpListener) -> io::Result<()> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        use tokio::net::{TcpListener, TcpStream};

        async fn echo(mut stream: TcpStream) -> io::Result<()> {
            let mut buf = vec![0; BUFFER];
            loop {
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    return Ok(());
                }
                stream.write_all(&buf[..n]).await?;
            }
        }

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let listener = TcpListener::from_std(listener)?;
            loop {
                let (stream, _) = listener.accept().await?;
                stream.set_nodelay(true)?;
                drop(tokio::spawn(echo(stream)));
            }
        })
    }
}

/// smol's `LocalExecutor` and `smol::net`: see [`EchoServer`].
#[derive(Debug)]
pub struct SmolServer;

impl EchoServer for SmolServer {
    fn serve(listener: TcpListener) -> io::Result<()> {
        use smol::io::{AsyncReadExt, AsyncWriteExt};
        use smol::net::{TcpListener, TcpStream};

        async fn echo(mut stream: TcpStream) -> io::Result<()> {
            let mut buf = vec![0; BUFFER];
            loop {
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    return Ok(());
                }
                stream.write_all(&buf[..n]).await?;
            }
        }

        let executor = smol::LocalExecutor::new();
        smol::block_on(executor.run(async {
            let listener = TcpListener::try_from(listener)?;
            loop {
                let (stream, _) = listener.accept().await?;
                stream.set_nodelay(true)?;
                executor.spawn(echo(stream)).detach();
            }
        }))
    }
}
