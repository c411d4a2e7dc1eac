//! Tests of the connection pool, on the paused clock (deterministic and
//! instant). A scripted manager counts the connection objects alive, the
//! half-made ones inside a `create` future included, so every test can
//! check that nothing was lost or leaked.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use weft_patterns::conn_pool::{
    ConfigError, ConnectionInfo, IdleOrder, LeakReport, Manager, Pool, PoolBuilder, PoolError,
    PooledConnection, TimeoutKind,
};
use weft_runtime::{sleep, spawn, time, JoinHandle};
use weft_tests::paused;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn millis(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// How the manager behaves; tests change it as they go.
#[derive(Debug, Default, Clone)]
struct Script {
    create_delay: Duration,
    create_error: Option<String>,
    recycle_delay: Duration,
    recycle_fails: bool,
}

#[derive(Debug, Default)]
struct Shared {
    script: Mutex<Script>,
    /// Connection objects alive, half-made ones included.
    live: AtomicUsize,
    next_id: AtomicU32,
}

impl Shared {
    fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    fn script(&self, change: impl FnOnce(&mut Script)) {
        change(&mut self.script.lock().unwrap());
    }
}

#[derive(Debug)]
struct TestConn {
    id: u32,
    broken: bool,
    shared: Arc<Shared>,
}

impl Drop for TestConn {
    fn drop(&mut self) {
        self.shared.live.fetch_sub(1, Ordering::SeqCst);
    }
}

struct TestManager(Arc<Shared>);

impl Manager for TestManager {
    type Connection = TestConn;
    type Error = String;

    async fn create(&self) -> Result<TestConn, String> {
        let shared = &self.0;
        // The connection object exists from the start of the handshake, so a
        // `create` dropped half-way must destroy it.
        shared.live.fetch_add(1, Ordering::SeqCst);
        let conn = TestConn {
            id: shared.next_id.fetch_add(1, Ordering::SeqCst),
            broken: false,
            shared: shared.clone(),
        };
        let script = shared.script.lock().unwrap().clone();
        if !script.create_delay.is_zero() {
            sleep(script.create_delay).await;
        }
        match script.create_error {
            Some(error) => Err(error),
            None => Ok(conn),
        }
    }

    async fn recycle(&self, _conn: &mut TestConn, _info: &ConnectionInfo) -> Result<(), String> {
        let script = self.0.script.lock().unwrap().clone();
        if !script.recycle_delay.is_zero() {
            sleep(script.recycle_delay).await;
        }
        if script.recycle_fails {
            Err("the health check failed".into())
        } else {
            Ok(())
        }
    }

    fn is_broken(&self, conn: &mut TestConn) -> bool {
        conn.broken
    }
}

type TestPool = Pool<TestManager>;

/// A pool of the scripted manager, configured by `configure`.
fn pool_with(
    configure: impl FnOnce(PoolBuilder<TestManager>) -> PoolBuilder<TestManager>,
) -> (TestPool, Arc<Shared>) {
    let shared = Arc::new(Shared::default());
    let pool = configure(Pool::builder(TestManager(shared.clone())))
        .build()
        .unwrap();
    (pool, shared)
}

/// The invariants of a quiet pool (no `get` in progress) whose connections
/// out are `held`, with `detached_alive` detached connections still alive.
fn assert_consistent(pool: &TestPool, shared: &Shared, held: usize, detached_alive: usize) {
    let m = pool.metrics();
    assert_eq!(m.size, m.idle + m.in_use, "{m:?}");
    assert_eq!(m.created, m.size as u64 + m.destroyed + m.detached, "{m:?}");
    assert_eq!(m.in_use, held, "{m:?}");
    assert_eq!((m.creating, m.waiters), (0, 0), "{m:?}");
    assert!(m.size <= m.max_size, "{m:?}");
    assert_eq!(shared.live(), m.size + detached_alive, "{m:?}");
}

/// Proves that no capacity leaked: with nothing checked out, `max_size`
/// gets succeed at once (each within a millisecond of virtual time, with
/// instant creates), then go back.
async fn assert_full_capacity(pool: &TestPool, shared: &Shared) {
    assert_eq!(pool.metrics().in_use, 0);
    shared.script(|s| *s = Script::default());
    let mut conns = Vec::new();
    for _ in 0..pool.metrics().max_size {
        let conn = time::timeout(millis(1), pool.get()).await;
        conns.push(conn.expect("capacity leaked: a get had to wait").unwrap());
    }
    drop(conns);
}

async fn settle() {
    sleep(millis(1)).await;
}

/// Aborts a task and waits until its future has been dropped.
async fn abort<T>(task: JoinHandle<T>) {
    task.abort();
    assert!(
        task.await.is_err(),
        "the task finished before it was aborted"
    );
}

#[test]
fn max_size_is_respected_under_many_concurrent_gets() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.max_size(3));
        shared.script(|s| s.create_delay = millis(5));
        let holding = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..30u64)
            .map(|n| {
                let (pool, shared) = (pool.clone(), shared.clone());
                let (holding, peak) = (holding.clone(), peak.clone());
                spawn(async move {
                    let conn = pool.get().await.unwrap();
                    let now = holding.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    assert!(shared.live() <= 3);
                    sleep(millis(10 * (n % 4 + 1))).await;
                    holding.fetch_sub(1, Ordering::SeqCst);
                    drop(conn);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        let m = pool.metrics();
        assert_eq!((m.created, m.checkouts, m.timeouts), (3, 30, 0));
        assert_consistent(&pool, &shared, 0, 0);
    });
}

#[test]
fn waiters_are_served_first_come_first_served() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.max_size(1));
        let held = pool.get().await.unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for n in 0..5 {
            let (pool, order) = (pool.clone(), order.clone());
            tasks.push(spawn(async move {
                let conn = pool.get().await.unwrap();
                order.lock().unwrap().push(n);
                sleep(millis(1)).await;
                drop(conn);
            }));
            settle().await; // queue them in this order
        }
        assert_eq!(pool.metrics().waiters, 5);
        drop(held);
        // A newcomer arriving as the connection comes back queues behind them.
        let late = pool.get().await.unwrap();
        order.lock().unwrap().push(99);
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4, 99]);
        drop(late);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(pool.metrics().created, 1);
        assert_consistent(&pool, &shared, 0, 0);
    });
}

