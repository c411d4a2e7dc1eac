//! The echo servers under test: the same loop on weft, tokio and smol.
//!
//! Each accepts connections on a listener the child bound on 127.0.0.1,
//! spawns one task per connection, and echoes: read what is there (up to
//! [`BUFFER`] bytes), write all of it back, until the peer closes. Nagle's
//! algorithm is off on every accepted socket (`TCP_NODELAY`), as any
//! request/response server sets it. Each server uses its runtime's own
//! socket types: the loop is written three times because the three APIs
//! differ, not the logic.
//!
//! ```text
//!   accept ──▶ spawn ──▶ loop { n = read(buf); if n == 0 { break }; write_all(buf[..n]) }
//! ```

use std::io;
use std::net::TcpListener;

/// Bytes read at most per `read` call on a connection.
pub(crate) const BUFFER: usize = 64 * 1024;

/// An echo server on one runtime.
pub(crate) trait EchoServer {
    /// Serves `listener` (non-blocking, bound on 127.0.0.1) until the
    /// process exits.
    fn serve(listener: TcpListener) -> io::Result<()>;
}

/// weft's runtime and `weft_runtime::net`.
pub(crate) struct WeftServer;

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

/// tokio's current-thread runtime and `tokio::net`.
pub(crate) struct TokioServer;

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

/// smol's `LocalExecutor` and `smol::net`.
pub(crate) struct SmolServer;

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
