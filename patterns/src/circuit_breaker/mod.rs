//! Circuit breaker: stop calling a dependency that is failing, give it
//! time to recover, then let a few trial calls find out whether it has.
//!
//! # The algorithm
//!
//! ```text
//!              failure rate, slow-call rate or consecutive failures reach their threshold
//!   ┌────────┐ ─────────────────────────────────────────────▶ ┌──────┐
//!   │ CLOSED │                                                │ OPEN │ ◀─┐ rejects every call
//!   └────────┘ ◀─── trial calls pass ───┐        open wait    └──────┘   │ for the open wait
//!                                       │        elapsed          │      │ (backoff, jitter)
//!                                  ┌───────────┐ ◀────────────────┘      │
//!                                  │ HALF_OPEN │ ── trial calls fail, ───┘
//!                                  └───────────┘    or the maximum wait in half-open passes
//!                                  lets `permitted` trial calls through, rejects the rest
//!   By hand: force_open() → FORCED_OPEN (rejects all), disable() → DISABLED (records
//!   nothing), reset() → CLOSED with a fresh window.
//! ```
//!
//! * **Closed.** Calls pass. Each outcome (success or failure, slow or not)
//!   goes into a sliding window of the last `n` calls or of the last
//!   `length` of time. Once the window holds `minimum_calls`, the breaker
//!   opens when the failure rate or the slow-call rate reaches its
//!   threshold; it also opens after `consecutive_failures` failures in a
//!   row, if set.
//! * **Open.** Calls are rejected at once with a [`Rejected`] error that
//!   says when to retry. The wait grows with each consecutive opening (a
//!   [`Backoff`](crate::retry::Backoff), with jitter so that many clients
//!   do not probe in step) and starts over when the breaker closes.
//! * **Half-open.** Exactly `permitted` trial calls pass; the rest are
//!   rejected. The breaker opens again as soon as the trials' failures (or
//!   slow calls) reach the threshold, and closes as soon as they cannot.
//!   If no verdict comes within the maximum wait (a trial hangs), it opens
//!   again: a hung call cannot keep it half-open.
//!
//! Errors count as failures unless a predicate says otherwise
//! ([`record_error_if`](CircuitBreakerBuilder::record_error_if): others
//! count as successes; [`ignore_error_if`](CircuitBreakerBuilder::ignore_error_if):
//! neither). Every transition and every call is reported to listeners as a
//! [`CircuitEvent`]; [`metrics`](CircuitBreaker::metrics) gives the rates,
//! the window and running totals. [`KeyedCircuitBreakers`] keeps one
//! breaker per key (per host), with eviction of idle ones.
//!
//! # No lock across the call
//!
//! The breaker's state sits behind a `std` mutex held only for a few
//! arithmetic steps: once to grant the call, once to record its outcome,
//! never while the protected call runs, and never while listeners run.
//! A call can therefore go through the same breaker again (no deadlock),
//! and a slow call slows nobody else. (An async mutex would be wrong here:
//! nothing in the critical section waits.) Time-driven transitions happen
//! lazily, when the breaker is next used or looked at, so no timer task
//! runs in the background.
//!
//! # Cancellation guarantee
//!
//! A call whose future is dropped half-way counts as **neither success nor
//! failure**: the window is untouched (the call's fate is unknown; the
//! caller gave up, not the dependency), the totals and listeners see it as
//! cancelled, and a half-open trial slot it held is given back at once, so
//! the verdict rests on real outcomes only. To count a call that takes too
//! long as a failure, put the timeout *inside* the breaker
//! (`breaker.call(time::timeout(d, work))` with the timeout mapped into
//! your error type) or set a slow-call threshold. A rejected call never
//! polls its work.
//!
//! ```
//! use std::time::Duration;
//! use weft_patterns::circuit_breaker::{CallError, CircuitBreaker, CircuitState};
//! use weft_patterns::retry::{Backoff, Jitter};
//! use weft_runtime::time;
//!
//! let rt = weft_runtime::Builder::new().start_paused(true).build();
//! rt.block_on(async {
//!     let breaker = CircuitBreaker::<String>::builder()
//!         .name("search")
//!         .consecutive_failures(3)
//!         .open_wait(Backoff::constant(Duration::from_secs(10)).jitter(Jitter::None))
//!         .permitted_calls_in_half_open(1)
//!         .build()
//!         .unwrap();
//!
//!     for _ in 0..3 {
//!         let _ = breaker.call(async { Err::<(), _>("503".to_string()) }).await;
//!     }
//!     assert_eq!(breaker.state(), CircuitState::Open);
//!     match breaker.call(async { Ok::<_, String>("never runs") }).await {
//!         Err(CallError::Rejected(r)) => assert_eq!(r.retry_after(), Some(Duration::from_secs(10))),
//!         other => panic!("expected a rejection, got {other:?}"),
//!     }
//!
//!     time::sleep(Duration::from_secs(10)).await;
//!     assert_eq!(breaker.state(), CircuitState::HalfOpen);
//!     assert_eq!(breaker.call(async { Ok::<_, String>("back") }).await, Ok("back"));
//!     assert_eq!(breaker.state(), CircuitState::Closed);
//! });
//! ```

mod config;
mod core;
mod events;
mod keyed;
mod metrics;
mod permit;
mod window;

use std::fmt;
use std::future::IntoFuture;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use weft_runtime::time;

