//! What every builder of the crate shares: the [`setters!`] macro that
//! writes its chainable setters, and [`ConfigError`], the error of a
//! setting that cannot work, with [`ConfigError::check`] to test one.

use std::error::Error;
use std::fmt;
use std::time::Duration;

/// Writes chainable builder setters: each line
/// `name(arg: Type) => field.path = value;` (with its doc comment) becomes
/// `pub fn name(mut self, arg: Type) -> Self`, which stores `value` in
/// `self.field.path` and returns the builder. The checks happen once, in
/// the builder's `build`, so a setter never does more than this.
macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident($arg:ident: $ty:ty) => $($field:ident).+ = $value:expr;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, $arg: $ty) -> Self {
                self.$($field).+ = $value;
                self
            }
        )*
    };
}

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
    /// `Ok` if `ok`, else the error naming `setting`, `value` and
    /// `requirement`.
    pub(crate) fn check(
        ok: bool,
        setting: &'static str,
        value: impl fmt::Debug,
        requirement: &'static str,
    ) -> Result<(), Self> {
        if ok {
            return Ok(());
        }
        Err(Self {
            setting,
            value: format!("{value:?}"),
            requirement,
        })
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

display!(impl[] ConfigError, |self, f| {
    write!(f, "invalid {} = {}: {}", self.setting, self.value, self.requirement)
});

impl Error for ConfigError {}

/// Checks a count that must not be zero.
pub(crate) fn at_least_one<T>(setting: &'static str, count: T) -> Result<(), ConfigError>
where
    T: Default + PartialEq + fmt::Debug,
{
    ConfigError::check(count != T::default(), setting, count, "must be at least 1")
}

/// Checks a duration that must not be zero.
pub(crate) fn longer_than_zero(
    setting: &'static str,
    duration: Duration,
) -> Result<(), ConfigError> {
    ConfigError::check(
        !duration.is_zero(),
        setting,
        duration,
        "must be longer than zero",
    )
}

/// Checks a percentage threshold, in (0, 100].
pub(crate) fn percentage(setting: &'static str, percent: f64) -> Result<(), ConfigError> {
    let ok = percent > 0.0 && percent <= 100.0;
    ConfigError::check(
        ok,
        setting,
        percent,
        "must be a percentage above 0 and at most 100",
    )
}