#[test]
fn acquire_timeout_defaults_to_thirty_seconds() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.max_size(1));
        let held = pool.get().await.unwrap();
        let start = time::now();
        let error = pool.get().await.unwrap_err();
        assert_eq!(time::now() - start, secs(30));
        assert_eq!(
            error,
            PoolError::Timeout {
                kind: TimeoutKind::Acquire,
                limit: secs(30)
            }
        );
        assert_eq!(
            error.to_string(),
            "no connection within the acquire timeout (30s)"
        );
        let m = pool.metrics();
        assert_eq!((m.timeouts, m.waiters), (1, 0));
        drop(held);
        assert_consistent(&pool, &shared, 0, 0);
        assert_full_capacity(&pool, &shared).await;
    });
}

#[test]
fn acquire_timeout_can_be_set_or_turned_off() {
    paused(async {
        let (pool, _shared) = pool_with(|b| b.max_size(1).acquire_timeout(secs(2)));
        let held = pool.get().await.unwrap();
        let start = time::now();
        let error = pool.get().await.unwrap_err();
        assert_eq!(time::now() - start, secs(2));
        assert_eq!(
            error,
            PoolError::Timeout {
                kind: TimeoutKind::Acquire,
                limit: secs(2)
            }
        );
        drop(held);

        let (pool, _shared) = pool_with(|b| b.max_size(1).acquire_timeout(None));
        let held = pool.get().await.unwrap();
        spawn(async move {
            sleep(secs(3600)).await;
            drop(held);
        });
        let start = time::now();
        let conn = pool.get().await.unwrap();
        assert_eq!(time::now() - start, secs(3600));
        drop(conn);
    });
}

#[test]
fn the_acquire_timeout_bounds_the_whole_get() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.acquire_timeout(secs(3)).create_timeout(secs(10)));
        shared.script(|s| s.create_delay = secs(20));
        let start = time::now();
        let error = pool.get().await.unwrap_err();
        assert_eq!(time::now() - start, secs(3));
        assert_eq!(
            error,
            PoolError::Timeout {
                kind: TimeoutKind::Acquire,
                limit: secs(3)
            }
        );
        assert_eq!(pool.metrics().create_errors, 1);
        assert_consistent(&pool, &shared, 0, 0);
    });
}

