//! A small HTTP/1 app on hyper, run by weft (cargo feature `hyper`).
//!
//! ```text
//! cargo run -p weft-runtime --features hyper --example http_server -- [ADDR] [--self-test]
//! ```
//!
//! Routes: `GET /` says hello, `POST /echo` sends the request body back,
//! anything else is a 404. Each connection is one weft task running hyper's
//! `serve_connection` on a weft `TcpStream`, with weft's timer behind
//! hyper's `header_read_timeout`: a client that opens a connection and
//! stalls inside its request head is disconnected after five seconds.
//!
//! `ADDR` defaults to `127.0.0.1:8080`; port 0 lets the OS pick one. The
//! server prints `http_server: listening on ADDR` and runs until killed.
//! With `--self-test` a hyper client on the same runtime sends a few
//! requests over one keep-alive connection, checks the answers and exits
//! (status 0 when all were right), which is how CI runs it:
//!
//! ```text
//! cargo run -p weft-runtime --features hyper --example http_server -- 127.0.0.1:0 --self-test
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use weft_runtime::hyper::WeftTimer;
use weft_runtime::net::{TcpListener, TcpStream};

/// How long a client may take to send a request's head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The app: one response per request.
async fn app(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let response = match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => Response::new(Full::from("hello from weft\n")),
        (&Method::POST, "/echo") => {
            let body = request.into_body().collect().await?.to_bytes();
            Response::new(Full::new(body))
        }
        _ => {
            let mut response = Response::new(Full::from("not found\n"));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    };
    Ok(response)
}

/// Accepts connections for ever, each served by a task of its own.
async fn serve(mut listener: TcpListener) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(WeftTimer)
        .header_read_timeout(HEADER_READ_TIMEOUT);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("http_server: accept failed: {e}");
                continue;
            }
        };
        let connection = http.serve_connection(stream, hyper::service::service_fn(app));
        weft_runtime::spawn(async move {
            if let Err(e) = connection.await {
                eprintln!("http_server: connection from {peer}: {e}");
            }
        });
    }
}

/// Sends a few requests over one connection and checks each answer.
async fn self_test(addr: SocketAddr) -> Result<(), String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(stream)
        .await
        .map_err(|e| e.to_string())?;
    weft_runtime::spawn(connection);
    let cases = [
        (Method::GET, "/", "", StatusCode::OK, "hello from weft\n"),
        (Method::POST, "/echo", "echo me", StatusCode::OK, "echo me"),
        (
            Method::GET,
            "/nowhere",
            "",
            StatusCode::NOT_FOUND,
            "not found\n",
        ),
    ];
    for (method, path, body, status, expected) in cases {
        let request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(hyper::header::HOST, addr.to_string())
            .body(Full::<Bytes>::from(body))
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let got_status = response.status();
        let got = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        let got = String::from_utf8_lossy(&got.to_bytes()).into_owned();
        if got_status != status || got != expected {
            return Err(format!(
                "{method} {path}: expected {status} {expected:?}, got {got_status} {got:?}"
            ));
        }
        println!("http_server: {method} {path} -> {got_status}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut addr = "127.0.0.1:8080".to_string();
    let mut run_self_test = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--self-test" => run_self_test = true,
            flag if flag.starts_with('-') => {
                eprintln!("unknown option {flag}; usage: http_server [ADDR] [--self-test]");
                return ExitCode::FAILURE;
            }
            _ => addr = arg,
        }
    }
    weft_runtime::run(async move {
        let listener = match TcpListener::bind(addr.as_str()).await {
            Ok(listener) => listener,
            Err(e) => {
                eprintln!("http_server: cannot bind {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let local = listener
            .local_addr()
            .expect("a bound listener has an address");
        println!("http_server: listening on {local}");
        if !run_self_test {
            serve(listener).await;
            return ExitCode::SUCCESS;
        }
        // The server runs as a task; returning drops it with the runtime.
        weft_runtime::spawn(serve(listener));
        match self_test(local).await {
            Ok(()) => {
                println!("http_server: self-test passed");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("http_server: self-test failed: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
