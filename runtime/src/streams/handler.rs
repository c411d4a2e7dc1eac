//! What becomes of a connection handler's outcome: [`HandlerOutput`] lets
//! a handler return `()` or `Result<(), E>`, and a handler that fails or
//! panics is reported to the server's hook as a [`HandlerFailure`] instead
//! of taking anything down.
//!
//! ```text
//!   handler task: catch_unwind(poll handler future) ──▶ Ok(()) ─────────────▶ done
//!                                    │                    Err(e) ─┐
//!                                    └── panic(payload) ──────────┴─▶ failures + 1, hook(&failure)
//! ```
//!
//! A panic is caught around each poll of the handler's future, so the
//! panic message goes to the hook too (the standard panic hook still
//! prints its own line first, as for any panic). The default hook writes
//! one line on stderr naming the server and the peer, as asyncio logs an
//! exception in a `client_connected_cb`.

use std::fmt;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;

use crate::executor::panic_message::panic_message;

/// What a connection handler's future may return: `()`, or `Result<(), E>`
/// for any error that can be displayed. An `Err` is reported to the
/// server's failure hook (see [`ServerOptions::on_handler_failure`](super::ServerOptions::on_handler_failure))
/// and counted by [`Server::handler_failures`](super::ServerHandle::handler_failures).
///
/// ```
/// use weft_runtime::streams::{start_server, StreamReader, StreamWriter};
///
/// weft_runtime::run(async {
///     // `?` inside a handler: the error goes to the server's hook.
///     let server = start_server(
///         |mut reader: StreamReader, mut writer: StreamWriter| async move {
///             let line = reader.readline().await?;
///             writer.write_and_drain(&line).await?;
///             Ok::<(), std::io::Error>(())
///         },
///         "127.0.0.1:0",
///     )
///     .await
///     .unwrap();
///     assert_eq!(server.handler_failures(), 0);
/// });
/// ```
pub trait HandlerOutput {
    /// `None` for success, the error's text for a failure.
    fn failure(self) -> Option<String>;
}

impl HandlerOutput for () {
    fn failure(self) -> Option<String> {
        None
    }
}

impl<E: fmt::Display> HandlerOutput for Result<(), E> {
    fn failure(self) -> Option<String> {
        self.err().map(|e| e.to_string())
    }
}

/// A connection handler that returned an error or panicked, as the
/// server's failure hook sees it. Its `Display` is the default hook's line.
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use weft_runtime::streams::{open_connection, start_server_with, HandlerFailure, ServerOptions, StreamReader, StreamWriter};
///
/// weft_runtime::run(async {
///     let seen: Rc<RefCell<Option<HandlerFailure>>> = Rc::default();
///     let keep = seen.clone();
///     let options = ServerOptions::new().on_handler_failure(move |f| *keep.borrow_mut() = Some(f.clone()));
///     let server = start_server_with(
///         |mut reader: StreamReader, _w: StreamWriter| async move {
///             if reader.readline().await.unwrap() != b"hello\n" {
///                 panic!("unexpected input");
///             }
///         },
///         "127.0.0.1:0",
///         options,
///     )
///     .await
///     .unwrap();
///     let (mut reader, mut writer) = open_connection(server.local_addr()).await.unwrap();
///     writer.write(b"bye\n").unwrap();
///     assert_eq!(reader.read(1).await.unwrap(), b"");
///     server.close();
///     server.wait_closed().await;
///     let failure = seen.borrow_mut().take().unwrap();
///     assert!(failure.panicked());
///     assert_eq!(failure.message(), "unexpected input");
///     assert_eq!(failure.peer(), writer.local_addr().unwrap().to_string());
///     assert!(failure.to_string().contains("panicked: unexpected input"));
/// });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerFailure {
    server: String,
    peer: String,
    panicked: bool,
    message: String,
}

impl HandlerFailure {
    pub(super) fn new(server: String, peer: String, (panicked, message): (bool, String)) -> Self {
        Self {
            server,
            peer,
            panicked,
            message,
        }
    }

    /// The address the server listens on, as text.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The peer's address, as text (a Unix peer is often unnamed).
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// Whether the handler panicked (rather than returned an error).
    pub fn panicked(&self) -> bool {
        self.panicked
    }

    /// The error's text, or the panic's message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for HandlerFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.panicked { "panicked" } else { "failed" };
        write!(
            f,
            "weft: the handler of the connection from {} to the server on {} {what}: {}",
            self.peer, self.server, self.message
        )
    }
}

/// The hook a server calls with each handler failure.
pub(super) type FailureHook = Rc<dyn Fn(&HandlerFailure)>;

/// The default hook: one line on stderr.
pub(super) fn print_failure(failure: &HandlerFailure) {
    eprintln!("{failure}");
}

/// Runs a handler's future to its end, catching a panic in any of its
/// polls; returns `Some((panicked, message))` if it failed.
pub(super) async fn supervise<F>(handler: F) -> Option<(bool, String)>
where
    F: Future,
    F::Output: HandlerOutput,
{
    let mut handler = pin!(handler);
    let outcome = poll_fn(|cx| {
        // The future is not polled again after a panic: it is dropped.
        catch_unwind(AssertUnwindSafe(|| handler.as_mut().poll(cx)))
            .map_or_else(|payload| Poll::Ready(Err(payload)), |poll| poll.map(Ok))
    })
    .await;
    match outcome {
        Ok(output) => output.failure().map(|message| (false, message)),
        Err(payload) => {
            let message = panic_message(payload.as_ref()).unwrap_or("a panic without a message");
            Some((true, message.to_string()))
        }
    }
}
