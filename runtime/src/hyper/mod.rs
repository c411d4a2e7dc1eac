//! hyper 1.x on weft (cargo feature `hyper`): HTTP/1 and HTTP/2 servers and
//! clients with no glue code.
//!
//! hyper brings the protocols and asks its runtime for three things, all
//! provided here or on weft's own types:
//!
//! | hyper needs                      | weft gives                                           |
//! |----------------------------------|------------------------------------------------------|
//! | `rt::Read` + `rt::Write` (IO)    | [`TcpStream`](crate::net::TcpStream) and `UnixStream` implement both |
//! | `rt::Executor` (HTTP/2 tasks)    | [`WeftExecutor`]: a detached [`spawn`](crate::spawn) |
//! | `rt::Timer` (timeouts, pings)    | [`WeftTimer`]: weft's `Send + Sync` [`Sleep`](crate::time::Sleep) |
//!
//! Each connection runs as one weft task (spawn its `serve_connection`
//! future, or a client's `Connection`); everything stays on the runtime's
//! thread, so services and bodies need not be `Send`. For several cores,
//! run one runtime per core, each with its own listener (see the
//! `thread_per_core` example).
//!
//! An HTTP/1 server with a header-read timeout, and a client, on one
//! runtime:
//!
//! ```
//! use std::convert::Infallible;
//! use std::time::Duration;
//!
//! use http_body_util::BodyExt;
//! use hyper::body::Incoming;
//! use hyper::{Request, Response};
//! use weft_runtime::hyper::WeftTimer;
//! use weft_runtime::net::{TcpListener, TcpStream};
//!
//! weft_runtime::run(async {
//!     let mut listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     weft_runtime::spawn(async move {
//!         let (stream, _) = listener.accept().await.unwrap();
//!         let hello = hyper::service::service_fn(|request: Request<Incoming>| async move {
//!             Ok::<_, Infallible>(Response::new(format!("hello, {}", request.uri().path())))
//!         });
//!         hyper::server::conn::http1::Builder::new()
//!             .timer(WeftTimer)
//!             .header_read_timeout(Duration::from_secs(5))
//!             .serve_connection(stream, hello)
//!             .await
//!             .unwrap();
//!     });
//!
//!     let stream = TcpStream::connect(addr).await.unwrap();
//!     let (mut sender, connection) = hyper::client::conn::http1::handshake(stream).await.unwrap();
//!     weft_runtime::spawn(connection);
//!     let request = Request::get("/weft").header("host", "localhost").body(String::new()).unwrap();
//!     let response = sender.send_request(request).await.unwrap();
//!     let body = response.into_body().collect().await.unwrap().to_bytes();
//!     assert_eq!(body, "hello, /weft");
//! });
//! ```
//!
//! HTTP/2 is the same with `http2::Builder::new(WeftExecutor)` on both
//! sides (`tests/tests/hyper.rs` runs one exchange).

mod executor;
mod timer;

pub use executor::WeftExecutor;
pub use timer::WeftTimer;
