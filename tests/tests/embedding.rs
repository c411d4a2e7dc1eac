//! Embedding: spawning onto a runtime from other threads (plain threads,
//! blocking jobs, another weft runtime, tokio), handles awaited and aborted
//! elsewhere, spawns after shutdown, and a host loop that drives the runtime
//! with `Runtime::turn` and waits on its poller's fd.

use std::future::pending;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use weft_runtime::{spawn_blocking, Builder, Runtime, Spawner};

/// Sets its flag when dropped; `Send`, unlike `weft_tests::DropFlag`, so
/// that it can travel inside a spawned future from another thread.
struct SendDropFlag(Arc<AtomicBool>);

impl Drop for SendDropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A future that never completes and sets `flag` when dropped.
fn pending_with_send_flag(flag: &Arc<AtomicBool>) -> impl std::future::Future<Output = ()> + Send {
    let guard = SendDropFlag(flag.clone());
    async move {
        let _guard = guard;
        pending::<()>().await;
    }
}

/// A runtime running on its own thread until [`RuntimeThread::stop`].
struct RuntimeThread {
    spawner: Spawner,
    stop: oneshot::Sender<()>,
    thread: thread::JoinHandle<()>,
}

impl RuntimeThread {
    fn start() -> Self {
        let (spawner_tx, spawner_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let thread = thread::spawn(move || {
            let rt = Runtime::new();
            spawner_tx.send(rt.spawner()).unwrap();
            let _ = rt.block_on(stop_rx);
        });
        let spawner = spawner_rx.recv().unwrap();
        Self {
            spawner,
            stop,
            thread,
        }
    }

    fn stop(self) {
        self.stop.send(()).unwrap();
        self.thread.join().unwrap();
    }
}

#[test]
fn spawner_is_send_sync_and_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<Spawner>();
    fn send<T: Send>() {}
    send::<weft_runtime::JoinHandle<u64>>();
}

