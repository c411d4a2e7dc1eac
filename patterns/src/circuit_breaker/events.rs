//! What a circuit breaker tells the world: its state, why it changed, and
//! an event for every call it sees.

use std::sync::Arc;
use std::time::Duration;

/// The state of a circuit breaker.
///
/// ```text
///              failure rate, slow-call rate or consecutive failures reach their threshold
///   ┌────────┐ ─────────────────────────────────────────────▶ ┌──────┐
///   │ CLOSED │                                                │ OPEN │ ◀─┐ rejects every call
///   └────────┘ ◀─── trial calls pass ───┐        open wait    └──────┘   │ for the open wait
///        ▲                              │        elapsed          │      │ (backoff, jitter)
///        │                         ┌───────────┐ ◀────────────────┘      │
///        │                         │ HALF_OPEN │ ── trial calls fail, ───┘
///        │                         └───────────┘    or the maximum wait in half-open passes
///        │ reset()                 lets `permitted` trial calls through, rejects the rest
///   FORCED_OPEN (force_open(): rejects every call) and DISABLED (disable(): lets every
///   call through, records nothing) are left only by a manual call.
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CircuitState {
    /// Calls pass and their outcomes are recorded (a new breaker's state).
    #[default]
    Closed,
    /// Calls are rejected until the open wait has elapsed.
    Open,
    /// A limited number of trial calls pass; their outcomes decide between
    /// closing and opening again.
    HalfOpen,
    /// Calls are rejected until a manual [`reset`](super::CircuitBreaker::reset).
    ForcedOpen,
    /// Calls pass and nothing is recorded, until a manual
    /// [`reset`](super::CircuitBreaker::reset).
    Disabled,
}

display!(impl[] CircuitState, |self, f| {
    f.write_str(match self {
        Self::Closed => "closed",
        Self::Open => "open",
        Self::HalfOpen => "half-open",
        Self::ForcedOpen => "forced open",
        Self::Disabled => "disabled",
    })
});

/// Why a circuit breaker changed state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TransitionReason {
    /// Failures reached the failure-rate threshold: `rate` percent of the
    /// window (closed) or of the permitted trial calls (half-open).
    FailureRateExceeded {
        /// The failure rate, in percent.
        rate: f64,
    },
    /// Slow calls reached the slow-call-rate threshold (same bases as
    /// above).
    SlowCallRateExceeded {
        /// The slow-call rate, in percent.
        rate: f64,
    },
    /// This many failures came in a row.
    ConsecutiveFailures {
        /// The length of the run of failures.
        count: u32,
    },
    /// The open wait elapsed: time for trial calls.
    OpenWaitElapsed,
    /// Enough trial calls succeeded that the thresholds can no longer be
    /// reached.
    TrialCallsPassed,
    /// The half-open state lasted its maximum wait without a verdict (a
    /// trial call hung, or too few came).
    HalfOpenTimedOut,
    /// [`force_open`](super::CircuitBreaker::force_open),
    /// [`disable`](super::CircuitBreaker::disable) or
    /// [`reset`](super::CircuitBreaker::reset).
    Manual,
}

display!(impl[] TransitionReason, |self, f| match self {
    Self::FailureRateExceeded { rate } => write!(f, "failure rate {rate:.1} %"),
    Self::SlowCallRateExceeded { rate } => write!(f, "slow-call rate {rate:.1} %"),
    Self::ConsecutiveFailures { count } => write!(f, "{count} failures in a row"),
    Self::OpenWaitElapsed => f.write_str("open wait elapsed"),
    Self::TrialCallsPassed => f.write_str("trial calls passed"),
    Self::HalfOpenTimedOut => f.write_str("no verdict within the half-open maximum wait"),
    Self::Manual => f.write_str("manual"),
});

/// Something a circuit breaker saw, delivered to the listeners registered
/// with [`on_event`](super::CircuitBreakerBuilder::on_event).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CircuitEvent {
    /// The breaker changed state.
    StateChanged {
        /// The state it left.
        from: CircuitState,
        /// The state it entered.
        to: CircuitState,
        /// Why.
        reason: TransitionReason,
    },
    /// A call succeeded after `elapsed` (slow if it reached the slow-call
    /// duration).
    Succeeded {
        /// How long the call ran.
        elapsed: Duration,
        /// Whether it counts as slow.
        slow: bool,
    },
    /// A call failed after `elapsed`.
    Failed {
        /// How long the call ran.
        elapsed: Duration,
        /// Whether it counts as slow.
        slow: bool,
    },
    /// A call ended with an error the breaker was told to ignore.
    Ignored {
        /// How long the call ran.
        elapsed: Duration,
    },
    /// A call's future was dropped before it ended; it counts as neither
    /// success nor failure.
    Cancelled {
        /// How long the call had run.
        elapsed: Duration,
    },
    /// A call was refused.
    Rejected {
        /// The state that refused it.
        state: CircuitState,
        /// When to try again, if known.
        retry_after: Option<Duration>,
    },
}

display!(impl[] CircuitEvent, |self, f| match self {
    Self::StateChanged { from, to, reason } => write!(f, "{from} -> {to} ({reason})"),
    Self::Succeeded { elapsed, slow } => {
        write!(f, "call succeeded in {elapsed:?}{}", slow_mark(*slow))
    }
    Self::Failed { elapsed, slow } => write!(f, "call failed in {elapsed:?}{}", slow_mark(*slow)),
    Self::Ignored { elapsed } => write!(f, "call ended in {elapsed:?} with an ignored error"),
    Self::Cancelled { elapsed } => write!(f, "call cancelled after {elapsed:?}"),
    Self::Rejected {
        state,
        retry_after: Some(after),
    } => write!(f, "call rejected ({state}), retry in {after:?}"),
    Self::Rejected { state, .. } => write!(f, "call rejected ({state})"),
});

fn slow_mark(slow: bool) -> &'static str {
    if slow {
        " (slow)"
    } else {
        ""
    }
}

/// A registered event listener.
pub(crate) type Listener = Arc<dyn Fn(&CircuitEvent) + Send + Sync>;

/// Events gathered under the breaker's lock, delivered after it is
/// released. Gathers nothing when nobody listens, so an unobserved breaker
/// never allocates for events.
#[derive(Debug)]
pub(crate) struct EventBuffer {
    events: Vec<CircuitEvent>,
    wanted: bool,
}

impl EventBuffer {
    pub(crate) fn new(wanted: bool) -> Self {
        Self {
            events: Vec::new(),
            wanted,
        }
    }

    pub(crate) fn push(&mut self, event: CircuitEvent) {
        if self.wanted {
            self.events.push(event);
        }
    }

    /// Takes the gathered events.
    pub(crate) fn take(&mut self) -> Vec<CircuitEvent> {
        std::mem::take(&mut self.events)
    }
}

/// Calls every listener with every event, in order.
pub(crate) fn deliver(events: &[CircuitEvent], listeners: &[Listener]) {
    for event in events {
        for listener in listeners {
            listener(event);
        }
    }
}
