//! The state machine of a circuit breaker, as plain synchronous code.
//!
//! Everything here runs under the breaker's short lock and takes the
//! current instant as an argument: no clock reading, no waiting, no user
//! code (listeners run after the lock is released, from the events
//! gathered here). That keeps the rules in one readable place:
//!
//! * **Time moves the state lazily.** An open breaker whose wait is over,
//!   or a half-open breaker whose maximum wait is over, changes state the
//!   next time anyone looks ([`Core::refresh`]): a call, a recorded
//!   outcome, `state()`, `metrics()`. No timer task is needed, and a hung
//!   trial call cannot hold the half-open state, because nothing waits for
//!   it.
//! * **Each state gets a fresh window**, and a *generation* number that
//!   every permit carries. An outcome whose permit came from an earlier
//!   generation (a call that started before the breaker opened, or a trial
//!   that outlived the half-open state) is counted in the totals but does
//!   not touch the current window or trial set.
//! * **Half-open admits at most `permitted` trials**: a trial slot is
//!   taken at acquisition and given back if the call is cancelled or its
//!   error ignored, so the verdict always rests on `permitted` real
//!   outcomes. The verdict comes as soon as it is certain: open once the
//!   failures (or slow calls) already reach the threshold of the
//!   `permitted` trials, close once they could not reach it even if every
//!   remaining trial failed.

use std::time::{Duration, Instant};

use super::config::Rules;
use super::events::{CircuitEvent, CircuitState, EventBuffer, TransitionReason};
use super::metrics::CircuitMetrics;
use super::window::{Outcome, Tally, Window};
use crate::retry::rng::JitterRng;
use crate::retry::Delays;

/// A wait this long is "until someone resets it" for any program; capping
/// at it keeps `Instant` arithmetic from overflowing.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// The state, with what each state needs to know.
#[derive(Debug, Clone, Copy)]
enum Phase {
    Closed,
    Open {
        until: Instant,
    },
    HalfOpen {
        deadline: Instant,
        /// Trial calls running now.
        in_flight: u32,
        /// Trial calls that ended and count.
        trials: Tally,
    },
    ForcedOpen,
    Disabled,
}

/// How a permitted call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    Success,
    Failure,
    Ignored,
    Cancelled,
}

/// A state change asked for by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ManualState {
    Closed,
    ForcedOpen,
    Disabled,
}

/// Why a call was refused: the state, and when to try again.
pub(crate) type Refusal = (CircuitState, Option<Duration>);

#[derive(Debug)]
pub(crate) struct Core {
    rules: Rules,
    phase: Phase,
    generation: u64,
    window: Window,
    consecutive_failures: u32,
    /// The open waits, restarted whenever the breaker closes.
    open_waits: Delays,
    /// The last acquisition or outcome, for the keyed registry's eviction.
    last_activity: Option<Instant>,
    /// The running totals (never reset); the other fields of these
    /// metrics are filled in by [`metrics`](Self::metrics).
    totals: CircuitMetrics,
    /// The events of the current critical section, for the listeners.
    events: EventBuffer,
}

impl Core {
    /// A closed breaker's state; `listened` says whether anybody wants its
    /// events.
    pub(crate) fn new(rules: Rules, listened: bool) -> Self {
        let rng = rules
            .seed
            .map_or_else(JitterRng::from_entropy, JitterRng::seeded);
        Self {
            phase: Phase::Closed,
            generation: 0,
            window: Window::new(rules.window),
            consecutive_failures: 0,
            open_waits: Delays::new(rules.open_wait.clone(), rng),
            last_activity: None,
            totals: CircuitMetrics::default(),
            events: EventBuffer::new(listened),
            rules,
        }
    }

    /// The events gathered since the last call, to deliver once the lock
    /// is released.
    pub(crate) fn take_events(&mut self) -> Vec<CircuitEvent> {
        self.events.take()
    }

    pub(crate) fn state(&self) -> CircuitState {
        match self.phase {
            Phase::Closed => CircuitState::Closed,
            Phase::Open { .. } => CircuitState::Open,
            Phase::HalfOpen { .. } => CircuitState::HalfOpen,
            Phase::ForcedOpen => CircuitState::ForcedOpen,
            Phase::Disabled => CircuitState::Disabled,
        }
    }

