//! Just enough HTTP/1.1 for the example, written with weft's streams: the
//! server's side (read a `GET`, write an answer) and the client's (send a
//! `GET`, read the status line, the headers and a `Content-Length` body).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use weft_runtime::streams::{open_connection, StreamReader};

/// An answer the server sends.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) reason: &'static str,
    pub(crate) retry_after: Option<&'static str>,
    pub(crate) body: String,
}

impl Reply {
    pub(crate) fn new(status: u16, reason: &'static str, body: String) -> Self {
        Self {
            status,
            reason,
            retry_after: None,
            body,
        }
    }

    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: text/html; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\n",
            self.status,
            self.reason,
            self.body.len()
        );
        if let Some(seconds) = self.retry_after {
            head.push_str(&format!("Retry-After: {seconds}\r\n"));
        }
        head.push_str("\r\n");
        [head.as_bytes(), self.body.as_bytes()].concat()
    }
}

/// Reads a request's head and returns the path of its `GET`.
pub(crate) async fn read_request(reader: &mut StreamReader) -> io::Result<String> {
    let request_line = read_line(reader).await?;
    read_headers(reader).await?; // nothing in them matters to this server
    match request_line.split(' ').collect::<Vec<_>>()[..] {
        ["GET", path, version] if path.starts_with('/') && version.starts_with("HTTP/1.") => {
            Ok(path.to_string())
        }
        _ => Err(invalid_data(format!(
            "not a GET request line: {request_line:?}"
        ))),
    }
}

// The client: just enough HTTP/1.1.

/// A response, as the client read it.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) reason: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Response {
    /// The value of header `name` (matched without regard to case).
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// `Retry-After` in seconds, whole or fractional (an HTTP date gives
    /// `None`: the caller's own backoff applies).
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        let seconds: f64 = self.header("retry-after")?.trim().parse().ok()?;
        Duration::try_from_secs_f64(seconds).ok()
    }
}

/// `GET path` on a new connection to `server`.
pub(crate) async fn http_get(server: SocketAddr, path: &str) -> io::Result<Response> {
    let (mut reader, mut writer) = open_connection(server).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {server}\r\nUser-Agent: weft-crawler\r\nConnection: close\r\n\r\n"
    );
    writer.write(request.as_bytes())?;
    writer.drain().await?;

    // "HTTP/1.1 200 OK"; the reason phrase may be empty.
    let status_line = read_line(&mut reader).await?;
    let mut parts = status_line.splitn(3, ' ');
    let status = match (parts.next(), parts.next()) {
        (Some(version), Some(code)) if version.starts_with("HTTP/1.") => code.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| invalid_data(format!("bad status line {status_line:?}")))?;
    let mut response = Response {
        status,
        reason: parts.next().unwrap_or_default().to_string(),
        headers: read_headers(&mut reader).await?,
        body: String::new(),
    };
    if response.header("transfer-encoding").is_some() {
        return Err(invalid_data(
            "this minimal client does not decode chunked bodies",
        ));
    }
    let body = match response.header("content-length") {
        Some(length) => {
            let length = length
                .trim()
                .parse()
                .map_err(|_| invalid_data(format!("bad Content-Length {length:?}")))?;
            reader.readexactly(length).await?
        }
        // `Connection: close`: the body ends with the connection.
        None => reader.read_to_end().await?,
    };
    response.body = String::from_utf8(body).map_err(invalid_data)?;
    Ok(response)
}

/// One line of a message head, without its CRLF; the end of the
/// connection before it is an error.
async fn read_line(reader: &mut StreamReader) -> io::Result<String> {
    let line = reader.readline().await?;
    if !line.ends_with(b"\n") {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed in the middle of a message head",
        ));
    }
    let line = String::from_utf8(line).map_err(invalid_data)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Header lines up to the blank line that ends a message head.
async fn read_headers(reader: &mut StreamReader) -> io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader).await?;
        if line.is_empty() {
            return Ok(headers);
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid_data(format!("bad header line {line:?}")))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
}

fn invalid_data(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}
