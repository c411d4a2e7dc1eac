//! The workloads of the suite, each written once and generic over the
//! runtime ([`BenchRuntime()`](crate::runtimes::BenchRuntime)) and, where it
//! uses one, the primitive ([`adapters()`](crate::adapters)).
//!
//! | workload               | shape                                                          |
//! |------------------------|----------------------------------------------------------------|
//! | [`spawn_join()`]         | spawn N trivial tasks, await every handle (in batches: [`spawn_join_batched()`]) |
//! | [`yield_switch()`]       | 100 tasks × K `yield_now`                                      |
//! | [`mutex_uncontended()`]  | one task, N lock/unlock                                        |
//! | [`mutex_contended()`]    | 100 tasks × M increments, lock held across a `yield_now`       |
//! | [`semaphore()`]          | 10 permits, 1000 tasks × R rounds of acquire / yield / release |
//! | [`queue_spsc()`]         | bounded 1024, one producer, one consumer, N items              |
//! | [`queue_mpmc()`]         | bounded 1024, 4 producers, 4 consumers, N items                |
//! | [`event_fanout()`]       | 1000 waiters on an event, set, all wake; R rounds              |
//! | [`condition_notify_one()`] | a producer hands W consumers N tickets, one `notify(1)` round trip each |
//! | [`condition_notify_all()`] | a leader wakes W waiters with `notify_all`, R rounds          |
//! | [`timers()`]             | N tasks each sleeping 1–20 ms                                  |
//! | [`timeouts_ready()`] / [`sleeps_dropped()`] | N `timeout(1 s, ready)`; N sleeps polled once and dropped |
//! | [`udp_echo()`]           | N 64-byte datagrams echoed on 127.0.0.1, W in flight, one client socket |
//! | [`fd_ping_pong()`]       | N 64-byte round trips over a socket pair registered as raw fds |
//! | [`cross_thread_spawn`]   | 4 threads each spawn N `Send` tasks onto one runtime and await them |
//!
//! **Every workload checks its own result** (counts, sums, orders, the
//! most holders of a semaphore at once, the instant each sleeper woke) and
//! returns [`Mismatch`] when the answer is wrong, so a fast wrong answer
//! never passes for a time.
//!
//! Sizes come from [`Sizes`]: [`Sizes::full`] for the published table,
//! [`Sizes::quick`] for CI, which only proves that every workload runs and
//! verifies, and [`Sizes::scaled`] for longer runs of either.

use std::fmt;

mod condition;
pub mod cross_thread_spawn;
mod event_fanout;
mod fd_ping_pong;
mod io_message;
mod mutex;
mod queue;
mod semaphore;
mod spawn_join;
mod timeouts;
mod timers;
mod udp_echo;
mod yield_switch;

pub use condition::{condition_notify_all, condition_notify_one};
pub use event_fanout::event_fanout;
pub use fd_ping_pong::{fd_ping_pong, FdRuntime};
pub use io_message::{message, sequence_of, MESSAGE};
pub use mutex::{mutex_contended, mutex_uncontended};
pub use queue::{queue_mpmc, queue_spsc};
pub use semaphore::semaphore;
pub use spawn_join::{spawn_join, spawn_join_batched};
pub use timeouts::{sleeps_dropped, timeouts_ready};
pub use timers::{timers, TimersOutcome};
pub use udp_echo::{udp_echo, UdpRuntime};
pub use yield_switch::yield_switch;

/// A workload computed the wrong answer.
///
/// ```
/// use weft_benches::workloads::{expect_eq, Mismatch};
///
/// assert!(expect_eq("items received", 10, 10).is_ok());
/// let wrong: Mismatch = expect_eq("items received", 10, 9).unwrap_err();
/// assert_eq!(wrong.to_string(), "items received: expected 10, got 9");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// What was counted.
    pub what: String,
    /// The right answer.
    pub expected: u64,
    /// The answer the workload computed.
    pub got: u64,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, got {}",
            self.what, self.expected, self.got
        )
    }
}

impl std::error::Error for Mismatch {}

/// The outcome of one run of a workload: `Ok` once its answer checked out.
pub type Verified = Result<(), Mismatch>;

/// `Ok` if `got == expected`, else a [`Mismatch`] naming `what`.
pub fn expect_eq(what: &str, expected: u64, got: u64) -> Verified {
    if got == expected {
        Ok(())
    } else {
        Err(Mismatch {
            what: what.to_owned(),
            expected,
            got,
        })
    }
}

