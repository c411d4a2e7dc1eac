//! The pool's settings, their defaults, and the checks they must pass.
//!
//! Every wait has a finite default: a pool that can hang forever on an
//! unreachable server, or hold a dead connection for a week, is the naive
//! pool's flaw, so turning a limit off (`None`) has to be asked for.

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::leak::LeakReport;

/// Which idle connection a `get` takes.
///
/// ```
/// use weft_patterns::conn_pool::IdleOrder;
///
/// assert_eq!(IdleOrder::default(), IdleOrder::Lifo);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdleOrder {
    /// The most recently returned one (the default). Under light load the
    /// same few connections stay warm and the others age out through the
    /// idle timeout, so the pool shrinks back after a burst.
    #[default]
    Lifo,
    /// The one idle the longest: every connection is used in turn, which
    /// spreads load over them but keeps them all alive.
    Fifo,
}

/// Called with each leak report; see
/// [`PoolBuilder::on_leak`](super::PoolBuilder::on_leak).
#[derive(Clone)]
pub(super) struct LeakHandler(pub(super) Arc<dyn Fn(&LeakReport) + Send + Sync>);

impl fmt::Debug for LeakHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fn(&LeakReport)")
    }
}

/// Every setting of a pool; the defaults are in
/// [`PoolBuilder`](super::PoolBuilder)'s docs.
#[derive(Clone, Debug)]
pub(super) struct PoolConfig {
    pub(super) max_size: usize,
    pub(super) min_idle: usize,
    pub(super) acquire_timeout: Option<Duration>,
    pub(super) create_timeout: Option<Duration>,
    pub(super) recycle_timeout: Option<Duration>,
    pub(super) idle_timeout: Option<Duration>,
    pub(super) max_lifetime: Option<Duration>,
    pub(super) leak_threshold: Option<Duration>,
    pub(super) maintenance_interval: Duration,
    pub(super) idle_order: IdleOrder,
    pub(super) on_leak: Option<LeakHandler>,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_size: 10,
            min_idle: 0,
            acquire_timeout: Some(Duration::from_secs(30)),
            create_timeout: Some(Duration::from_secs(10)),
            recycle_timeout: Some(Duration::from_secs(5)),
            idle_timeout: Some(Duration::from_secs(10 * 60)),
            max_lifetime: Some(Duration::from_secs(30 * 60)),
            leak_threshold: None,
            maintenance_interval: Duration::from_secs(30),
            idle_order: IdleOrder::Lifo,
            on_leak: None,
        }
    }
}

impl PoolConfig {
    /// The first setting that makes no sense, if any.
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        check_sizes(self.max_size, self.min_idle)?;
        let durations = [
            ("acquire_timeout", self.acquire_timeout),
            ("create_timeout", self.create_timeout),
            ("recycle_timeout", self.recycle_timeout),
            ("idle_timeout", self.idle_timeout),
            ("max_lifetime", self.max_lifetime),
            ("leak_threshold", self.leak_threshold),
            ("maintenance_interval", Some(self.maintenance_interval)),
        ];
        match durations
            .iter()
            .find(|(_, value)| *value == Some(Duration::ZERO))
        {
            Some((setting, _)) => Err(ConfigError::ZeroDuration { setting }),
            None => Ok(()),
        }
    }

    /// Whether anything needs the maintenance task: expiry, top-up or leaks.
    pub(super) fn needs_maintenance(&self) -> bool {
        self.min_idle > 0
            || self.idle_timeout.is_some()
            || self.max_lifetime.is_some()
            || self.leak_threshold.is_some()
    }
}

/// Checks a maximum size (at build time, or given to
/// [`Pool::resize`](super::Pool::resize)) against `min_idle`.
pub(super) fn check_sizes(max_size: usize, min_idle: usize) -> Result<(), ConfigError> {
    if max_size == 0 {
        return Err(ConfigError::ZeroMaxSize);
    }
    if min_idle > max_size {
        return Err(ConfigError::MinIdleAboveMaxSize { min_idle, max_size });
    }
    Ok(())
}

/// A setting that makes no sense, with the values that were given.
///
/// ```
/// use weft_patterns::conn_pool::ConfigError;
///
/// let error = ConfigError::MinIdleAboveMaxSize { min_idle: 5, max_size: 2 };
/// assert_eq!(error.to_string(), "min_idle (5) is larger than max_size (2)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    /// A pool needs room for at least one connection.
    ZeroMaxSize,
    /// The pool could never keep that many connections idle.
    MinIdleAboveMaxSize {
        /// The minimum number of idle connections asked for.
        min_idle: usize,
        /// The maximum size asked for.
        max_size: usize,
    },
    /// A zero duration: a zero timeout would fail every call. Pass `None` to
    /// turn a limit off.
    ZeroDuration {
        /// The setting's name, as its builder method is named.
        setting: &'static str,
    },
}

display!(impl[] ConfigError, |self, f| match self {
    Self::ZeroMaxSize => f.write_str("max_size must be at least 1"),
    Self::MinIdleAboveMaxSize { min_idle, max_size } => {
        write!(f, "min_idle ({min_idle}) is larger than max_size ({max_size})")
    }
    Self::ZeroDuration { setting } => write!(f, "{setting} is zero; pass None to turn it off"),
});

impl Error for ConfigError {}