#[test]
fn create_timeout_fails_the_get_and_frees_the_capacity() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.max_size(1).create_timeout(secs(10)));
        shared.script(|s| s.create_delay = secs(20));
        let start = time::now();
        let error = pool.get().await.unwrap_err();
        assert_eq!(time::now() - start, secs(10));
        assert_eq!(
            error,
            PoolError::Timeout {
                kind: TimeoutKind::Create,
                limit: secs(10)
            }
        );
        let m = pool.metrics();
        assert_eq!((m.create_errors, m.timeouts, m.created), (1, 1, 0));
        // The half-made connection was destroyed with the create future.
        assert_consistent(&pool, &shared, 0, 0);
        assert_full_capacity(&pool, &shared).await;
    });
}

#[test]
fn a_failing_create_returns_its_error_and_frees_the_capacity() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.max_size(1));
        shared.script(|s| s.create_error = Some("connection refused".into()));
        for _ in 0..5 {
            let error = pool.get().await.unwrap_err();
            assert_eq!(error, PoolError::Create("connection refused".into()));
            assert_consistent(&pool, &shared, 0, 0);
        }
        assert_eq!(pool.metrics().create_errors, 5);
        // Five failures with room for one: none of them kept the slot.
        assert_full_capacity(&pool, &shared).await;
        assert_eq!(pool.metrics().created, 1);
    });
}

#[test]
fn recycle_timeout_destroys_the_connection_and_the_get_goes_on() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.recycle_timeout(secs(5)));
        let first = pool.get().await.unwrap().id;
        shared.script(|s| s.recycle_delay = secs(10));
        let start = time::now();
        let conn = pool.get().await.unwrap();
        assert_eq!(time::now() - start, secs(5));
        assert_ne!(conn.id, first);
        let m = pool.metrics();
        assert_eq!(
            (m.recycle_errors, m.destroyed, m.created, m.size),
            (1, 1, 2, 1)
        );
        drop(conn);
        assert_consistent(&pool, &shared, 0, 0);
    });
}

#[test]
fn unhealthy_and_broken_connections_are_destroyed_and_replaced() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.max_size(2));
        let first = pool.get().await.unwrap().id;
        shared.script(|s| s.recycle_fails = true);
        let second = pool.get().await.unwrap();
        assert_ne!(second.id, first);
        assert_eq!(pool.metrics().recycle_errors, 1);

        let mut second = second;
        second.broken = true; // the check-in hook will reject it
        let second_id = second.id;
        drop(second);
        shared.script(|s| s.recycle_fails = false);
        let third = pool.get().await.unwrap();
        assert_ne!(third.id, second_id);
        let m = pool.metrics();
        assert_eq!((m.created, m.destroyed, m.recycled), (3, 2, 0));
        drop(third);
        assert_consistent(&pool, &shared, 0, 0);
    });
}

#[test]
fn idle_timeout_retires_idle_connections_above_min_idle() {
    paused(async {
        let (pool, shared) = pool_with(|b| {
            b.idle_timeout(secs(60))
                .max_lifetime(None)
                .maintenance_interval(secs(10))
        });
        let conns: Vec<_> = [pool.get().await, pool.get().await, pool.get().await]
            .into_iter()
            .map(Result::unwrap)
            .collect();
        sleep(millis(500)).await;
        drop(conns); // idle from 0.5 s
        sleep(secs(65)).await;
        // The round at 60 s finds them idle for 59.5 s: kept.
        assert_eq!(pool.metrics().idle, 3);
        sleep(secs(10)).await;
        // The round at 70 s retires them.
        let m = pool.metrics();
        assert_eq!((m.idle, m.destroyed), (0, 3));
        assert_consistent(&pool, &shared, 0, 0);

        // `min_idle` connections are kept however long they idle.
        let (pool, shared) = pool_with(|b| b.idle_timeout(secs(60)).max_lifetime(None).min_idle(1));
        sleep(secs(3600)).await;
        let m = pool.metrics();
        assert_eq!((m.idle, m.created, m.destroyed), (1, 1, 0));
        assert_consistent(&pool, &shared, 0, 0);
    });
}

