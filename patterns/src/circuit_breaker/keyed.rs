//! [`KeyedCircuitBreakers`]: one circuit breaker per key (per host, per
//! endpoint), created on first use and forgotten when idle.
//!
//! ```text
//!   entries:      HashMap<K, (Arc<CircuitBreaker>, last use)>       lookup by key
//!   by_last_use:  BTreeMap<(last use, tie-breaker), K>               oldest first
//! ```
//!
//! A breaker may be forgotten only when that hands nobody traffic a
//! breaker would have refused, which is when all of these hold:
//!
//! * nobody outside the registry holds it (its `Arc` count is 1), so no
//!   call through it is running and no outcome can arrive later;
//! * it is not forced open, not open with its wait still running, and has
//!   no trial call running ([`CircuitBreaker`]'s state would refuse calls
//!   that a fresh, closed breaker would let through);
//! * for idle eviction: it has not been used for `idle_timeout` (neither
//!   fetched from the registry nor called).
//!
//! Idle breakers are swept lazily, at most twice per `idle_timeout`, when
//! the registry is used (or by hand, [`evict_idle`](KeyedCircuitBreakers::evict_idle)):
//! walking the oldest entries first, so a sweep costs what it evicts plus
//! the idle ones it must keep. When a new key arrives and the registry
//! holds `max_keys` breakers, the least recently used breaker that may be
//! forgotten is evicted, idle or not; if none may be, the new key gets
//! [`TooManyKeys`] and memory stays bounded.
//!
//! The factory that builds a key's breaker runs with the registry's lock
//! released (it may be slow, or use the registry); two callers racing on a
//! new key may both build one, and the second is dropped unused.

use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use weft_runtime::time;

use super::CircuitBreaker;
use crate::config::{at_least_one, longer_than_zero, ConfigError};

/// When an entry was last used, made unique by a counter so that it can
/// key the eviction order.
type Stamp = (Instant, u64);

struct Entry<E> {
    breaker: Arc<CircuitBreaker<E>>,
    last_use: Stamp,
}

struct Registry<K, E> {
    entries: HashMap<K, Entry<E>>,
    by_last_use: BTreeMap<Stamp, K>,
    next_tie_breaker: u64,
    next_sweep: Option<Instant>,
}

type Factory<K, E> = Box<dyn Fn(&K) -> CircuitBreaker<E> + Send + Sync>;

/// One [`CircuitBreaker`] per key, built by a factory on first use (see
/// the module docs for eviction).
///
/// ```
/// use std::time::Duration;
/// use weft_patterns::circuit_breaker::{CircuitBreaker, CircuitState, KeyedCircuitBreakers};
///
/// let hosts = KeyedCircuitBreakers::new(1000, Duration::from_secs(600), |host: &String| {
///     CircuitBreaker::<&'static str>::builder()
///         .name(host.as_str())
///         .consecutive_failures(2)
///         .build()
///         .expect("valid settings")
/// })
/// .unwrap();
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let down = hosts.breaker(&"down.example".to_string()).unwrap();
///     for _ in 0..2 {
///         let _ = down.call(async { Err::<(), _>("refused") }).await;
///     }
///     assert_eq!(down.state(), CircuitState::Open);
///     let up = hosts.breaker(&"up.example".to_string()).unwrap();
///     assert_eq!(up.state(), CircuitState::Closed);
///     assert_eq!(hosts.len(), 2);
/// });
/// ```
pub struct KeyedCircuitBreakers<K, E> {
    factory: Factory<K, E>,
    max_keys: usize,
    idle_timeout: Duration,
    registry: Mutex<Registry<K, E>>,
}

impl<K: Hash + Eq + Clone, E> KeyedCircuitBreakers<K, E> {
    /// A registry of at most `max_keys` breakers, each forgotten after
    /// `idle_timeout` without use (when it may be: see the module docs),
    /// built by `factory` from their key.
    pub fn new(
        max_keys: usize,
        idle_timeout: Duration,
        factory: impl Fn(&K) -> CircuitBreaker<E> + Send + Sync + 'static,
    ) -> Result<Self, ConfigError> {
        at_least_one("KeyedCircuitBreakers::new(max_keys)", max_keys)?;
        longer_than_zero("KeyedCircuitBreakers::new(idle_timeout)", idle_timeout)?;
        Ok(Self {
            factory: Box::new(factory),
            max_keys,
            idle_timeout,
            registry: Mutex::new(Registry {
                entries: HashMap::new(),
                by_last_use: BTreeMap::new(),
                next_tie_breaker: 0,
                next_sweep: None,
            }),
        })
    }

