//! Graceful shutdown: a [`CancellationToken`] to ask work to stop, and a
//! [`Shutdown`] coordinator that turns a signal into an orderly stop.
//!
//! ```text
//!   Ctrl-C / SIGTERM / token.cancel()
//!        │
//!        ▼
//!   1. stop accepting   token() cancelled; Shutdown::spawn refuses work
//!   2. drain            in-flight work runs on, up to the grace period
//!   3. cancel the rest  work still running at the deadline is dropped
//!   4. report           how many finished, which were cancelled, how long
//! ```
//!
//! The naive version in tutorials (gather every task, then cancel all of
//! them) either waits forever on a hung task or cuts off work that was about
//! to finish; and a `while running:` flag polled in a loop adds latency and
//! misses a request made while the loop sleeps. Here a stop request wakes
//! every waiter at once through an [`Event`](weft_primitives::Event), and the
//! deadline is enforced with the runtime's clock.
//!
//! * [`CancellationToken`]: cancel, child tokens, `cancelled().await`,
//!   `is_cancelled`, `run_until_cancelled`, drop guards. `Send + Sync`.
//! * [`Shutdown`]: tracks the work it spawns, listens for signals
//!   ([`Shutdown::signals`], [`Shutdown::run_until_signal`]) and enforces the
//!   grace period ([`Shutdown::shutdown`]), returning a [`ShutdownReport`].
//!
//! The cancellation guarantees are stated in each type's module:
//! dropping a wait for cancellation only gives up its place, and dropping a
//! `shutdown` future leaves the coordinator refusing work without cancelling
//! what runs.
//!
//! ```
//! use std::time::Duration;
//! use weft_patterns::shutdown::{CancellationToken, Shutdown};
//!
//! let rt = weft_runtime::Builder::new().start_paused(true).build();
//! rt.block_on(async {
//!     let app = CancellationToken::new();
//!     let shutdown = Shutdown::with_parent(&app);
//!     let accepting = shutdown.token();
//!     let acceptor = weft_runtime::spawn({
//!         let shutdown = shutdown.clone();
//!         async move {
//!             let mut accepted = 0;
//!             // An accept loop: take "connections" until shutdown is requested.
//!             while accepting
//!                 .run_until_cancelled(weft_runtime::sleep(Duration::from_millis(100)))
//!                 .await
//!                 .is_some()
//!             {
//!                 accepted += 1;
//!                 let _ = shutdown.spawn(format!("conn {accepted}"), async move {
//!                     weft_runtime::sleep(Duration::from_millis(250)).await;
//!                 });
//!             }
//!             accepted
//!         }
//!     });
//!     weft_runtime::sleep(Duration::from_millis(330)).await;
//!     app.cancel(); // as a signal handler would
//!     let report = shutdown.shutdown(Duration::from_millis(150)).await;
//!     assert_eq!(acceptor.await.unwrap(), 3);
//!     // Accepted at 100, 200 and 300 ms, each needing 250 ms: conns 1 and 2
//!     // end by the 480 ms deadline, conn 3 (550 ms) is cancelled.
//!     assert_eq!(report.in_flight, 3);
//!     assert_eq!(report.finished, 2);
//!     assert_eq!(report.cancelled, ["conn 3"]);
//! });
//! ```

mod coordinator;
mod token;

pub use coordinator::{Shutdown, ShutdownReport, ShutdownSignals, ShutdownTrigger, ShuttingDown};
pub use token::{CancellationToken, DropGuard, WaitForCancellation};
