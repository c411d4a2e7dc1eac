//! hyper 1.x on weft (the runtime's `hyper` feature): HTTP/1 and HTTP/2
//! clients and servers talking to each other over weft's sockets, with
//! weft's executor and timer behind them; hyper's header-read timeout firing
//! on a stalled client; and the timer used from `Send` futures.
//!
//! Every networked test binds 127.0.0.1 port 0 and runs under
//! `run_bounded`, so a lost wake-up fails it instead of hanging it. The
//! timeout test asserts only that the connection closes, never how fast.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::rt::Timer;
use hyper::{Method, Request, Response};
use weft_runtime::hyper::{WeftExecutor, WeftTimer};
use weft_runtime::net::{TcpListener, TcpStream};
use weft_runtime::{join_all, spawn, time, JoinHandle};
use weft_tests::run_bounded;

/// Answers `POST` with the request body and anything else with its path.
async fn echo(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    if request.method() == Method::POST {
        let body = request.into_body().collect().await?.to_bytes();
        return Ok(Response::new(Full::new(body)));
    }
    let path = request.uri().path().to_string();
    Ok(Response::new(Full::from(path)))
}

fn request(method: Method, path: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(format!("http://localhost{path}"))
        .header(hyper::header::HOST, "localhost")
        .body(Full::new(body.into()))
        .unwrap()
}

async fn body_of(response: Response<Incoming>) -> Bytes {
    response.into_body().collect().await.unwrap().to_bytes()
}

/// Binds 127.0.0.1 port 0 and spawns a server task that accepts one
/// connection and runs `serve` on it.
async fn serve_one<F>(
    serve: impl FnOnce(TcpStream) -> F + 'static,
) -> (SocketAddr, JoinHandle<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
{
    let mut listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        serve(stream).await
    });
    (addr, server)
}

#[test]
fn http1_client_and_server_exchange_requests_and_echo_a_body() {
    run_bounded(async {
        let (addr, server) = serve_one(|stream| {
            hyper::server::conn::http1::Builder::new()
                .timer(WeftTimer)
                .serve_connection(stream, hyper::service::service_fn(echo))
        })
        .await;
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(stream).await.unwrap();
        let client_connection = spawn(connection);
        for i in 0..5 {
            let path = format!("/request/{i}");
            let response = sender
                .send_request(request(Method::GET, &path, Bytes::new()))
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(body_of(response).await, path);
        }
        // A body larger than any socket buffer, in both directions.
        let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let response = sender
            .send_request(request(Method::POST, "/echo", payload.clone()))
            .await
            .unwrap();
        assert_eq!(body_of(response).await, payload);
        // Closing the client's side ends both connections cleanly.
        drop(sender);
        client_connection.await.unwrap().unwrap();
        server.await.unwrap().unwrap();
    });
}

#[test]
fn http2_with_prior_knowledge_runs_its_streams_on_the_weft_executor() {
    run_bounded(async {
        let (addr, server) = serve_one(|stream| {
            hyper::server::conn::http2::Builder::new(WeftExecutor)
                .timer(WeftTimer)
                .serve_connection(stream, hyper::service::service_fn(echo))
        })
        .await;
        let stream = TcpStream::connect(addr).await.unwrap();
        let (sender, connection) = hyper::client::conn::http2::Builder::new(WeftExecutor)
            .timer(WeftTimer)
            .handshake(stream)
            .await
            .unwrap();
        let client_connection = spawn(connection);
        // Eight requests in flight at once on one connection.
        let exchanges = (0..8).map(|i| {
            let mut sender = sender.clone();
            async move {
                let body = format!("stream {i}").repeat(1000);
                let response = sender
                    .send_request(request(Method::POST, "/echo", body.clone()))
                    .await
                    .unwrap();
                assert_eq!(response.version(), hyper::Version::HTTP_2);
                assert_eq!(body_of(response).await, body);
            }
        });
        join_all(exchanges).await;
        drop(sender);
        client_connection.await.unwrap().unwrap();
        server.await.unwrap().unwrap();
    });
}