    /// Applies the transitions that time alone causes.
    pub(crate) fn refresh(&mut self, now: Instant) {
        if let Phase::HalfOpen { deadline, .. } = self.phase {
            if now >= deadline {
                self.open(TransitionReason::HalfOpenTimedOut, now);
            }
        }
        if let Phase::Open { until } = self.phase {
            if now >= until {
                self.half_open(now);
            }
        }
    }

    /// Grants a call (returning the generation its permit belongs to) or
    /// refuses it.
    pub(crate) fn acquire(&mut self, now: Instant) -> Result<u64, Refusal> {
        self.last_activity = Some(now);
        self.refresh(now);
        let refusal = match &mut self.phase {
            Phase::Closed | Phase::Disabled => return Ok(self.generation),
            Phase::HalfOpen {
                deadline,
                in_flight,
                trials,
            } => {
                if *in_flight + trials.calls < self.rules.permitted_in_half_open {
                    *in_flight += 1;
                    return Ok(self.generation);
                }
                (
                    CircuitState::HalfOpen,
                    Some(deadline.saturating_duration_since(now)),
                )
            }
            Phase::Open { until } => (
                CircuitState::Open,
                Some(until.saturating_duration_since(now)),
            ),
            Phase::ForcedOpen => (CircuitState::ForcedOpen, None),
        };
        self.totals.rejected += 1;
        self.events.push(CircuitEvent::Rejected {
            state: refusal.0,
            retry_after: refusal.1,
        });
        Err(refusal)
    }

    /// Records how a call granted in `generation` ended after `elapsed`.
    pub(crate) fn finish(
        &mut self,
        generation: u64,
        ending: Ending,
        elapsed: Duration,
        now: Instant,
    ) {
        self.last_activity = Some(now);
        self.refresh(now);
        let slow = elapsed >= self.rules.slow_call_duration;
        let (total, event) = match ending {
            Ending::Success => (
                &mut self.totals.successes,
                CircuitEvent::Succeeded { elapsed, slow },
            ),
            Ending::Failure => (
                &mut self.totals.failures,
                CircuitEvent::Failed { elapsed, slow },
            ),
            Ending::Ignored => (&mut self.totals.ignored, CircuitEvent::Ignored { elapsed }),
            Ending::Cancelled => (
                &mut self.totals.cancelled,
                CircuitEvent::Cancelled { elapsed },
            ),
        };
        *total += 1;
        self.events.push(event);
        if generation != self.generation {
            return;
        }
        let counted = match ending {
            Ending::Success => Some(false),
            Ending::Failure => Some(true),
            Ending::Ignored | Ending::Cancelled => None,
        }
        .map(|failed| Outcome { failed, slow });
        match &mut self.phase {
            Phase::Closed => {
                if let Some(outcome) = counted {
                    self.window.record(now, outcome);
                    self.consecutive_failures = if outcome.failed {
                        self.consecutive_failures + 1
                    } else {
                        0
                    };
                    self.judge_window(now);
                }
            }
            Phase::HalfOpen {
                in_flight, trials, ..
            } => {
                *in_flight -= 1;
                if let Some(outcome) = counted {
                    trials.add(outcome);
                    self.judge_trials(now);
                }
            }
            Phase::Open { .. } | Phase::ForcedOpen | Phase::Disabled => {}
        }
    }

    /// Closed: opens if a threshold is reached.
    fn judge_window(&mut self, now: Instant) {
        let count = self.consecutive_failures;
        if self
            .rules
            .consecutive_failures
            .is_some_and(|limit| count >= limit)
        {
            return self.open(TransitionReason::ConsecutiveFailures { count }, now);
        }
        let tally = self.window.tally(now);
        if tally.calls < self.rules.minimum_calls {
            return;
        }
        if let Some(reason) = self.exceeded(&tally, tally.calls) {
            self.open(reason, now);
        }
    }