#[test]
fn max_lifetime_retires_connections_idle_or_in_use() {
    paused(async {
        let (pool, shared) = pool_with(|b| {
            b.max_lifetime(secs(100))
                .idle_timeout(None)
                .maintenance_interval(secs(3600))
        });
        let first = pool.get().await.unwrap().id;
        sleep(secs(50)).await;
        assert_eq!(pool.get().await.unwrap().id, first, "still young: reused");
        sleep(secs(51)).await;
        // Found idle past its lifetime: destroyed instead of handed out.
        let second = pool.get().await.unwrap();
        assert_ne!(second.id, first);
        assert_eq!(pool.metrics().destroyed, 1);
        // In use past its lifetime: destroyed when it comes back.
        sleep(secs(150)).await;
        drop(second);
        let m = pool.metrics();
        assert_eq!((m.destroyed, m.size), (2, 0));
        assert_consistent(&pool, &shared, 0, 0);

        // The maintenance task retires idle ones on its own.
        let (pool, shared) = pool_with(|b| {
            b.max_lifetime(secs(100))
                .idle_timeout(None)
                .maintenance_interval(secs(10))
        });
        drop(pool.get().await.unwrap());
        sleep(secs(95)).await;
        assert_eq!(pool.metrics().idle, 1);
        sleep(secs(10)).await;
        assert_eq!((pool.metrics().idle, shared.live()), (0, 0));
    });
}

#[test]
fn min_idle_is_kept_topped_up() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.max_size(4).min_idle(2));
        settle().await;
        let m = pool.metrics();
        assert_eq!(
            (m.idle, m.created),
            (2, 2),
            "filled as soon as the pool was built"
        );

        let a = pool.get().await.unwrap();
        settle().await;
        assert_eq!(
            (pool.metrics().idle, pool.metrics().size),
            (2, 3),
            "replaced at once"
        );

        let b = pool.get().await.unwrap();
        let c = pool.get().await.unwrap();
        let d = pool.get().await.unwrap();
        settle().await;
        let m = pool.metrics();
        assert_eq!(
            (m.size, m.idle, m.in_use),
            (4, 0, 4),
            "no room to top up beyond max_size"
        );

        // A broken connection is replaced by a fresh idle one.
        let mut a = a;
        a.broken = true;
        drop((a, b));
        settle().await;
        let m = pool.metrics();
        assert_eq!((m.idle, m.in_use, m.size), (2, 2, 4));
        drop((c, d));
        assert_consistent(&pool, &shared, 0, 0);
    });
}

#[test]
fn min_idle_top_up_retries_failed_creates_only_at_each_tick() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.min_idle(1).maintenance_interval(secs(10)));
        shared.script(|s| s.create_error = Some("down".into()));
        settle().await;
        sleep(secs(95)).await;
        // Rounds at 0, 10, ..., 90 s: ten attempts, no busy loop.
        assert_eq!(pool.metrics().create_errors, 10);
        shared.script(|s| s.create_error = None);
        sleep(secs(10)).await;
        assert_eq!(pool.metrics().idle, 1);
        assert_consistent(&pool, &shared, 0, 0);
    });
}

#[test]
fn shrinking_retires_returning_connections_without_taking_them() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.max_size(3).acquire_timeout(None));
        let a = pool.get().await.unwrap();
        let b = pool.get().await.unwrap();
        let c = pool.get().await.unwrap();
        let c_id = c.id;
        pool.resize(1).unwrap();
        assert_eq!(pool.metrics().max_size, 1);
        assert_eq!(
            shared.live(),
            3,
            "checked-out connections stay with their holders"
        );

        let waiter = {
            let pool = pool.clone();
            spawn(async move { pool.get().await.unwrap().id })
        };
        settle().await;
        drop(a);
        settle().await;
        assert_eq!(
            (pool.metrics().size, pool.metrics().waiters),
            (2, 1),
            "retired, not reused"
        );
        drop(b);
        settle().await;
        assert_eq!((pool.metrics().size, pool.metrics().waiters), (1, 1));
        drop(c); // the pool fits now: kept and handed to the waiter
        assert_eq!(waiter.await.unwrap(), c_id);
        let m = pool.metrics();
        assert_eq!((m.destroyed, m.size), (2, 1));
        assert_consistent(&pool, &shared, 0, 0);
        assert_full_capacity(&pool, &shared).await;
    });
}

