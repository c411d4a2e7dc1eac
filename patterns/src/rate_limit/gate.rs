//! [`Gate`]: the waiting front-end every limiter shares — a first-come,
//! first-served line in which only the head waiter sleeps, and only until
//! its own tokens are due.
//!
//! # Algorithm
//!
//! A [`RatePolicy`] only answers "may `n` tokens be taken now, and if not,
//! how long until they can". The gate turns that into waiting:
//!
//! ```text
//!   acquire(n)
//!     │ nobody in line and the policy grants n now? ── yes ──▶ admitted
//!     │ no                                  (for GCRA / token bucket: one CAS)
//!     │ line already holds max_waiters? ──── yes ──▶ Err(QueueFull), at once
//!     ▼ no
//!   the line: a weft Lock, whose waiters are served first come, first served
//!
//!     [head] ─ holds the lock: loop { try_take(n) → admitted, leave
//!      │                              refused    → sleep exactly `retry_after` }
//!     [ w2 ] ─ parked in the lock's queue: no timer, no polling
//!     [ w3 ]
//!
//!   the head leaves (admitted or dropped) → the lock passes to w2: one wake-up
//! ```
//!
//! * **First come, first served.** The line is a fair lock, so waiters are
//!   admitted in arrival order, and a waiter for many tokens is not
//!   overtaken by later waiters for few. A newcomer does not barge either:
//!   while anyone is in line, `try_acquire` and `acquire` do not even ask
//!   the policy (one atomic load says so) and queue up or refuse.
//! * **No thundering herd.** Only the head has a timer. Each waiter is woken
//!   once when it reaches the head and once by its own timer; nobody wakes
//!   to find the tokens gone. Per admission, one task runs.
//! * **No lock held across a sleep** but the line itself: the policy's own
//!   state (an atomic, or a `std` mutex for the windows) is only touched
//!   for the arithmetic of one check.
//! * **A bounded line.** At most `max_waiters` requests wait; the next one is
//!   refused at once with [`AcquireError::QueueFull`] instead of piling up.
//!
//! # Cancellation
//!
//! Nothing is reserved before the instant of admission: a waiter in line
//! holds no tokens, only its place. Dropping an `acquire` future therefore
//! never loses capacity and never gives any away:
//!
//! * dropped behind the head: it leaves the lock's queue; the waiters behind
//!   it move up;
//! * dropped as the head, mid-sleep: its timer is cancelled and the lock
//!   passes to the next waiter, which asks the policy at once and is
//!   admitted exactly when the dropped waiter would have been (if it asks
//!   for as much);
//! * admission and returning `Ready` happen in the same poll, so a waiter
//!   is never granted tokens it has not returned to its caller.
//!
//! Reserving slots up front (GCRA can: push `TAT` forward and sleep until
//! the slot) would give every waiter its own timer, but a waiter dropped in
//! the middle would leave a hole: either everybody behind it is woken to
//! move up, or the hole goes unused. The sliding windows cannot reserve
//! future slots at all. Deciding at the head avoids both.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use weft_primitives::Lock;
use weft_runtime::time;

use super::error::{AcquireError, TryAcquireError};
use super::policy::RatePolicy;
use super::stats::Counters;

/// A policy with its line of waiters; see the [module docs](self).
#[derive(Debug)]
pub(crate) struct Gate<P> {
    policy: P,
    /// The line: whoever holds the lock is the head waiter.
    line: Lock,
    /// Requests in line, the head included.
    in_line: AtomicUsize,
    /// The tokens those requests ask for, summed.
    tokens_in_line: AtomicU64,
    max_waiters: usize,
}

impl<P> Gate<P> {
    pub(crate) fn new(policy: P, max_waiters: usize) -> Self {
        Self {
            policy,
            line: Lock::default(),
            in_line: AtomicUsize::new(0),
            tokens_in_line: AtomicU64::new(0),
            max_waiters,
        }
    }

    pub(crate) fn policy(&self) -> &P {
        &self.policy
    }

    pub(crate) fn max_waiters(&self) -> usize {
        self.max_waiters
    }

    pub(crate) fn set_max_waiters(&mut self, max_waiters: usize) {
        self.max_waiters = max_waiters;
    }
}

impl<P: RatePolicy> Gate<P> {
    /// Admits `n` tokens now or says why not; never waits.
    pub(crate) fn try_acquire(&self, n: u32, counters: &Counters) -> Result<(), TryAcquireError> {
        if n == 0 {
            return Ok(());
        }
        let outcome = self.try_admit(n);
        match outcome {
            Ok(()) => counters.admitted(),
            Err(_) => counters.refused(),
        }
        outcome
    }

