//! [`KeyedRateLimiter`]: one limiter per key (client, host, user), each with
//! its own quota, in a bounded table that forgets idle keys by itself.
//!
//! # Design
//!
//! ```text
//!   try_acquire(&key, n) / acquire(&key, n)
//!     │ table lock (short): look the key up, or build its limiter with
//!     │   quota(&key); move the eviction hand two steps
//!     ▼
//!   the key's own gate (policy + fair line), outside the table lock:
//!   exactly what a RateLimiter does
//! ```
//!
//! * **A quota per key.** The limiter calls `quota(&key)` when it first
//!   meets a key (or meets it again after eviction) to build that key's
//!   policy: a function of the key, or a lookup in a map of overrides with
//!   a default (see the example on [`KeyedRateLimiter`]).
//! * **Idle keys go by themselves.** A key is idle when its policy is at
//!   rest (full bucket, empty window: exactly the state of a freshly built
//!   one), nobody waits in its line and no call is using it. Every call
//!   moves a clock hand two steps over the table and evicts idle keys it
//!   meets (the CLOCK algorithm, in `key_table.rs`): O(1) per call, never
//!   a scan; a key left idle goes within about two turns of the hand. [`evict_idle`](KeyedRateLimiter::evict_idle) does a full pass
//!   on demand, for a periodic task.
//! * **A hard cap.** At most `max_keys` keys are tracked. A new key arriving
//!   at the cap evicts the first idle key among the next eight the hand
//!   visits; if none of them is idle, the new key is refused with
//!   [`KeyedError::TooManyKeys`]. Keys already tracked keep working. An
//!   attacker cycling through fresh keys therefore cannot grow memory past
//!   the cap, and cannot push out clients that are being limited.
//! * **No fresh burst by eviction.** A key is never evicted while it owes
//!   anything (its bucket not full, its window not empty) or while
//!   requests use or wait on it, so eviction can never reset a limited
//!   client to a full burst. Once it is idle, a freshly built limiter
//!   starts in the same state (and a token bucket's refills come no
//!   sooner), so forgetting the key gives nobody more.
//!
//! # Cancellation
//!
//! As for [`RateLimiter`](super::RateLimiter): dropping an `acquire` future
//! reserves nothing. While it waits, its key is in use and cannot be
//! evicted; once it is dropped, the key becomes evictable again as soon as
//! it is idle.

use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use weft_runtime::time;

use super::error::{AcquireError, KeyedError, TryAcquireError};
use super::gate::Gate;
use super::key_table::KeyTable;
use super::policy::RatePolicy;
use super::stats::{Counters, KeyedRateLimiterStats};

/// Builds the policy of a key the limiter has not seen (or has forgotten).
type QuotaFn<K, P> = dyn Fn(&K) -> P + Send + Sync;

/// A rate limiter per key, with a quota per key, eviction of idle keys and a
/// cap on the number of keys. See the [module docs](self).
///
/// # Examples
///
/// A different quota for some clients, from a map of overrides:
///
/// ```
/// use std::collections::HashMap;
/// use weft_patterns::rate_limit::{Gcra, KeyedError, KeyedRateLimiter, Quota};
///
/// weft_runtime::Builder::new().start_paused(true).build().block_on(async {
///     let overrides = HashMap::from([("partner", Quota::per_second(100))]);
///     let limiter = KeyedRateLimiter::new(10_000, move |client: &&str| {
///         Gcra::new(overrides.get(client).copied().unwrap_or(Quota::per_second(2)))
///     });
///     assert!(limiter.try_acquire(&"partner", 50).is_ok());
///     assert!(limiter.try_acquire(&"guest", 2).is_ok());
///     let refused = limiter.try_acquire(&"guest", 1).unwrap_err();
///     assert!(matches!(refused, KeyedError::Limited(_)));
///     assert_eq!(limiter.len(), 2);
/// });
/// ```
pub struct KeyedRateLimiter<K, P> {
    quota: Box<QuotaFn<K, P>>,
    table: Mutex<KeyTable<K, Gate<P>>>,
    max_waiters: usize,
    counters: Counters,
}

impl<K: Hash + Eq + Clone, P: RatePolicy> KeyedRateLimiter<K, P> {
    /// How many requests may wait in each key's line unless
    /// [`with_max_waiters`](Self::with_max_waiters) says otherwise.
    pub const DEFAULT_MAX_WAITERS_PER_KEY: usize = 16;

    /// A limiter tracking at most `max_keys` keys, building each key's
    /// policy with `quota(&key)`.
    ///
    /// `quota` runs under the limiter's table lock: keep it quick, and do
    /// not call the limiter from it.
    ///
    /// # Panics
    ///
    /// If `max_keys` is zero: such a limiter could admit nobody.
    pub fn new(max_keys: usize, quota: impl Fn(&K) -> P + Send + Sync + 'static) -> Self {
        assert!(
            max_keys > 0,
            "a keyed rate limiter must track at least one key"
        );
        Self {
            quota: Box::new(quota),
            table: Mutex::new(KeyTable::new(max_keys)),
            max_waiters: Self::DEFAULT_MAX_WAITERS_PER_KEY,
            counters: Counters::default(),
        }
    }