#[test]
fn many_threads_spawn_many_tasks_and_await_them_there() {
    const THREADS: u64 = 8;
    const TASKS: u64 = 2_000;
    let runtime = RuntimeThread::start();
    let spawner = runtime.spawner.clone();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let spawner = spawner.clone();
            thread::spawn(move || {
                let handles: Vec<_> = (0..TASKS)
                    .map(|i| spawner.spawn(async move { t * TASKS + i }).unwrap())
                    .collect();
                let outputs = futures::executor::block_on(futures::future::join_all(handles));
                for (i, output) in outputs.into_iter().enumerate() {
                    assert_eq!(output.unwrap(), t * TASKS + i as u64);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    runtime.stop();
}

#[test]
fn the_runtime_counts_remote_spawns() {
    let rt = Runtime::new();
    let spawner = rt.spawner();
    let handles = thread::spawn(move || {
        (0..10)
            .map(|i| spawner.spawn(async move { i }).unwrap())
            .collect::<Vec<_>>()
    })
    .join()
    .unwrap();
    let sum = rt.block_on(async {
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, 45);
    assert_eq!(rt.metrics().tasks_spawned, 10);
    assert_eq!(rt.metrics().tasks_alive, 0);
}

#[test]
fn a_blocking_job_spawns_through_the_current_spawner() {
    let out = weft_runtime::run(async {
        let handle = spawn_blocking(|| Spawner::current().spawn(async { 40 + 2 }).unwrap())
            .await
            .unwrap();
        handle.await.unwrap()
    });
    assert_eq!(out, 42);
}

#[test]
fn spawn_in_a_blocking_job_points_to_the_spawner() {
    let message = weft_runtime::run(async {
        let job = spawn_blocking(|| {
            drop(weft_runtime::spawn(async {}));
        });
        job.await.unwrap_err().panic_message().unwrap()
    });
    assert!(message.contains("Spawner"), "{message}");
}

#[test]
fn try_current_is_none_on_a_plain_thread() {
    assert!(Spawner::try_current().is_none());
    let err = std::panic::catch_unwind(Spawner::current).unwrap_err();
    let message = weft_runtime::panic_message(&*err).unwrap();
    assert!(message.contains("Runtime::spawner"), "{message}");
}

#[test]
fn another_weft_runtime_spawns_and_awaits() {
    let runtime = RuntimeThread::start();
    let spawner = runtime.spawner.clone();
    let out = thread::spawn(move || {
        weft_runtime::run(async move {
            let here = thread::current().id();
            let there = spawner
                .spawn(async { thread::current().id() })
                .unwrap()
                .await
                .unwrap();
            assert_ne!(here, there, "the task ran on its own runtime's thread");
            spawner.spawn(async { 7 }).unwrap().await.unwrap()
        })
    })
    .join()
    .unwrap();
    assert_eq!(out, 7);
    runtime.stop();
}

#[test]
fn a_tokio_task_spawns_and_awaits() {
    let runtime = RuntimeThread::start();
    let spawner = runtime.spawner.clone();
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let out = tokio_rt.block_on(async move {
        let tasks: Vec<_> = (0..4u32)
            .map(|i| {
                let spawner = spawner.clone();
                tokio::spawn(async move { spawner.spawn(async move { i * 10 }).unwrap().await })
            })
            .collect();
        let mut sum = 0;
        for task in tasks {
            sum += task.await.unwrap().unwrap();
        }
        sum
    });
    assert_eq!(out, 60);
    runtime.stop();
}

#[test]
fn spawn_local_builds_a_non_send_future_on_the_runtime_thread() {
    let runtime = RuntimeThread::start();
    let handle = runtime
        .spawner
        .spawn_local(|| {
            let local = Rc::new(thread::current().id());
            async move {
                weft_runtime::yield_now().await;
                *local
            }
        })
        .unwrap();
    let ran_on = futures::executor::block_on(handle).unwrap();
    assert_eq!(ran_on, runtime.thread.thread().id());
    runtime.stop();
}

#[test]
fn abort_from_another_thread_drops_the_future() {
    let runtime = RuntimeThread::start();
    let dropped = Arc::new(AtomicBool::new(false));
    let handle = runtime
        .spawner
        .spawn(pending_with_send_flag(&dropped))
        .unwrap();
    // Abort from yet another thread; await here.
    let handle = thread::spawn(move || {
        handle.abort();
        handle
    })
    .join()
    .unwrap();
    let err = futures::executor::block_on(handle).unwrap_err();
    assert!(err.is_cancelled());
    assert!(dropped.load(Ordering::SeqCst));
    runtime.stop();
}

/// Sends `rt` a task that never completes, from this thread; returns its
/// handle and the flag its drop sets.
fn send_pending_task(rt: &Runtime) -> (weft_runtime::JoinHandle<()>, Arc<AtomicBool>) {
    let dropped = Arc::new(AtomicBool::new(false));
    let handle = rt
        .spawner()
        .spawn(pending_with_send_flag(&dropped))
        .unwrap();
    (handle, dropped)
}

#[test]
fn abort_before_the_runtime_adopts_the_task() {
    let rt = Runtime::new();
    let (handle, dropped) = send_pending_task(&rt);
    handle.abort();
    assert!(rt.block_on(handle).unwrap_err().is_cancelled());
    assert!(dropped.load(Ordering::SeqCst));
}

#[test]
fn spawn_after_shutdown_is_an_error_and_drops_the_future() {
    let spawner = Runtime::new().spawner();
    let dropped = Arc::new(AtomicBool::new(false));
    let err = spawner.spawn(pending_with_send_flag(&dropped)).unwrap_err();
    assert!(err.to_string().contains("shut down"), "{err}");
    assert!(dropped.load(Ordering::SeqCst));

    let dropped = Arc::new(AtomicBool::new(false));
    let guard = SendDropFlag(dropped.clone());
    let err = spawner
        .spawn_local(move || {
            let _guard = guard;
            async {}
        })
        .unwrap_err();
    assert!(err.to_string().contains("shut down"), "{err}");
    assert!(dropped.load(Ordering::SeqCst), "the closure was dropped");
}

#[test]
fn tasks_queued_at_shutdown_are_cancelled_and_dropped() {
    let rt = Runtime::new();
    let (handle, dropped) = send_pending_task(&rt);
    // Never driven: the task still waits in the remote queue.
    drop(rt);
    assert!(dropped.load(Ordering::SeqCst));
    let err = futures::executor::block_on(handle).unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
fn spawns_racing_shutdown_neither_hang_nor_leak() {
    for _ in 0..20 {
        let rt = Runtime::new();
        let spawner = rt.spawner();
        let live = Arc::new(AtomicUsize::new(0));
        let pusher = {
            let live = live.clone();
            thread::spawn(move || {
                for _ in 0..200 {
                    live.fetch_add(1, Ordering::SeqCst);
                    let flag = Arc::new(AtomicBool::new(false));
                    let counted = CountOnDrop(live.clone());
                    let fut = async move {
                        let _counted = counted;
                        pending_with_send_flag(&flag).await
                    };
                    if let Ok(handle) = spawner.spawn(fut) {
                        drop(handle);
                    }
                }
            })
        };
        rt.turn(Some(Duration::ZERO));
        drop(rt);
        pusher.join().unwrap();
        assert_eq!(live.load(Ordering::SeqCst), 0, "every future was dropped");
    }
}

/// Decrements its counter when dropped.
struct CountOnDrop(Arc<AtomicUsize>);

impl Drop for CountOnDrop {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Turns `rt` until `done` or a generous bound; returns the turns taken.
fn turn_until(rt: &Runtime, max_wait: Duration, done: impl Fn() -> bool) -> usize {
    let start = Instant::now();
    let mut turns = 0;
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no progress from turn"
        );
        rt.turn(Some(max_wait));
        turns += 1;
    }
    turns
}

#[test]
fn turn_alone_fires_due_timers_on_the_real_clock() {
    let rt = Runtime::new();
    let fired = Arc::new(AtomicUsize::new(0));
    for ms in 1..=5u64 {
        let fired = fired.clone();
        rt.spawner()
            .spawn_local(move || async move {
                weft_runtime::sleep(Duration::from_millis(ms)).await;
                fired.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
    }
    turn_until(&rt, Duration::from_millis(20), || {
        fired.load(Ordering::SeqCst) == 5
    });
    assert_eq!(rt.metrics().timers_fired, 5);
}

#[test]
fn turn_alone_advances_a_paused_clock_to_due_timers() {
    let rt = Builder::new().start_paused(true).build();
    let fired = Arc::new(AtomicUsize::new(0));
    for s in 1..=5u64 {
        let fired = fired.clone();
        rt.spawner()
            .spawn_local(move || async move {
                weft_runtime::sleep(Duration::from_secs(3600 * s)).await;
                fired.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
    }
    // Zero wait: a paused clock jumps instead of sleeping.
    turn_until(&rt, Duration::ZERO, || fired.load(Ordering::SeqCst) == 5);
}

#[test]
fn turn_alone_runs_remote_spawns_and_remote_wakes() {
    let rt = Runtime::new();
    let spawner = rt.spawner();
    let (tx, rx) = oneshot::channel::<u32>();
    // A task waiting for another thread: woken remotely.
    let waiting = spawner.spawn(async move { rx.await.unwrap() + 1 }).unwrap();
    let remote = thread::spawn(move || {
        thread::sleep(Duration::from_millis(5));
        tx.send(41).unwrap();
        (0..100u32)
            .map(|i| spawner.spawn(async move { i }).unwrap())
            .collect::<Vec<_>>()
    });
    turn_until(&rt, Duration::from_millis(10), || waiting.is_finished());
    let handles = remote.join().unwrap();
    turn_until(&rt, Duration::from_millis(10), || {
        handles.iter().all(|h| h.is_finished())
    });
    assert_eq!(rt.block_on(waiting).unwrap(), 42);
    let sum: u32 = rt.block_on(async {
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, 4950);
}

#[test]
fn turn_reports_ready_tasks_and_the_next_timer() {
    let rt = Runtime::new();
    let idle = rt.turn(Some(Duration::ZERO));
    assert!(!idle.tasks_ready);
    assert_eq!(idle.next_timer, None);

    let before = Instant::now();
    let handle = rt
        .spawner()
        .spawn_local(|| weft_runtime::sleep(Duration::from_secs(10)))
        .unwrap();
    // The spawn is waiting for the runtime: work remains.
    let mut turn = rt.turn(Some(Duration::ZERO));
    while turn.tasks_ready {
        turn = rt.turn(Some(Duration::ZERO));
    }
    let after = Instant::now();
    // At the deadline, or before it (far timers are looked at in steps),
    // but in the future and never late.
    let due = turn.next_timer.expect("the sleep's timer");
    assert!(due > before, "{due:?} {before:?}");
    assert!(
        due <= after + Duration::from_secs(10) + Duration::from_millis(50),
        "{due:?} {after:?}"
    );
    handle.abort();
    turn_until(&rt, Duration::ZERO, || handle.is_finished());
    assert_eq!(rt.turn(Some(Duration::ZERO)).next_timer, None);
}

#[test]
fn turn_waits_no_longer_than_asked() {
    let rt = Runtime::new();
    let start = Instant::now();
    let turn = rt.turn(Some(Duration::from_millis(20)));
    assert!(!turn.tasks_ready);
    // A lower bound only: an idle turn sleeps until max_wait.
    assert!(start.elapsed() >= Duration::from_millis(15));
}

#[cfg(unix)]
mod poller_fd {
    use std::os::fd::{AsFd, AsRawFd};

    use super::*;

    /// Whether `rt`'s fd is readable within `timeout_ms` (poll(2)).
    fn readable(rt: &Runtime, timeout_ms: i32) -> bool {
        let mut pfd = libc::pollfd {
            fd: rt.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, for the duration of the call.
        let n = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
        assert!(n >= 0, "poll failed: {}", std::io::Error::last_os_error());
        n == 1 && pfd.revents & libc::POLLIN != 0
    }

    #[test]
    fn the_fd_is_the_same_through_both_traits() {
        let rt = Runtime::new();
        assert_eq!(rt.as_fd().as_raw_fd(), rt.as_raw_fd());
    }

    #[test]
    fn the_fd_becomes_readable_on_a_remote_spawn() {
        let rt = Runtime::new();
        rt.turn(Some(Duration::ZERO));
        assert!(!readable(&rt, 0), "nothing to do yet");
        let spawner = rt.spawner();
        let handle = thread::spawn(move || spawner.spawn(async { 5 }).unwrap())
            .join()
            .unwrap();
        assert!(readable(&rt, 10_000), "the spawn made the fd readable");
        // Level-triggered: it stays readable until the runtime turns.
        assert!(readable(&rt, 0));
        turn_until(&rt, Duration::ZERO, || handle.is_finished());
        assert_eq!(rt.block_on(handle).unwrap(), 5);
        rt.turn(Some(Duration::ZERO));
        assert!(!readable(&rt, 0), "the turn took the event");
    }

    #[test]
    fn the_fd_becomes_readable_on_io() {
        let rt = Runtime::new();
        let (mut ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        let read = rt
            .spawner()
            .spawn_local(move || async move {
                let mut stream = weft_runtime::net::unix::UnixStream::from_std(theirs).unwrap();
                let mut buf = [0u8; 4];
                stream.read(&mut buf).await.unwrap()
            })
            .unwrap();
        // Let the task start and wait for its socket.
        let mut turn = rt.turn(Some(Duration::ZERO));
        while turn.tasks_ready {
            turn = rt.turn(Some(Duration::ZERO));
        }
        assert!(!readable(&rt, 0));
        std::io::Write::write_all(&mut ours, b"ping").unwrap();
        assert!(
            readable(&rt, 10_000),
            "the socket's data made the fd readable"
        );
        turn_until(&rt, Duration::ZERO, || read.is_finished());
        assert_eq!(rt.block_on(read).unwrap(), 4);
    }
}