/// How big each workload is.
///
/// ```
/// use weft_benches::workloads::Sizes;
///
/// let quick = Sizes::quick();
/// assert!(quick.spawn_tasks < Sizes::full().spawn_tasks);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sizes {
    /// spawn_join: tasks spawned and joined.
    pub spawn_tasks: u64,
    /// spawn_join: tasks spawned before their handles are awaited.
    pub spawn_batch: u64,
    /// yield_switch: tasks.
    pub yield_tasks: u64,
    /// yield_switch: `yield_now` calls per task.
    pub yields_per_task: u64,
    /// mutex_uncontended: lock/unlock pairs.
    pub uncontended_locks: u64,
    /// mutex_contended: tasks.
    pub contended_tasks: u64,
    /// mutex_contended: increments per task.
    pub increments_per_task: u64,
    /// semaphore: permits.
    pub permits: u64,
    /// semaphore: tasks.
    pub semaphore_tasks: u64,
    /// semaphore: acquire/yield/release rounds per task.
    pub semaphore_rounds: u64,
    /// queues: capacity.
    pub queue_capacity: u64,
    /// queue_spsc: items.
    pub spsc_items: u64,
    /// queue_mpmc: items, split evenly among the producers.
    pub mpmc_items: u64,
    /// queue_mpmc: producers and consumers (each).
    pub mpmc_tasks: u64,
    /// event_fanout: waiters.
    pub fanout_waiters: u64,
    /// event_fanout: rounds.
    pub fanout_rounds: u64,
    /// condition workloads: waiting tasks.
    pub condition_waiters: u64,
    /// condition_notify_one: round trips.
    pub notify_one_round_trips: u64,
    /// condition_notify_all: rounds.
    pub notify_all_rounds: u64,
    /// timers: sleeping tasks.
    pub timer_tasks: u64,
    /// timeouts: `timeout` calls, and sleeps dropped.
    pub timeouts: u64,
    /// tcp_echo: how long each request/response measurement lasts, in ms.
    pub echo_millis: u64,
    /// tcp_echo: bytes sent through the bulk connection.
    pub bulk_bytes: u64,
    /// tcp_echo: requests per connection in the run strace counts.
    pub traced_requests: u64,
    /// udp_echo: datagrams echoed.
    pub udp_datagrams: u64,
    /// udp_echo: datagrams in flight.
    pub udp_window: u64,
    /// fd_ping_pong: round trips.
    pub fd_round_trips: u64,
}

impl Sizes {
    /// The sizes of the published table (the issue's shapes).
    pub fn full() -> Self {
        Self {
            spawn_tasks: 100_000,
            spawn_batch: 100_000,
            yield_tasks: 100,
            yields_per_task: 1_000,
            uncontended_locks: 1_000_000,
            contended_tasks: 100,
            increments_per_task: 1_000,
            permits: 10,
            semaphore_tasks: 1_000,
            semaphore_rounds: 100,
            queue_capacity: 1024,
            spsc_items: 1_000_000,
            mpmc_items: 400_000,
            mpmc_tasks: 4,
            fanout_waiters: 1_000,
            fanout_rounds: 100,
            condition_waiters: 10,
            notify_one_round_trips: 50_000,
            notify_all_rounds: 2_000,
            timer_tasks: 100_000,
            timeouts: 1_000_000,
            echo_millis: 1_000,
            bulk_bytes: 256 << 20,
            traced_requests: 200,
            udp_datagrams: 20_000,
            udp_window: 16,
            fd_round_trips: 20_000,
        }
    }

    /// Small sizes that run the whole matrix in seconds, for CI.
    pub fn quick() -> Self {
        Self {
            spawn_tasks: 2_000,
            spawn_batch: 2_000,
            yield_tasks: 100,
            yields_per_task: 20,
            uncontended_locks: 20_000,
            contended_tasks: 100,
            increments_per_task: 20,
            permits: 10,
            semaphore_tasks: 1_000,
            semaphore_rounds: 2,
            queue_capacity: 1024,
            spsc_items: 20_000,
            mpmc_items: 8_000,
            mpmc_tasks: 4,
            fanout_waiters: 1_000,
            fanout_rounds: 2,
            condition_waiters: 10,
            notify_one_round_trips: 1_000,
            notify_all_rounds: 50,
            timer_tasks: 5_000,
            timeouts: 20_000,
            echo_millis: 200,
            bulk_bytes: 8 << 20,
            traced_requests: 20,
            udp_datagrams: 2_000,
            udp_window: 16,
            fd_round_trips: 2_000,
        }
    }

    /// These sizes with `factor` × the rounds of every in-process row and
    /// of the timeouts; tasks, waiters, permits and capacities stay, so the
    /// shapes stay and only the runs get longer. spawn_join runs `factor`
    /// batches of its size; `timers` (its sleeping tasks) and the tcp_echo
    /// loads keep their sizes.
    ///
    /// ```
    /// use weft_benches::workloads::Sizes;
    ///
    /// let long = Sizes::full().scaled(10);
    /// assert_eq!(long.semaphore_rounds, 1_000);
    /// assert_eq!(long.spawn_tasks, 1_000_000);
    /// assert_eq!(long.spawn_batch, Sizes::full().spawn_batch);
    /// assert_eq!(long.fanout_waiters, Sizes::full().fanout_waiters);
    /// ```
    pub fn scaled(self, factor: u64) -> Self {
        Self {
            spawn_tasks: self.spawn_tasks * factor,
            yields_per_task: self.yields_per_task * factor,
            uncontended_locks: self.uncontended_locks * factor,
            increments_per_task: self.increments_per_task * factor,
            semaphore_rounds: self.semaphore_rounds * factor,
            spsc_items: self.spsc_items * factor,
            mpmc_items: self.mpmc_items * factor,
            fanout_rounds: self.fanout_rounds * factor,
            notify_one_round_trips: self.notify_one_round_trips * factor,
            notify_all_rounds: self.notify_all_rounds * factor,
            timeouts: self.timeouts * factor,
            udp_datagrams: self.udp_datagrams * factor,
            fd_round_trips: self.fd_round_trips * factor,
            ..self
        }
    }
}