    fn try_admit(&self, n: u32) -> Result<(), TryAcquireError> {
        let capacity = self.policy.capacity();
        if n > capacity {
            return Err(TryAcquireError::ExceedsCapacity {
                requested: n,
                capacity,
            });
        }
        let now = time::now();
        let retry_after = if self.in_line.load(Ordering::Acquire) == 0 {
            match self.policy.try_take(n, now) {
                Ok(()) => return Ok(()),
                Err(wait) => wait,
            }
        } else {
            // Waiters go first: estimate when the policy can serve them and
            // this request together. Beyond the capacity this is a lower
            // bound (the policies only answer up to it).
            let wanted = self
                .tokens_in_line
                .load(Ordering::Acquire)
                .saturating_add(u64::from(n));
            let together = u32::try_from(wanted).map_or(capacity, |wanted| wanted.min(capacity));
            self.policy.time_until(together, now)
        };
        Err(TryAcquireError::RateLimited {
            requested: n,
            retry_after,
        })
    }

    /// Admits `n` tokens, waiting in line for them if needed.
    pub(crate) async fn acquire(&self, n: u32, counters: &Counters) -> Result<(), AcquireError> {
        if n == 0 {
            return Ok(());
        }
        let arrived = time::now();
        let place = match self.admit_or_join(n, arrived, counters) {
            Ok(None) => return Ok(()),
            Ok(Some(place)) => place,
            Err(error) => return Err(error),
        };
        let _head = self.line.acquire().await;
        loop {
            let now = time::now();
            match self.policy.try_take(n, now) {
                Ok(()) => {
                    place.admitted(now.saturating_duration_since(arrived));
                    return Ok(());
                }
                // Tokens only come back with time, so nothing can make them
                // due sooner: sleep exactly until then. (Another thread's
                // request racing the line may still take them first; then
                // ask again.)
                Err(wait) => time::sleep(wait).await,
            }
        }
    }

    /// The synchronous start of an acquire: admitted at once (`None`),
    /// refused, or a place in line.
    fn admit_or_join<'a>(
        &'a self,
        n: u32,
        now: Instant,
        counters: &'a Counters,
    ) -> Result<Option<PlaceInLine<'a, P>>, AcquireError> {
        let capacity = self.policy.capacity();
        if n > capacity {
            counters.refused();
            return Err(AcquireError::ExceedsCapacity {
                requested: n,
                capacity,
            });
        }
        if self.in_line.load(Ordering::Acquire) == 0 && self.policy.try_take(n, now).is_ok() {
            counters.admitted();
            return Ok(None);
        }
        let joined = self
            .in_line
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |in_line| {
                (in_line < self.max_waiters).then_some(in_line + 1)
            });
        if joined.is_err() {
            counters.refused();
            return Err(AcquireError::QueueFull {
                requested: n,
                max_waiters: self.max_waiters,
            });
        }
        self.tokens_in_line
            .fetch_add(u64::from(n), Ordering::AcqRel);
        counters.joined_line();
        Ok(Some(PlaceInLine {
            gate: self,
            counters,
            tokens: n,
            waited: None,
        }))
    }

    /// Whether the gate could be replaced by a new one at `now` without
    /// anybody noticing: nobody in line and the policy at rest.
    pub(crate) fn is_at_rest(&self, now: Instant) -> bool {
        self.in_line.load(Ordering::Acquire) == 0 && self.policy.is_at_rest(now)
    }
}

/// A request's place in line, from joining to leaving. Dropped without
/// [`admitted`](Self::admitted) — its `acquire` future was dropped — it
/// counts as a cancellation.
struct PlaceInLine<'a, P> {
    gate: &'a Gate<P>,
    counters: &'a Counters,
    tokens: u32,
    /// How long the request waited, once admitted.
    waited: Option<Duration>,
}

impl<P> PlaceInLine<'_, P> {
    /// Leaves the line, admitted after `waited`.
    fn admitted(mut self, waited: Duration) {
        self.waited = Some(waited);
    }
}

impl<P> Drop for PlaceInLine<'_, P> {
    fn drop(&mut self) {
        self.gate
            .tokens_in_line
            .fetch_sub(u64::from(self.tokens), Ordering::AcqRel);
        self.gate.in_line.fetch_sub(1, Ordering::AcqRel);
        self.counters.left_line(self.waited);
    }
}