#[cfg(unix)]
#[test]
fn http1_runs_over_a_unix_stream() {
    use weft_runtime::net::unix::UnixStream;

    run_bounded(async {
        let (client, server) = UnixStream::pair().unwrap();
        let server = spawn(
            hyper::server::conn::http1::Builder::new()
                .serve_connection(server, hyper::service::service_fn(echo)),
        );
        let (mut sender, connection) = hyper::client::conn::http1::handshake(client).await.unwrap();
        spawn(connection);
        let response = sender
            .send_request(request(Method::GET, "/over/unix", Bytes::new()))
            .await
            .unwrap();
        assert_eq!(body_of(response).await, "/over/unix");
        drop(sender);
        server.await.unwrap().unwrap();
    });
}

#[test]
fn header_read_timeout_closes_a_stalled_connection() {
    run_bounded(async {
        let (addr, server) = serve_one(|stream| {
            hyper::server::conn::http1::Builder::new()
                .timer(WeftTimer)
                .header_read_timeout(Duration::from_millis(100))
                .serve_connection(stream, hyper::service::service_fn(echo))
        })
        .await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        // Half a request head, then nothing more.
        client
            .write_all(b"GET /stalled HTTP/1.1\r\nHost: localhost\r\n")
            .await
            .unwrap();
        // The server gives up and closes: end of stream (or a reset).
        let mut rest = Vec::new();
        let mut buf = [0; 1024];
        loop {
            match client.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => rest.extend_from_slice(&buf[..n]),
            }
        }
        let error = server.await.unwrap().unwrap_err();
        assert!(error.is_timeout(), "not a timeout: {error}");
        // Whatever it said before closing, it did not serve the request.
        assert!(!String::from_utf8_lossy(&rest).contains("/stalled"));
    });
}

#[test]
fn the_timer_sleeps_inside_send_futures_moved_across_threads() {
    fn assert_send<T: Send>(value: T) -> T {
        value
    }
    // Built on this thread, run on another thread's runtime.
    let nap = assert_send(async {
        let start = WeftTimer.now();
        let mut sleep = WeftTimer.sleep(Duration::from_secs(3600));
        WeftTimer.reset(&mut sleep, start + Duration::from_secs(10));
        sleep.await;
        WeftTimer.now() - start
    });
    let slept = std::thread::spawn(move || {
        weft_runtime::Builder::new()
            .start_paused(true)
            .build()
            .block_on(nap)
    })
    .join()
    .unwrap();
    assert_eq!(slept, Duration::from_secs(10));
    // On the real clock too, never early.
    let real = assert_send(async {
        let start = time::now();
        WeftTimer.sleep(Duration::from_millis(20)).await;
        time::now() - start
    });
    let slept = std::thread::spawn(move || weft_runtime::run(real))
        .join()
        .unwrap();
    assert!(slept >= Duration::from_millis(20));
}

#[test]
fn a_service_that_is_not_send_runs_on_the_runtime_thread() {
    run_bounded(async {
        let hits = std::rc::Rc::new(std::cell::Cell::new(0));
        let counted = hits.clone();
        let service = hyper::service::service_fn(move |_: Request<Incoming>| {
            counted.set(counted.get() + 1);
            let answer = counted.get().to_string();
            async move { Ok::<_, Infallible>(Response::new(Full::<Bytes>::from(answer))) }
        });
        let (addr, _server) = serve_one(|stream| {
            hyper::server::conn::http2::Builder::new(WeftExecutor).serve_connection(stream, service)
        })
        .await;
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http2::handshake(WeftExecutor, stream)
            .await
            .unwrap();
        spawn(connection);
        for expected in ["1", "2"] {
            let response = sender
                .send_request(request(Method::GET, "/", Bytes::new()))
                .await
                .unwrap();
            assert_eq!(body_of(response).await, expected);
        }
        assert_eq!(hits.get(), 2);
    });
}
