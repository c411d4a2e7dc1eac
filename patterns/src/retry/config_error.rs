//! [`ConfigError`]: a setting of a resilience pattern that cannot work.

use std::error::Error;
use std::fmt;

/// A setting of a retry budget, a circuit breaker or a keyed registry that
/// cannot work, such as a failure-rate threshold of 150 % or a window of
/// zero calls. It names the setting, shows the value given and says what
/// would be accepted.
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::retry::RetryBudget;
///
/// let err = RetryBudget::new(Duration::ZERO, 10, 20).unwrap_err();
/// assert_eq!(err.setting(), "RetryBudget::new(ttl)");
/// assert_eq!(err.to_string(), "invalid RetryBudget::new(ttl) = 0ns: must be longer than zero");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    setting: &'static str,
    value: String,
    requirement: &'static str,
}

impl ConfigError {
    pub(crate) fn new(
        setting: &'static str,
        value: impl fmt::Debug,
        requirement: &'static str,
    ) -> Self {
        Self {
            setting,
            value: format!("{value:?}"),
            requirement,
        }
    }

    /// The setting that was refused, as the method that sets it.
    pub fn setting(&self) -> &'static str {
        self.setting
    }

    /// The value that was given, formatted with `Debug`.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// What an acceptable value looks like.
    pub fn requirement(&self) -> &'static str {
        self.requirement
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} = {}: {}",
            self.setting, self.value, self.requirement
        )
    }
}

impl Error for ConfigError {}