    /// The breaker for `key`, built on first use. Fails only when a new key
    /// arrives at `max_keys` and no breaker may be evicted for it.
    pub fn breaker(&self, key: &K) -> Result<Arc<CircuitBreaker<E>>, TooManyKeys> {
        let now = time::now();
        {
            let mut registry = self.lock();
            if registry.next_sweep.is_none_or(|at| now >= at) {
                self.sweep(&mut registry, now);
            }
            if let Some(breaker) = registry.touch(key, now) {
                return Ok(breaker);
            }
        }
        let fresh = Arc::new((self.factory)(key));
        let mut registry = self.lock();
        if let Some(breaker) = registry.touch(key, now) {
            return Ok(breaker);
        }
        if registry.entries.len() >= self.max_keys {
            let Some(victim) = registry.evictable(now, Duration::ZERO).next() else {
                return Err(TooManyKeys {
                    max_keys: self.max_keys,
                });
            };
            registry.evict(victim);
        }
        let last_use = registry.stamp(now);
        registry.by_last_use.insert(last_use, key.clone());
        registry.entries.insert(
            key.clone(),
            Entry {
                breaker: fresh.clone(),
                last_use,
            },
        );
        Ok(fresh)
    }

    /// The breaker for `key` if the registry holds one (does not count as a
    /// use).
    pub fn get(&self, key: &K) -> Option<Arc<CircuitBreaker<E>>> {
        let registry = self.lock();
        registry.entries.get(key).map(|entry| entry.breaker.clone())
    }

    /// Forgets `key`'s breaker at once, whatever its state, and returns it.
    pub fn remove(&self, key: &K) -> Option<Arc<CircuitBreaker<E>>> {
        let mut registry = self.lock();
        let entry = registry.entries.remove(key)?;
        registry.by_last_use.remove(&entry.last_use);
        Some(entry.breaker)
    }

    /// Forgets every breaker idle for `idle_timeout` that may be forgotten
    /// now, and returns how many went.
    pub fn evict_idle(&self) -> usize {
        self.sweep(&mut self.lock(), time::now())
    }

    fn sweep(&self, registry: &mut Registry<K, E>, now: Instant) -> usize {
        registry.next_sweep = now.checked_add(self.idle_timeout / 2);
        let victims: Vec<Stamp> = registry.evictable(now, self.idle_timeout).collect();
        for &victim in &victims {
            registry.evict(victim);
        }
        victims.len()
    }
}

impl<K: Hash + Eq + Clone, E> Registry<K, E> {
    fn stamp(&mut self, now: Instant) -> Stamp {
        self.next_tie_breaker += 1;
        (now, self.next_tie_breaker)
    }

    /// Marks `key` as used now and returns its breaker, if present.
    fn touch(&mut self, key: &K, now: Instant) -> Option<Arc<CircuitBreaker<E>>> {
        let stamp = self.stamp(now);
        let entry = self.entries.get_mut(key)?;
        let previous = std::mem::replace(&mut entry.last_use, stamp);
        let breaker = entry.breaker.clone();
        if let Some(key) = self.by_last_use.remove(&previous) {
            self.by_last_use.insert(stamp, key);
        }
        Some(breaker)
    }

    /// The entries, least recently used first, that have been idle for at
    /// least `min_idle` and may be forgotten at `now`.
    fn evictable(&self, now: Instant, min_idle: Duration) -> impl Iterator<Item = Stamp> + '_ {
        let idle_enough = move |at: Instant| now.saturating_duration_since(at) >= min_idle;
        self.by_last_use
            .iter()
            .take_while(move |((last_use, _), _)| idle_enough(*last_use))
            .filter(move |(_, key)| {
                let breaker = &self.entries[*key].breaker;
                let core = breaker.lock();
                Arc::strong_count(breaker) == 1
                    && core.last_activity().is_none_or(idle_enough)
                    && core.can_forget(now)
            })
            .map(|(stamp, _)| *stamp)
    }

    fn evict(&mut self, stamp: Stamp) {
        if let Some(key) = self.by_last_use.remove(&stamp) {
            self.entries.remove(&key);
        }
    }
}

impl<K, E> KeyedCircuitBreakers<K, E> {
    /// How many breakers the registry holds.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether the registry holds no breaker.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Registry<K, E>> {
        // Every update of the maps is completed before user code (the
        // factory) runs, so a poisoned lock still guards consistent maps.
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<K, E> fmt::Debug for KeyedCircuitBreakers<K, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedCircuitBreakers")
            .field("keys", &self.len())
            .field("max_keys", &self.max_keys)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

/// A new key arrived while the registry was full of breakers that may not
/// be forgotten (in use, or protecting a failing dependency).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyKeys {
    max_keys: usize,
}

impl TooManyKeys {
    /// The registry's limit.
    pub fn max_keys(&self) -> usize {
        self.max_keys
    }
}

display!(impl[] TooManyKeys, |self, f| {
    write!(
        f,
        "all {} keyed circuit breakers are in use or protecting a failing key; none can be evicted for a new key",
        self.max_keys
    )
});

impl Error for TooManyKeys {}
