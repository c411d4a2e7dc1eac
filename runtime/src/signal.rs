//! Unix signals as futures, for graceful shutdown (asyncio's
//! `loop.add_signal_handler`). Unix only: the module, [`ctrl_c`]
//! included, is not compiled for other targets (Windows' console events
//! are a different mechanism, which weft does not wrap).
//!
//! A signal handler may do almost nothing safely, so the handler (installed
//! by the `signal-hook` crate, which gets the async-signal-safety details
//! right) only writes one byte to a socket pair. The other end of the pair is
//! registered with the runtime's reactor like any socket, so a signal turns
//! into an ordinary readiness event:
//!
//! ```text
//!  SIGTERM ──▶ handler: send(1 byte) ──▶ socket pair ──▶ epoll ──▶ wake Signal::recv
//! ```
//!
//! Signals that arrive before `recv` is awaited are not lost, but several of
//! them may be merged into one reception. Each [`Signal`] has its own pair,
//! so any number of listeners (in any number of runtimes) each hear every
//! signal.
//!
//! Once a listener for a signal was created, that signal's default action
//! (ending the process, for SIGINT/SIGTERM/SIGHUP) stays replaced for the
//! rest of the process, even after the listener is dropped, as with tokio.

use std::io::{self, Read};
use std::os::raw::c_int;
use std::os::unix::net::UnixStream as StdUnixStream;

use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
use signal_hook::SigId;

use crate::driver::io_source::IoSource;
use crate::driver::reactor::Direction;
use crate::scheduler::context;

/// Which signal to listen for.
///
/// ```
/// use weft_runtime::signal::SignalKind;
///
/// assert_eq!(SignalKind::terminate().as_raw(), 15);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(c_int);

impl SignalKind {
    /// SIGINT: Ctrl-C in a terminal.
    pub fn interrupt() -> Self {
        Self(SIGINT)
    }

    /// SIGTERM: the polite request to stop (what `kill` and service
    /// managers send).
    pub fn terminate() -> Self {
        Self(SIGTERM)
    }

    /// SIGHUP: the terminal went away; daemons often reload on it.
    pub fn hangup() -> Self {
        Self(SIGHUP)
    }

    /// SIGQUIT.
    pub fn quit() -> Self {
        Self(SIGQUIT)
    }

    /// SIGUSR1.
    pub fn user_defined1() -> Self {
        Self(SIGUSR1)
    }

    /// SIGUSR2.
    pub fn user_defined2() -> Self {
        Self(SIGUSR2)
    }

    /// Any signal by number. Signals that cannot be caught (SIGKILL,
    /// SIGSTOP) or that must not be (SIGSEGV and friends) make
    /// [`signal`] return an error.
    pub fn from_raw(signum: c_int) -> Self {
        Self(signum)
    }

    /// The signal's number.
    pub fn as_raw(self) -> c_int {
        self.0
    }
}

/// A listener for one kind of signal, registered with the current runtime.
///
/// ```no_run
/// use weft_runtime::signal::{signal, SignalKind};
///
/// weft_runtime::run(async {
///     let mut hangups = signal(SignalKind::hangup()).unwrap();
///     while hangups.recv().await.is_some() {
///         println!("reloading configuration");
///     }
/// });
/// ```
#[derive(Debug)]
pub struct Signal {
    receiver: IoSource<mio::net::UnixStream>,
    id: SigId,
    kind: SignalKind,
}

/// Starts listening for `kind` on the current runtime.
///
/// # Errors
///
/// When the signal may not be handled (SIGKILL, SIGSTOP, SIGSEGV, …) or
/// the OS refuses a socket pair.
///
/// # Panics
///
/// Outside a weft runtime.
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    if signal_hook::consts::FORBIDDEN.contains(&kind.0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "signal {} cannot be handled: the OS does not allow catching it, or \
                 catching it would hide a crash",
                kind.0
            ),
        ));
    }
    let (receiver, sender) = StdUnixStream::pair()?;
    receiver.set_nonblocking(true)?;
    let id = signal_hook::low_level::pipe::register(kind.0, sender)?;
    let receiver = match IoSource::new(mio::net::UnixStream::from_std(receiver), context::reactor())
    {
        Ok(receiver) => receiver,
        Err(e) => {
            signal_hook::low_level::unregister(id);
            return Err(e);
        }
    };
    Ok(Signal { receiver, id, kind })
}

impl Signal {
    /// Waits for the next signal. Several signals that arrived since the
    /// last call count as one. Returns `None` only if the signal pipe broke,
    /// which does not happen in practice.
    pub async fn recv(&mut self) -> Option<()> {
        std::future::poll_fn(|cx| {
            let mut buf = [0u8; 64];
            self.receiver
                .poll_io(cx, Direction::Read, |mut pipe| {
                    // Drain every byte so that the edge re-arms.
                    let mut got = 0;
                    loop {
                        match pipe.read(&mut buf) {
                            Ok(0) => return Ok(got),
                            Ok(n) => got += n,
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock && got > 0 => {
                                return Ok(got)
                            }
                            Err(e) => return Err(e),
                        }
                    }
                })
                .map(|read| match read {
                    Ok(n) if n > 0 => Some(()),
                    _ => None,
                })
        })
        .await
    }

    /// The signal this listener hears.
    pub fn kind(&self) -> SignalKind {
        self.kind
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        // Closes the sending end too; the handler stays installed (see the
        // module docs).
        signal_hook::low_level::unregister(self.id);
    }
}

/// Completes at the next Ctrl-C (SIGINT) after the first poll.
///
/// ```no_run
/// weft_runtime::run(async {
///     weft_runtime::signal::ctrl_c().await.unwrap();
///     println!("shutting down");
/// });
/// ```
///
/// # Errors
///
/// When the handler cannot be installed.
pub async fn ctrl_c() -> io::Result<()> {
    let mut sigint = signal(SignalKind::interrupt())?;
    sigint
        .recv()
        .await
        .ok_or_else(|| io::Error::other("the SIGINT pipe closed"))
}
