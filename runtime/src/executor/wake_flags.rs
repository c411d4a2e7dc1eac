//! A task's wake flags: is it queued already, and was it aborted?
//!
//! A burst of wakes must cost one run-queue entry, so every wake first asks
//! "is this task queued already?". The answer lives in two places, because
//! the two kinds of wake have very different costs:
//!
//! ```text
//!   queued: AtomicBool    written only on the runtime's own thread
//!   shared: AtomicU8      REMOTE_QUEUED | ABORTED, written from any thread
//! ```
//!
//! * A **local wake** (a waker called on the runtime's thread, by far the
//!   common case) reads and writes `queued` with plain loads and stores:
//!   only that thread ever touches it, so no read-modify-write is needed,
//!   and on x86 the whole check is two `mov`s instead of a `lock`ed
//!   instruction.
//! * A **remote wake** sets `REMOTE_QUEUED` with one `fetch_or`; whoever
//!   sets it first pushes the task on the remote queue, the others find it
//!   set and do nothing.
//! * Right **before a poll**, the runtime clears both. It clears
//!   `REMOTE_QUEUED` with a read-modify-write (only when a load saw it set),
//!   so a remote wake that comes after that either sees the bit clear and
//!   queues the task again, or was already covered by this poll. A task
//!   that only local wakes queued (the common case) finds `shared` zero
//!   with one load, and `queued` decides alone.
//!
//! A task can therefore sit in the run queue twice, once per path. The
//! first entry clears both flags and polls; the second finds neither flag
//! set and is skipped ([`PollStart::Skip`]), so duplicates never cost a
//! poll.
//!
//! **No lost wake-up.** A remote waker that finds `REMOTE_QUEUED` set does
//! not queue the task, relying on a poll that has not started yet. That is
//! right: the bit is only cleared by the runtime right before a poll, so a
//! set bit means an entry is on its way and that poll is still to come.
//! Ordering: the waker's `fetch_or` is a release and the runtime's
//! `fetch_and` an acquire of the same variable, so whatever the waker wrote
//! before waking is visible to that poll. The loom model
//! `loom-tests/tests/wake_flags.rs` checks both claims.
//!
//! Everything goes through the runtime's facade (`facade.rs`), so that
//! the model checks this very code. The type is public (but hidden) for
//! that model only.

use std::fmt;

use super::facade::atomic::{AtomicBool, AtomicU8, Ordering};

/// A remote waker queued the task on the remote queue.
const REMOTE_QUEUED: u8 = 1;
/// `JoinHandle::abort` was called: drop the task instead of polling it.
const ABORTED: u8 = 2;

/// The wake state of one task; see the module docs.
#[derive(Default)]
pub struct WakeFlags {
    /// The task is on the local run queue. Only the runtime's thread reads
    /// or writes it.
    queued: AtomicBool,
    /// `REMOTE_QUEUED` and `ABORTED`, set from any thread.
    shared: AtomicU8,
}

/// What the runtime does with a run-queue entry, from [`WakeFlags::start_poll`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollStart {
    /// Poll the task: a wake is pending.
    Poll,
    /// Drop the task: it was aborted.
    Abort,
    /// A duplicate entry whose wake an earlier poll already served.
    Skip,
}

impl WakeFlags {
    /// A wake on the runtime's own thread; `true` if the caller must push the
    /// task on the local run queue.
    ///
    /// Must be called only on the thread that runs the task's runtime.
    pub fn wake_local(&self) -> bool {
        // Relaxed plain load and store: only this thread touches `queued`.
        if self.queued.load(Ordering::Relaxed) {
            return false;
        }
        self.queued.store(true, Ordering::Relaxed);
        true
    }

    /// A wake from any other thread; `true` if the caller must push the task
    /// on the remote queue.
    pub fn wake_remote(&self) -> bool {
        self.shared.fetch_or(REMOTE_QUEUED, Ordering::AcqRel) & REMOTE_QUEUED == 0
    }

    /// Marks the task aborted; the caller then wakes it, so that the runtime
    /// comes to drop it.
    pub fn abort(&self) {
        self.shared.fetch_or(ABORTED, Ordering::AcqRel);
    }

    /// Called by the runtime, on its thread, for each run-queue entry of the
    /// task, right before polling it: clears the queued flags, so that a wake
    /// during the poll queues the task again.
    #[inline]
    pub fn start_poll(&self) -> PollStart {
        // The common case (module docs): neither shared bit is set.
        if self.shared.load(Ordering::Acquire) == 0 {
            if !self.queued.load(Ordering::Relaxed) {
                return PollStart::Skip;
            }
            self.queued.store(false, Ordering::Relaxed);
            return PollStart::Poll;
        }
        self.start_poll_shared()
    }

    /// [`WakeFlags::start_poll`] when a remote wake or an abort may be
    /// pending.
    #[inline(never)]
    fn start_poll_shared(&self) -> PollStart {
        let local = self.queued.load(Ordering::Relaxed);
        if local {
            self.queued.store(false, Ordering::Relaxed);
        }
        let mut shared = self.shared.load(Ordering::Acquire);
        if shared & REMOTE_QUEUED != 0 {
            shared = self.shared.fetch_and(!REMOTE_QUEUED, Ordering::AcqRel);
        }
        if shared & ABORTED != 0 {
            PollStart::Abort
        } else if local || shared & REMOTE_QUEUED != 0 {
            PollStart::Poll
        } else {
            PollStart::Skip
        }
    }

    /// Whether a wake is pending (for task snapshots; runtime thread only).
    pub fn is_queued(&self) -> bool {
        self.queued.load(Ordering::Relaxed)
            || self.shared.load(Ordering::Acquire) & REMOTE_QUEUED != 0
    }
}

impl fmt::Debug for WakeFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = self.shared.load(Ordering::Acquire);
        f.debug_struct("WakeFlags")
            .field("queued", &self.queued.load(Ordering::Relaxed))
            .field("remote_queued", &(shared & REMOTE_QUEUED != 0))
            .field("aborted", &(shared & ABORTED != 0))
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{PollStart, WakeFlags};

    #[test]
    fn a_burst_of_wakes_queues_once_per_path() {
        let flags = WakeFlags::default();
        assert!(flags.wake_local());
        assert!(!flags.wake_local());
        assert!(flags.wake_remote());
        assert!(!flags.wake_remote());
        // Two entries: the first polls, the duplicate is skipped.
        assert_eq!(flags.start_poll(), PollStart::Poll);
        assert_eq!(flags.start_poll(), PollStart::Skip);
        assert!(!flags.is_queued());
    }

    #[test]
    fn a_wake_during_the_poll_queues_again() {
        let flags = WakeFlags::default();
        assert!(flags.wake_remote());
        assert_eq!(flags.start_poll(), PollStart::Poll);
        assert!(flags.wake_remote());
        assert!(flags.wake_local());
        assert_eq!(flags.start_poll(), PollStart::Poll);
    }

    #[test]
    fn abort_wins_over_a_pending_wake() {
        let flags = WakeFlags::default();
        assert!(flags.wake_local());
        flags.abort();
        assert_eq!(flags.start_poll(), PollStart::Abort);
    }
}