#[test]
fn shrinking_destroys_idle_connections_at_once() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.max_size(3));
        let conns: Vec<_> = [pool.get().await, pool.get().await, pool.get().await]
            .into_iter()
            .map(Result::unwrap)
            .collect();
        drop(conns);
        pool.resize(1).unwrap();
        let m = pool.metrics();
        assert_eq!((m.idle, m.destroyed), (1, 2));
        assert_consistent(&pool, &shared, 0, 0);
        assert_full_capacity(&pool, &shared).await;
        // No capacity beyond the new size.
        let held = pool.get().await.unwrap();
        assert!(time::timeout(secs(1), pool.get()).await.is_err());
        drop(held);
    });
}

#[test]
fn growing_serves_waiters_at_once() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.max_size(1));
        let held = pool.get().await.unwrap();
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let pool = pool.clone();
                spawn(async move { pool.get().await })
            })
            .collect();
        settle().await;
        assert_eq!(pool.metrics().waiters, 2);
        let start = time::now();
        pool.resize(3).unwrap();
        let mut served = Vec::new();
        for waiter in waiters {
            served.push(waiter.await.unwrap().unwrap());
        }
        assert_eq!(time::now(), start, "served without waiting for a check-in");
        drop((held, served));
        assert_eq!(pool.metrics().created, 3);
        assert_consistent(&pool, &shared, 0, 0);
    });
}

#[test]
fn a_shrink_then_grow_before_connections_return_cancels_out() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.max_size(2));
        let a = pool.get().await.unwrap();
        let b = pool.get().await.unwrap();
        pool.resize(1).unwrap();
        pool.resize(2).unwrap();
        drop((a, b));
        assert_eq!(pool.metrics().idle, 2, "nothing retired");
        assert_full_capacity(&pool, &shared).await;
    });
}

#[test]
fn resize_refuses_zero_and_sizes_below_min_idle() {
    paused(async {
        let (pool, _shared) = pool_with(|b| b.max_size(4).min_idle(2));
        assert_eq!(pool.resize(0), Err(ConfigError::ZeroMaxSize));
        assert_eq!(
            pool.resize(1),
            Err(ConfigError::MinIdleAboveMaxSize {
                min_idle: 2,
                max_size: 1
            })
        );
        assert_eq!(pool.metrics().max_size, 4);
    });
}

#[test]
fn invalid_settings_are_refused_and_the_manager_comes_back() {
    let shared = Arc::new(Shared::default());
    let error = Pool::builder(TestManager(shared.clone()))
        .min_idle(11)
        .build()
        .unwrap_err();
    assert_eq!(
        error.reason,
        ConfigError::MinIdleAboveMaxSize {
            min_idle: 11,
            max_size: 10
        }
    );
    let error = Pool::builder(error.manager)
        .acquire_timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid pool configuration: acquire_timeout is zero; pass None to turn it off"
    );
}

#[test]
fn metrics_add_up_through_a_mixed_workload() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.max_size(4).recycle_timeout(secs(1)));
        let mut kept = Vec::new();
        for round in 0..20u64 {
            let mut conn = pool.get().await.unwrap();
            match round % 5 {
                0 => conn.broken = true,
                1 => kept.push(PooledConnection::detach(conn)),
                2 => shared.script(|s| s.recycle_fails = true),
                3 => shared.script(|s| s.recycle_delay = secs(2)),
                _ => shared.script(|s| *s = Script::default()),
            }
            sleep(millis(100)).await;
        }
        shared.script(|s| *s = Script::default());
        let m = pool.metrics();
        assert_eq!(m.checkouts, 20);
        assert_eq!(m.detached, 4);
        assert_eq!(
            m.recycled + m.created,
            m.checkouts,
            "each checkout was health-checked or new"
        );
        assert_consistent(&pool, &shared, 0, kept.len());
        drop(kept);
        assert_consistent(&pool, &shared, 0, 0);
    });
}

