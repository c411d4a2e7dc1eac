//! The pool's errors: why a `get` gave no connection, and why a pool could
//! not be built.

use std::error::Error;
use std::fmt;
use std::time::Duration;

use super::config::ConfigError;

/// Which limit a timed-out [`get`](super::Pool::get) ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    /// The acquire timeout: the whole `get` (waiting for capacity, health
    /// checks and creating) took too long.
    Acquire,
    /// The create timeout: one [`Manager::create`](super::Manager::create)
    /// took too long.
    Create,
}

/// Why [`Pool::get`](super::Pool::get) gave no connection. In every case
/// the capacity the `get` held is free again.
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::conn_pool::{PoolError, TimeoutKind};
///
/// let timeout: PoolError<String> =
///     PoolError::Timeout { kind: TimeoutKind::Acquire, limit: Duration::from_secs(30) };
/// assert_eq!(timeout.to_string(), "no connection within the acquire timeout (30s)");
///
/// let refused = PoolError::Create("connection refused".to_string());
/// assert_eq!(refused.to_string(), "could not create a connection: connection refused");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolError<E> {
    /// A limit ran out; the get was abandoned.
    Timeout {
        /// Which limit.
        kind: TimeoutKind,
        /// Its value.
        limit: Duration,
    },
    /// [`Manager::create`](super::Manager::create) failed with this error.
    Create(E),
    /// The pool was [closed](super::Pool::close).
    Closed,
}

display!(impl[E: fmt::Display] PoolError<E>, |self, f| match self {
    Self::Timeout { kind: TimeoutKind::Acquire, limit } => {
        write!(f, "no connection within the acquire timeout ({limit:?})")
    }
    Self::Timeout { kind: TimeoutKind::Create, limit } => {
        write!(f, "creating a connection took longer than the create timeout ({limit:?})")
    }
    Self::Create(error) => write!(f, "could not create a connection: {error}"),
    Self::Closed => f.write_str("the pool is closed"),
});

impl<E: Error + 'static> Error for PoolError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Create(error) => Some(error),
            _ => None,
        }
    }
}

/// [`PoolBuilder::build`](super::PoolBuilder::build) refused a setting; the
/// manager comes back with the reason.
///
/// ```
/// use weft_patterns::conn_pool::{ConfigError, ConnectionInfo, Manager, Pool};
/// # struct Unit;
/// # impl Manager for Unit {
/// #     type Connection = ();
/// #     type Error = std::convert::Infallible;
/// #     async fn create(&self) -> Result<(), Self::Error> { Ok(()) }
/// #     async fn recycle(&self, _: &mut (), _: &ConnectionInfo) -> Result<(), Self::Error> { Ok(()) }
/// # }
///
/// let error = Pool::builder(Unit).max_size(0).build().unwrap_err();
/// assert_eq!(error.reason, ConfigError::ZeroMaxSize);
/// assert_eq!(error.to_string(), "invalid pool configuration: max_size must be at least 1");
/// let _manager: Unit = error.manager;
/// ```
pub struct BuildError<M> {
    /// What is wrong.
    pub reason: ConfigError,
    /// The manager that was given to the builder.
    pub manager: M,
}

impl<M> fmt::Debug for BuildError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuildError")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

display!(impl[M] BuildError<M>, |self, f| write!(f, "invalid pool configuration: {}", self.reason));

impl<M> Error for BuildError<M> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.reason)
    }
}
