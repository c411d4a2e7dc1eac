//! A client for the `echo_server` example: it sends lines and prints what
//! comes back.
//!
//! ```text
//! cargo run -p weft-runtime --example echo_client -- [ADDR] [LINE ...]
//! ```
//!
//! `ADDR` defaults to `127.0.0.1:7878`; without lines it sends three of its
//! own. It sends one line at a time and waits for its echo, then ends its
//! side of the connection (`write_eof`) and checks that the server closes
//! too. So that it can be started at the same moment as the server (as CI
//! does, see the `echo_server` example), it retries connecting for up to
//! five seconds. It exits with a failure if an echo differs from what was
//! sent.

use std::process::ExitCode;
use std::time::Duration;

use weft_runtime::streams::{open_connection, StreamReader, StreamWriter};

/// How long to keep trying to connect while the server starts.
const CONNECT_PATIENCE: Duration = Duration::from_secs(5);

async fn connect(addr: &str) -> std::io::Result<(StreamReader, StreamWriter)> {
    let retry_every = Duration::from_millis(100);
    let mut attempts_left = CONNECT_PATIENCE.as_millis() / retry_every.as_millis();
    loop {
        match open_connection(addr).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused && attempts_left > 0 => {
                attempts_left -= 1;
                weft_runtime::sleep(retry_every).await;
            }
            result => return result,
        }
    }
}

async fn talk(addr: &str, lines: &[String]) -> Result<(), String> {
    let (mut reader, mut writer) = connect(addr)
        .await
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    for line in lines {
        let sent = format!("{line}\n");
        writer
            .write(sent.as_bytes())
            .map_err(|e| format!("write failed: {e}"))?;
        writer
            .drain()
            .await
            .map_err(|e| format!("drain failed: {e}"))?;
        let reply = reader
            .readline()
            .await
            .map_err(|e| format!("read failed: {e}"))?;
        if reply != sent.as_bytes() {
            return Err(format!(
                "sent {sent:?} but the echo was {:?}",
                String::from_utf8_lossy(&reply)
            ));
        }
        print!("echo: {}", String::from_utf8_lossy(&reply));
    }
    writer
        .write_eof()
        .map_err(|e| format!("write_eof failed: {e}"))?;
    let rest = reader
        .read_to_end()
        .await
        .map_err(|e| format!("read failed: {e}"))?;
    if !rest.is_empty() {
        return Err(format!(
            "{} unexpected bytes after the last echo",
            rest.len()
        ));
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:7878".to_string());
    let mut lines: Vec<String> = args.collect();
    if lines.is_empty() {
        lines = ["hello", "from", "weft"].map(String::from).to_vec();
    }
    match weft_runtime::run(talk(&addr, &lines)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("echo_client: {message}");
            ExitCode::FAILURE
        }
    }
}
