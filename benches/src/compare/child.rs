//! Child processes of the compare binary.
//!
//! Some figures must come from a process of their own: a peak resident set
//! never goes down, so two runtimes measured in one process would share a
//! high-water mark; a server's CPU time and system calls are only its own
//! if nothing else runs in its process. The compare binary therefore runs
//! itself again with [`CHILD_FLAG`], a child kind, a runtime name and a
//! size, or, for a tcp_echo server, with `--serve` and the runtime's name
//! (a server child of `crate::server_child`):
//!
//! ```text
//!   compare                                       (parent: drives, reports)
//!     ├─ compare --child timers weft 100000        → "elapsed_ns=… peak_rss=…"
//!     ├─ compare --child timeouts-memory tokio 1000000
//!     ├─ compare --child row full 10 weft semaphore → "elapsed_ns=…" (--fresh)
//!     └─ compare --serve smol                      → "port=…", then serves until stdin closes
//! ```
//!
//! A child answers with one line of `key=value` fields on stdout; a
//! verification failure makes it exit non-zero with the reason on stderr.
//! The parent bounds every child in time and kills one that overstays
//! (`run_child.rs`, the parent's side); this file is the child's side.

use std::process::ExitCode;

use crate::echo_server::{serve_child, SmolServer, TokioServer, WeftServer};
use crate::runtimes::{BenchRuntime, Smol, Tokio, Weft};
use crate::server_child::SERVE_FLAG;

use super::matrix::{row_child, ROW_CHILD};
use super::run_child::CHILD_FLAG;
use super::timers;

/// A tcp_echo server child (`compare --serve <runtime>`): serves echo on
/// that runtime until its stdin closes.
pub(crate) fn serve_main(args: &[String]) -> ExitCode {
    let reason = match args {
        [runtime] if runtime == Weft::NAME => serve_child::<WeftServer>(),
        [runtime] if runtime == Tokio::NAME => serve_child::<TokioServer>(),
        [runtime] if runtime == Smol::NAME => serve_child::<SmolServer>(),
        _ => format!("unknown server {args:?}; expected {SERVE_FLAG} weft|tokio|smol"),
    };
    eprintln!("error: {reason}");
    ExitCode::FAILURE
}

/// The child side: runs what `args` (after [`CHILD_FLAG`]) asks for and
/// prints the answer.
pub(crate) fn child_main(args: &[String]) -> ExitCode {
    let outcome = match args {
        [kind, rest @ ..] if kind == ROW_CHILD => row_child(rest),
        [kind, runtime, size] => {
            let size: u64 = match size.parse() {
                Ok(size) => size,
                Err(_) => return usage(args),
            };
            match (kind.as_str(), runtime.as_str()) {
                ("timers", "weft") => timers::timers_child::<Weft>(size),
                ("timers", "tokio") => timers::timers_child::<Tokio>(size),
                ("timers", "smol") => timers::timers_child::<Smol>(size),
                ("timeouts-memory", "weft") => timers::timeouts_memory_child::<Weft>(size),
                ("timeouts-memory", "tokio") => timers::timeouts_memory_child::<Tokio>(size),
                ("timeouts-memory", "smol") => timers::timeouts_memory_child::<Smol>(size),
                _ => return usage(args),
            }
        }
        _ => return usage(args),
    };
    match outcome {
        Ok(answer) => {
            println!("{answer}");
            ExitCode::SUCCESS
        }
        Err(reason) => {
            eprintln!("error: {reason}");
            ExitCode::FAILURE
        }
    }
}

fn usage(args: &[String]) -> ExitCode {
    eprintln!(
        "error: unknown child request {:?}; expected: {CHILD_FLAG} \
         timers|timeouts-memory weft|tokio|smol <size>, or \
         {CHILD_FLAG} {ROW_CHILD} quick|full <scale> <column> <row name>",
        args
    );
    ExitCode::FAILURE
}
