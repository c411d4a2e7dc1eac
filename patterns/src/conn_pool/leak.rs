//! Leak detection: which checkouts have been held longer than the leak
//! threshold, and where they were taken.
//!
//! Every checkout is registered under a number that grows with time, so the
//! oldest one is always first in a `BTreeMap`. A scan looks only at the
//! front: it reports and removes checkouts while they are older than the
//! threshold and stops at the first younger one, so it costs O(log n) per
//! report and O(1) when nothing leaked, cheap enough to run on every `get`
//! and check-in as well as from the maintenance task. Each checkout is
//! reported once; a reported connection that comes back later is checked
//! in as usual.
//!
//! The place comes from `#[track_caller]` on [`Pool::get`](super::Pool::get):
//! the file, line and column of the `get` call in the caller's code.

use std::collections::BTreeMap;
use std::panic::Location;
use std::time::{Duration, Instant};

/// A connection checked out for longer than the leak threshold.
///
/// Given to the handler set with
/// [`PoolBuilder::on_leak`](super::PoolBuilder::on_leak) (or written to
/// standard error if none was set), and counted in
/// [`PoolMetrics::leaks`](super::PoolMetrics::leaks).
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use weft_patterns::conn_pool::{ConnectionInfo, Manager, Pool};
/// # struct Unit;
/// # impl Manager for Unit {
/// #     type Connection = ();
/// #     type Error = std::convert::Infallible;
/// #     async fn create(&self) -> Result<(), Self::Error> { Ok(()) }
/// #     async fn recycle(&self, _: &mut (), _: &ConnectionInfo) -> Result<(), Self::Error> { Ok(()) }
/// # }
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let reports = Arc::new(Mutex::new(Vec::new()));
///     let sink = reports.clone();
///     let pool = Pool::builder(Unit)
///         .leak_threshold(Duration::from_secs(60))
///         .on_leak(move |report| sink.lock().unwrap().push(*report))
///         .build()
///         .unwrap();
///     let line = line!() + 1;
///     let forgotten = pool.get().await.unwrap();
///     weft_runtime::sleep(Duration::from_secs(90)).await;
///
///     let report = reports.lock().unwrap()[0];
///     assert_eq!((report.location.file(), report.location.line()), (file!(), line));
///     assert!(report.held_for >= Duration::from_secs(60));
///     # drop(forgotten);
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeakReport {
    /// The connection's [`ConnectionInfo::id`](super::ConnectionInfo::id).
    pub connection_id: u64,
    /// Where [`Pool::get`](super::Pool::get) was called for this checkout.
    pub location: &'static Location<'static>,
    /// When the connection was handed out.
    pub checked_out_at: Instant,
    /// How long it had been held when this report was made.
    pub held_for: Duration,
}

display!(impl[] LeakReport, |self, f| {
    write!(
        f,
        "pooled connection {} has been checked out for {:?}, taken at {}",
        self.connection_id, self.held_for, self.location
    )
});

/// One registered checkout.
#[derive(Debug)]
struct Checkout {
    connection_id: u64,
    location: &'static Location<'static>,
    at: Instant,
}

/// The checkouts not yet reported as leaks, oldest first.
#[derive(Debug, Default)]
pub(super) struct LeakRegistry {
    next_number: u64,
    open: BTreeMap<u64, Checkout>,
}

impl LeakRegistry {
    /// Registers a checkout made `at` (which must not be earlier than any
    /// registered before) and returns its number.
    pub(super) fn register(
        &mut self,
        connection_id: u64,
        location: &'static Location<'static>,
        at: Instant,
    ) -> u64 {
        let number = self.next_number;
        self.next_number += 1;
        self.open.insert(
            number,
            Checkout {
                connection_id,
                location,
                at,
            },
        );
        number
    }

    /// Forgets a checkout that ended (a no-op if it was already reported).
    pub(super) fn remove(&mut self, number: u64) {
        self.open.remove(&number);
    }

    /// Removes and reports every checkout held for `threshold` or longer.
    pub(super) fn take_leaks(&mut self, now: Instant, threshold: Duration) -> Vec<LeakReport> {
        let mut leaks = Vec::new();
        while let Some(entry) = self.open.first_entry() {
            let held_for = now.saturating_duration_since(entry.get().at);
            if held_for < threshold {
                break;
            }
            let checkout = entry.remove();
            leaks.push(LeakReport {
                connection_id: checkout.connection_id,
                location: checkout.location,
                checked_out_at: checkout.at,
                held_for,
            });
        }
        leaks
    }
}