#[test]
fn leaks_are_reported_once_with_the_callers_location() {
    paused(async {
        let reports: Arc<Mutex<Vec<LeakReport>>> = Arc::default();
        let sink = reports.clone();
        let (pool, shared) = pool_with(|b| {
            b.leak_threshold(secs(60))
                .maintenance_interval(secs(10))
                .on_leak(move |report| sink.lock().unwrap().push(*report))
        });
        let line = line!() + 1;
        let leaked = pool.get().await.unwrap();
        let leaked_id = PooledConnection::info(&leaked).id;
        sleep(secs(30)).await;
        let returned_in_time = pool.get().await.unwrap();
        drop(returned_in_time);
        sleep(secs(45)).await;

        let found = reports.lock().unwrap().clone();
        assert_eq!(found.len(), 1);
        let report = found[0];
        assert_eq!(report.connection_id, leaked_id);
        assert_eq!(
            (report.location.file(), report.location.line()),
            (file!(), line)
        );
        assert!(
            report.held_for >= secs(60) && report.held_for <= secs(70),
            "{report:?}"
        );
        assert!(report.to_string().contains(file!()));

        sleep(secs(600)).await;
        assert_eq!(reports.lock().unwrap().len(), 1, "reported once");
        assert_eq!(pool.metrics().leaks, 1);
        drop(leaked); // a leaked connection still checks in normally
        assert_consistent(&pool, &shared, 0, 0);
    });
}

#[test]
fn dropping_a_get_while_it_waits_for_capacity_loses_nothing() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.max_size(1));
        let held = pool.get().await.unwrap();
        let waiting = {
            let pool = pool.clone();
            spawn(async move { pool.get().await.map(drop) })
        };
        settle().await;
        assert_eq!(pool.metrics().waiters, 1);
        abort(waiting).await;
        assert_eq!(pool.metrics().waiters, 0);
        drop(held);
        assert_consistent(&pool, &shared, 0, 0);
        assert_full_capacity(&pool, &shared).await;
    });
}

#[test]
fn a_get_dropped_after_being_granted_capacity_hands_it_on() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.max_size(1));
        let held = pool.get().await.unwrap();
        let first = {
            let pool = pool.clone();
            spawn(async move { pool.get().await.map(drop) })
        };
        settle().await;
        let second = {
            let pool = pool.clone();
            spawn(async move { pool.get().await.map(|conn| conn.id) })
        };
        settle().await;
        let held_id = held.id;
        drop(held); // grants the permit to `first`, which has not run yet
        first.abort();
        assert_eq!(second.await.unwrap(), Ok(held_id));
        assert!(first.await.unwrap_err().is_cancelled());
        assert_consistent(&pool, &shared, 0, 0);
        assert_full_capacity(&pool, &shared).await;
    });
}

#[test]
fn dropping_a_get_while_it_creates_destroys_the_half_made_connection() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.max_size(1));
        shared.script(|s| s.create_delay = secs(5));
        let creating = {
            let pool = pool.clone();
            spawn(async move { pool.get().await.map(drop) })
        };
        sleep(secs(1)).await;
        assert_eq!((pool.metrics().creating, shared.live()), (1, 1));
        abort(creating).await;
        let m = pool.metrics();
        assert_eq!(
            (m.creating, m.size, m.created, m.create_errors),
            (0, 0, 0, 0)
        );
        assert_eq!(shared.live(), 0, "the half-made connection was destroyed");
        assert_consistent(&pool, &shared, 0, 0);
        assert_full_capacity(&pool, &shared).await;
    });
}

#[test]
fn dropping_a_get_while_it_health_checks_destroys_that_connection() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.max_size(1));
        drop(pool.get().await.unwrap());
        shared.script(|s| s.recycle_delay = secs(3));
        let checking = {
            let pool = pool.clone();
            spawn(async move { pool.get().await.map(drop) })
        };
        sleep(secs(1)).await;
        let m = pool.metrics();
        assert_eq!(
            (m.in_use, m.idle),
            (1, 0),
            "being health-checked counts as in use"
        );
        abort(checking).await;
        let m = pool.metrics();
        assert_eq!((m.in_use, m.size, m.destroyed), (0, 0, 1));
        assert_consistent(&pool, &shared, 0, 0);
        assert_full_capacity(&pool, &shared).await;
    });
}

