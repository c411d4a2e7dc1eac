//! An echo server on weft's streams: every byte a client sends comes back.
//!
//! ```text
//! cargo run -p weft-runtime --example echo_server -- [ADDR] [--exit-after N]
//! ```
//!
//! `ADDR` defaults to `127.0.0.1:7878`; give port 0 to let the OS pick a free
//! port (the server prints the address it got). The server runs until Ctrl-C, or,
//! with `--exit-after N`, until it has served N connections to their end:
//! then it stops accepting, waits for the handlers and exits, which is how
//! CI runs it beside the client:
//!
//! ```text
//! cargo run -p weft-runtime --example echo_server -- 127.0.0.1:0 --exit-after 1 &
//! # it prints "echo_server: listening on 127.0.0.1:PORT"
//! cargo run -p weft-runtime --example echo_client -- 127.0.0.1:PORT hello world
//! wait
//! ```
//!
//! Each connection gets its own task. The handler reads whatever arrived
//! (up to 64 KiB), queues it on the writer and awaits `drain`, so a client
//! that sends without reading the echoes is slowed down by back-pressure
//! instead of making the server buffer without bound.

use std::cell::Cell;
use std::process::ExitCode;
use std::rc::Rc;

use weft_primitives::Event;
use weft_runtime::streams::{start_server, StreamReader, StreamWriter};

/// Echoes one connection until the client ends its side or fails.
async fn echo(mut reader: StreamReader, mut writer: StreamWriter) {
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = match reader.read_into(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                eprintln!("echo_server: read failed: {e}");
                return;
            }
        };
        if let Err(e) = writer.write(&buf[..n]) {
            eprintln!("echo_server: write failed: {e}");
            return;
        }
        if let Err(e) = writer.drain().await {
            eprintln!("echo_server: drain failed: {e}");
            return;
        }
    }
    writer.close();
    if let Err(e) = writer.wait_closed().await {
        eprintln!("echo_server: close failed: {e}");
    }
}

struct Options {
    addr: String,
    exit_after: Option<usize>,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        addr: "127.0.0.1:7878".to_string(),
        exit_after: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--exit-after" {
            let n = args.next().ok_or("--exit-after needs a number")?;
            let n = n
                .parse()
                .map_err(|e| format!("--exit-after {n}: not a number of connections ({e})"))?;
            options.exit_after = Some(n);
        } else if arg.starts_with('-') {
            return Err(format!(
                "unknown option {arg}; usage: echo_server [ADDR] [--exit-after N]"
            ));
        } else {
            options.addr = arg;
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("echo_server: {message}");
            return ExitCode::FAILURE;
        }
    };
    weft_runtime::run(async move {
        let served = Rc::new(Cell::new(0usize));
        let enough = Rc::new(Event::new());
        let exit_after = options.exit_after;
        let handler = {
            let (served, enough) = (served.clone(), enough.clone());
            move |reader, writer| {
                let (served, enough) = (served.clone(), enough.clone());
                async move {
                    echo(reader, writer).await;
                    served.set(served.get() + 1);
                    if exit_after.is_some_and(|n| served.get() >= n) {
                        enough.set();
                    }
                }
            }
        };
        let server = match start_server(handler, options.addr.as_str()).await {
            Ok(server) => server,
            Err(e) => {
                eprintln!("echo_server: cannot listen on {}: {e}", options.addr);
                return ExitCode::FAILURE;
            }
        };
        println!("echo_server: listening on {}", server.local_addr());
        match exit_after {
            Some(n) => {
                enough.wait().await;
                server.close();
                server.wait_closed().await;
                println!("echo_server: served {n} connection(s), exiting");
            }
            None => server.serve_forever().await,
        }
        ExitCode::SUCCESS
    })
}