    /// Half-open: opens or closes as soon as the verdict is certain.
    fn judge_trials(&mut self, now: Instant) {
        let Phase::HalfOpen { trials, .. } = self.phase else {
            return;
        };
        let permitted = self.rules.permitted_in_half_open;
        if let Some(reason) = self.exceeded(&trials, permitted) {
            return self.open(reason, now);
        }
        let undecided = permitted - trials.calls;
        let if_all_remaining_fail_slowly = Tally {
            failures: trials.failures + undecided,
            slow: trials.slow + undecided,
            ..trials
        };
        if self
            .exceeded(&if_all_remaining_fail_slowly, permitted)
            .is_none()
        {
            self.close(TransitionReason::TrialCallsPassed);
        }
    }

    /// The first threshold `tally` reaches, with rates taken over `of` calls.
    fn exceeded(&self, tally: &Tally, of: u32) -> Option<TransitionReason> {
        let rate = tally.failure_rate(of);
        if rate >= self.rules.failure_rate_threshold {
            return Some(TransitionReason::FailureRateExceeded { rate });
        }
        let rate = tally.slow_rate(of);
        let slow = rate >= self.rules.slow_call_rate_threshold;
        slow.then_some(TransitionReason::SlowCallRateExceeded { rate })
    }

    /// Changes state by hand.
    pub(crate) fn set_manually(&mut self, target: ManualState) {
        match target {
            ManualState::Closed => self.close(TransitionReason::Manual),
            ManualState::ForcedOpen => self.enter(Phase::ForcedOpen, TransitionReason::Manual),
            ManualState::Disabled => self.enter(Phase::Disabled, TransitionReason::Manual),
        }
    }

    fn open(&mut self, reason: TransitionReason, now: Instant) {
        let wait = self.open_waits.next().unwrap_or_default().min(FOREVER);
        self.enter(Phase::Open { until: now + wait }, reason);
    }

    fn half_open(&mut self, now: Instant) {
        let phase = Phase::HalfOpen {
            deadline: now + self.rules.max_wait_in_half_open.min(FOREVER),
            in_flight: 0,
            trials: Tally::default(),
        };
        self.enter(phase, TransitionReason::OpenWaitElapsed);
    }

    fn close(&mut self, reason: TransitionReason) {
        self.open_waits.restart();
        self.enter(Phase::Closed, reason);
    }

    /// Every transition goes through here: a new generation and a fresh
    /// window, and an event if the state really changed.
    fn enter(&mut self, phase: Phase, reason: TransitionReason) {
        let from = self.state();
        self.phase = phase;
        self.generation += 1;
        self.window.clear();
        self.consecutive_failures = 0;
        let to = self.state();
        if from != to {
            self.events
                .push(CircuitEvent::StateChanged { from, to, reason });
        }
    }

    pub(crate) fn metrics(&mut self, now: Instant) -> CircuitMetrics {
        self.refresh(now);
        let (tally, judged) = match self.phase {
            Phase::Closed => {
                let tally = self.window.tally(now);
                (tally, tally.calls >= self.rules.minimum_calls)
            }
            Phase::HalfOpen { trials, .. } => (trials, trials.calls > 0),
            Phase::Open { .. } | Phase::ForcedOpen | Phase::Disabled => (Tally::default(), false),
        };
        CircuitMetrics {
            state: self.state(),
            failure_rate: judged.then(|| tally.failure_rate(tally.calls)),
            slow_call_rate: judged.then(|| tally.slow_rate(tally.calls)),
            buffered_calls: tally.calls,
            failed_calls: tally.failures,
            slow_calls: tally.slow,
            slow_failed_calls: tally.slow_failures,
            consecutive_failures: self.consecutive_failures,
            ..self.totals
        }
    }

    /// Whether forgetting this breaker (and later starting a fresh, closed
    /// one) would hand a failing dependency traffic it should not get: not
    /// while forced open, not before the open wait ends, not while trial
    /// calls run.
    pub(crate) fn can_forget(&self, now: Instant) -> bool {
        match self.phase {
            Phase::Closed | Phase::Disabled => true,
            Phase::Open { until } => now >= until,
            Phase::HalfOpen { in_flight, .. } => in_flight == 0,
            Phase::ForcedOpen => false,
        }
    }

    pub(crate) fn last_activity(&self) -> Option<Instant> {
        self.last_activity
    }
}