/// Drops a `get` at every point of a long path: waiting for capacity
/// (0–10 s), health-checking an idle connection that fails (10–15 s), then
/// creating a new one (15–25 s); and finally after it succeeded.
#[test]
fn a_get_dropped_at_any_instant_leaves_the_pool_consistent() {
    for cut in (0..=26).map(|s| millis(s * 1000 + 500)) {
        paused(async {
            let (pool, shared) = pool_with(|b| b.max_size(1).acquire_timeout(None));
            let held = pool.get().await.unwrap();
            shared.script(|s| {
                s.recycle_delay = secs(5);
                s.recycle_fails = true;
                s.create_delay = secs(10);
            });
            spawn(async move {
                sleep(secs(10)).await;
                drop(held);
            });
            let start = time::now();
            let outcome = time::timeout(cut, pool.get()).await;
            assert_eq!(outcome.is_ok(), cut > secs(25), "cut at {cut:?}");
            drop(outcome);
            time::sleep_until(start + secs(40)).await;
            assert_consistent(&pool, &shared, 0, 0);
            assert_full_capacity(&pool, &shared).await;
        });
    }
}

#[test]
fn detach_takes_the_connection_out_and_frees_its_capacity() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.max_size(1));
        let conn = pool.get().await.unwrap();
        let mine = PooledConnection::detach(conn);
        let m = pool.metrics();
        assert_eq!((m.size, m.detached), (0, 1));
        let other = time::timeout(millis(1), pool.get()).await.unwrap().unwrap();
        assert_ne!(other.id, mine.id);
        drop(other);
        assert_consistent(&pool, &shared, 0, 1);
        drop(mine);
        assert_consistent(&pool, &shared, 0, 0);
    });
}

#[test]
fn close_fails_waiters_and_destroys_every_connection() {
    paused(async {
        let (pool, shared) = pool_with(|b| b.max_size(2));
        drop(pool.get().await.unwrap()); // one idle
        let a = pool.get().await.unwrap();
        let b = pool.get().await.unwrap();
        let waiter = {
            let pool = pool.clone();
            spawn(async move { pool.get().await.map(drop) })
        };
        settle().await;
        pool.close();
        assert_eq!(waiter.await.unwrap(), Err(PoolError::Closed));
        assert!(pool.is_closed());
        assert_eq!(pool.get().await.unwrap_err(), PoolError::Closed);
        assert_eq!(
            shared.live(),
            2,
            "checked-out connections stay with their holders"
        );
        drop((a, b));
        let m = pool.metrics();
        assert_eq!((m.size, m.destroyed), (0, 2));
        assert_eq!(shared.live(), 0);
    });
}

#[test]
fn fifo_idle_order_rotates_through_the_connections() {
    paused(async {
        let (pool, _shared) = pool_with(|b| b.idle_order(IdleOrder::Fifo));
        let (a, b) = (pool.get().await.unwrap(), pool.get().await.unwrap());
        let a_id = a.id;
        drop(a);
        drop(b);
        assert_eq!(pool.get().await.unwrap().id, a_id, "the one idle longest");

        let (pool, _shared) = pool_with(|b| b.idle_order(IdleOrder::Lifo));
        let (a, b) = (pool.get().await.unwrap(), pool.get().await.unwrap());
        let b_id = b.id;
        drop(a);
        drop(b);
        assert_eq!(
            pool.get().await.unwrap().id,
            b_id,
            "the most recently returned"
        );
    });
}

#[test]
fn guards_outlive_the_pool_handle() {
    let shared = Arc::new(Shared::default());
    paused(async {
        let pool = Pool::builder(TestManager(shared.clone()))
            .min_idle(1)
            .build()
            .unwrap();
        settle().await;
        let conn = pool.get().await.unwrap();
        drop(pool);
        sleep(secs(60)).await;
        // The maintenance task still serves the pool: it replaced the idle one.
        assert_eq!(shared.live(), 2);
        drop(conn);
        // The last guard took the pool down with its idle connections.
        assert_eq!(shared.live(), 0);
    });
}

#[test]
fn pools_and_guards_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<TestPool>();
    send_sync::<PooledConnection<TestManager>>();
}