pub use crate::retry::ConfigError;
pub use config::{CircuitBreakerBuilder, SlidingWindow};
pub use events::{CircuitEvent, CircuitState, TransitionReason};
pub use keyed::{KeyedCircuitBreakers, TooManyKeys};
pub use metrics::CircuitMetrics;
pub use permit::{CallError, CallPermit, Rejected};

use config::Settings;
use core::{Core, Ending, ManualState};

/// A circuit breaker guarding calls that fail with errors of type `E` (see
/// the module docs). Share it by reference or in an `Arc`; it is `Send +
/// Sync`.
///
/// ```
/// use std::sync::Arc;
/// use weft_patterns::circuit_breaker::{CircuitBreaker, CircuitState};
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let breaker = Arc::new(CircuitBreaker::<&str>::builder().consecutive_failures(2).build().unwrap());
///     let tasks: Vec<_> = (0..2)
///         .map(|_| {
///             let breaker = breaker.clone();
///             weft_runtime::spawn(async move { breaker.call(async { Err::<(), _>("down") }).await })
///         })
///         .collect();
///     for task in tasks {
///         assert!(task.await.unwrap().is_err());
///     }
///     assert_eq!(breaker.state(), CircuitState::Open);
///     assert_eq!(breaker.metrics().failures, 2);
/// });
/// ```
pub struct CircuitBreaker<E> {
    settings: Settings<E>,
    core: Mutex<Core>,
}

impl<E> CircuitBreaker<E> {
    /// Starts configuring a breaker (see [`CircuitBreakerBuilder`] for the
    /// settings and their defaults).
    pub fn builder() -> CircuitBreakerBuilder<E> {
        CircuitBreakerBuilder::new()
    }

    pub(crate) fn from_settings(settings: Settings<E>) -> Self {
        let core = Core::new(settings.rules.clone(), !settings.listeners.is_empty());
        let core = Mutex::new(core);
        Self { settings, core }
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// Runs `work` if the breaker allows it and records how it ended.
    ///
    /// Refused: resolves at once to [`CallError::Rejected`], without
    /// polling `work`. Allowed: awaits `work` (no lock held) and returns
    /// its output, with its error wrapped in [`CallError::Failed`]. Dropping
    /// this future while `work` runs counts the call as cancelled (see the
    /// module docs).
    pub async fn call<T, W>(&self, work: W) -> Result<T, CallError<E>>
    where
        W: IntoFuture<Output = Result<T, E>>,
    {
        let permit = self.try_acquire()?;
        let result = work.into_future().await;
        permit.record(&result);
        result.map_err(CallError::Failed)
    }

    /// Asks for permission to make one call now: a [`CallPermit`] to
    /// report the outcome with, or [`Rejected`] saying when to try again.
    pub fn try_acquire(&self) -> Result<CallPermit<'_, E>, Rejected> {
        let granted =
            self.with_core(|core, now| core.acquire(now).map(|generation| (generation, now)));
        match granted {
            Ok((generation, now)) => Ok(CallPermit::new(self, generation, now)),
            Err((state, retry_after)) => Err(Rejected {
                name: self.settings.name.clone(),
                state,
                retry_after,
            }),
        }
    }

    /// The current state (applying any transition that time has caused).
    pub fn state(&self) -> CircuitState {
        self.with_core(|core, now| {
            core.refresh(now);
            core.state()
        })
    }

    /// A snapshot of the state, the window and the totals.
    pub fn metrics(&self) -> CircuitMetrics {
        self.with_core(Core::metrics)
    }

    /// Rejects every call until [`reset`](Self::reset) or
    /// [`disable`](Self::disable) (for maintenance, or to shed a
    /// dependency by hand).
    pub fn force_open(&self) {
        self.set_manually(ManualState::ForcedOpen);
    }

    /// Lets every call through and records nothing until
    /// [`reset`](Self::reset) or [`force_open`](Self::force_open).
    pub fn disable(&self) {
        self.set_manually(ManualState::Disabled);
    }

    /// Closes the breaker with a fresh window and restarts the open-wait
    /// backoff. Outcomes of calls granted before the reset are not
    /// recorded in the new window.
    pub fn reset(&self) {
        self.set_manually(ManualState::Closed);
    }

    fn set_manually(&self, target: ManualState) {
        self.with_core(|core, _| core.set_manually(target));
    }

    /// Records the end of a call granted in `generation` at `started`.
    fn finish(&self, generation: u64, ending: Ending, started: Instant) {
        self.with_core(|core, now| {
            let elapsed = now.saturating_duration_since(started);
            core.finish(generation, ending, elapsed, now);
        });
    }

    /// Runs `f` on the state under the lock, with the current instant,
    /// then delivers the events it produced with the lock released.
    fn with_core<R>(&self, f: impl FnOnce(&mut Core, Instant) -> R) -> R {
        let now = time::now();
        let mut core = self.lock();
        let result = f(&mut core, now);
        let events = core.take_events();
        drop(core);
        events::deliver(&events, &self.settings.listeners);
        result
    }

    fn lock(&self) -> MutexGuard<'_, Core> {
        // The state machine never calls user code under the lock, so a
        // panic there would be a bug of ours in plain arithmetic; the state
        // is still consistent enough to keep serving.
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<E> Default for CircuitBreaker<E> {
    /// A breaker with every default of [`CircuitBreakerBuilder`].
    fn default() -> Self {
        Self::builder()
            .build()
            .expect("the default settings are valid")
    }
}

impl<E> fmt::Debug for CircuitBreaker<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.settings.name)
            .field("state", &self.lock().state())
            .field("settings", &self.settings)
            .finish()
    }
}