    setters! {
        /// Sets how many requests may wait in each key's line; the next one is
        /// refused at once with [`AcquireError::QueueFull`].
        with_max_waiters(per_key: usize) => max_waiters = per_key;
    }

    /// Takes `n` tokens for `key` now, or says why not (see
    /// [`RateLimiter::try_acquire`](super::RateLimiter::try_acquire)); a new
    /// key may also be refused at the cap.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_patterns::rate_limit::{KeyedRateLimiter, SlidingWindowCounter};
    ///
    /// weft_runtime::Builder::new().start_paused(true).build().block_on(async {
    ///     let limiter =
    ///         KeyedRateLimiter::new(100, |_: &u32| SlidingWindowCounter::new(1, Duration::from_secs(1)));
    ///     assert!(limiter.try_acquire(&7, 1).is_ok());
    ///     assert!(limiter.try_acquire(&7, 1).is_err());
    ///     assert!(limiter.try_acquire(&8, 1).is_ok()); // another client
    /// });
    /// ```
    pub fn try_acquire(&self, key: &K, n: u32) -> Result<(), KeyedError<TryAcquireError>> {
        let gate = self.gate_for(key)?;
        gate.try_acquire(n, &self.counters)
            .map_err(KeyedError::Limited)
    }

    /// Waits until `n` tokens are admitted for `key` (see
    /// [`RateLimiter::acquire`](super::RateLimiter::acquire)); a new key may
    /// be refused at once at the cap. Requests for one key are admitted in
    /// arrival order; keys do not wait for each other.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_patterns::rate_limit::{Gcra, KeyedRateLimiter, Quota};
    /// use weft_runtime::time;
    ///
    /// weft_runtime::Builder::new().start_paused(true).build().block_on(async {
    ///     let limiter = KeyedRateLimiter::new(100, |_: &&str| Gcra::new(Quota::per_second(1)));
    ///     let start = time::now();
    ///     limiter.acquire(&"a", 1).await.unwrap();
    ///     limiter.acquire(&"b", 1).await.unwrap(); // "b" has its own quota
    ///     assert_eq!(time::now(), start);
    ///     limiter.acquire(&"a", 1).await.unwrap();
    ///     assert_eq!(time::now() - start, Duration::from_secs(1));
    /// });
    /// ```
    pub async fn acquire(&self, key: &K, n: u32) -> Result<(), KeyedError<AcquireError>> {
        let gate = self.gate_for(key)?;
        gate.acquire(n, &self.counters)
            .await
            .map_err(KeyedError::Limited)
    }

    /// Evicts every idle key now: one pass over the table, O(number of
    /// keys). Not needed for correctness or bounded memory (calls evict a
    /// little each); useful in a periodic task to give memory back when
    /// traffic stops. Returns how many keys went.
    pub fn evict_idle(&self) -> usize {
        let now = time::now();
        self.lock_table()
            .evict_all_idle(|gate| gate.is_at_rest(now))
    }

    /// The number of keys tracked now.
    pub fn len(&self) -> usize {
        self.lock_table().len()
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `key` is tracked now (it has a limiter of its own).
    pub fn contains_key(&self, key: &K) -> bool {
        self.lock_table().contains_key(key)
    }

    /// The cap on tracked keys.
    pub fn max_keys(&self) -> usize {
        self.lock_table().max_keys()
    }

    /// A snapshot of the counters, summed over every key, with the state of
    /// the table of keys.
    pub fn stats(&self) -> KeyedRateLimiterStats {
        let table = self.lock_table();
        KeyedRateLimiterStats {
            requests: self.counters.snapshot(),
            keys: table.len(),
            evicted: table.evicted(),
            keys_refused: table.refused(),
        }
    }

    /// `key`'s gate, new if need be, or the refusal of a new key at the cap.
    fn gate_for<E>(&self, key: &K) -> Result<Arc<Gate<P>>, KeyedError<E>> {
        let now = time::now();
        let mut table = self.lock_table();
        let gate = table.get_or_insert(
            key,
            || Gate::new((self.quota)(key), self.max_waiters),
            |gate| gate.is_at_rest(now),
        );
        gate.ok_or_else(|| {
            self.counters.refused();
            KeyedError::TooManyKeys {
                max_keys: table.max_keys(),
            }
        })
    }

    fn lock_table(&self) -> MutexGuard<'_, KeyTable<K, Gate<P>>> {
        // Only `quota` can panic under the lock, and it runs before the
        // table changes: a poisoned table is still consistent.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<K, P> fmt::Debug for KeyedRateLimiter<K, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("KeyedRateLimiter")
            .field("keys", &table.len())
            .field("max_keys", &table.max_keys())
            .field("max_waiters_per_key", &self.max_waiters)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}
