//! The executor: spawn and join, abort, panics, detach, shutdown, wakes from
//! other threads, the blocking pool, introspection.

use std::cell::{Cell, RefCell};
use std::future::{pending, poll_fn};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use weft_runtime::{
    spawn, spawn_blocking, spawn_named, Builder, Handle, JoinHandle, Runtime, TaskState,
};
use weft_tests::pending_with_flag;

/// Yields `n` times through the run queue.
async fn yield_times(n: usize) {
    for _ in 0..n {
        let mut yielded = false;
        poll_fn(|cx| {
            if yielded {
                Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .await;
    }
}

#[test]
fn spawn_and_join_many() {
    let total = weft_runtime::run(async {
        let handles: Vec<_> = (0..1000u64).map(|i| spawn(async move { i * 2 })).collect();
        let mut total = 0;
        for h in handles {
            total += h.await.unwrap();
        }
        total
    });
    assert_eq!(total, 999 * 1000);
}

#[test]
fn spawned_futures_need_not_be_send() {
    let out = weft_runtime::run(async {
        let shared = Rc::new(Cell::new(1));
        let s = shared.clone();
        spawn(async move { s.set(s.get() + 1) }).await.unwrap();
        shared.get()
    });
    assert_eq!(out, 2);
}

#[test]
fn abort_drops_the_future_at_its_await_point() {
    weft_runtime::run(async {
        let dropped = Rc::new(Cell::new(false));
        let h = spawn(pending_with_flag(&dropped));
        yield_times(2).await; // the task is now parked at its await
        assert!(!dropped.get());
        h.abort();
        let err = h.await.unwrap_err();
        assert!(err.is_cancelled());
        assert!(dropped.get(), "destructors ran before the handle resolved");
        assert_eq!(Handle::current().metrics().tasks_alive, 0);
    });
}

#[test]
fn abort_after_finish_keeps_the_value() {
    weft_runtime::run(async {
        let h = spawn(async { 5 });
        yield_times(2).await;
        assert!(h.is_finished());
        h.abort();
        assert_eq!(h.await.unwrap(), 5);
    });
}

#[test]
fn abort_from_another_thread_reaches_a_parked_runtime() {
    weft_runtime::run(async {
        let h = spawn(pending::<()>());
        yield_times(1).await;
        let h = Arc::new(h);
        let remote = h.clone();
        std::thread::spawn(move || remote.abort());
        let h = poll_fn(|cx| {
            // Wait for the abort without owning the handle twice.
            if h.is_finished() {
                Poll::Ready(())
            } else {
                let waker = cx.waker().clone();
                let h2 = h.clone();
                std::thread::spawn(move || {
                    while !h2.is_finished() {
                        std::thread::yield_now();
                    }
                    waker.wake();
                });
                Poll::Pending
            }
        });
        h.await;
    });
}

#[test]
fn a_panicking_task_does_not_take_the_runtime_down() {
    weft_runtime::run(async {
        let h = spawn(async {
            panic!("task failed on purpose");
        });
        let err = h.await.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(
            err.panic_message().as_deref(),
            Some("task failed on purpose")
        );
        let payload = err.try_into_panic().unwrap();
        assert_eq!(
            *payload.downcast::<&str>().unwrap(),
            "task failed on purpose"
        );
        // The runtime carries on.
        assert_eq!(spawn(async { 1 }).await.unwrap(), 1);
    });
}

#[test]
fn a_detached_task_keeps_running() {
    weft_runtime::run(async {
        let done = Rc::new(Cell::new(false));
        let d = done.clone();
        drop(spawn(async move {
            yield_times(3).await;
            d.set(true);
        }));
        yield_times(10).await;
        assert!(done.get());
    });
}

#[test]
fn leftover_tasks_are_cancelled_when_run_returns() {
    let dropped = Rc::new(Cell::new(false));
    let flag = dropped.clone();
    weft_runtime::run(async move {
        drop(spawn(pending_with_flag(&flag)));
        yield_times(1).await;
    });
    assert!(dropped.get());
}

#[test]
fn handles_report_cancelled_when_their_runtime_is_dropped() {
    let rt = Runtime::new();
    let h = rt.handle().spawn(pending::<()>());
    drop(rt);
    let rt2 = Runtime::new();
    assert!(rt2.block_on(h).unwrap_err().is_cancelled());
}

#[test]
fn tasks_survive_between_block_on_calls() {
    let rt = Runtime::new();
    let started = Rc::new(Cell::new(false));
    let flag = started.clone();
    // Spawned during one block_on, still alive for the next.
    let h = rt.block_on(async move {
        let h = spawn(async move {
            flag.set(true);
            yield_times(3).await;
            7
        });
        yield_times(1).await;
        Some(h)
    });
    assert!(started.get());
    assert_eq!(rt.block_on(h.unwrap()).unwrap(), 7);
}

#[test]
#[should_panic(expected = "within a running runtime")]
fn nested_block_on_is_refused() {
    weft_runtime::run(async {
        weft_runtime::run(async {});
    });
}

#[test]
#[should_panic(expected = "spawn needs a weft runtime")]
fn spawn_outside_a_runtime_says_why() {
    drop(spawn(async {}));
}

/// A one-shot flag another thread sets, waking whoever waits.
#[derive(Default)]
struct RemoteFlag {
    set: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl RemoteFlag {
    fn set(&self) {
        self.set.store(true, Ordering::SeqCst);
        if let Some(w) = self.waker.lock().unwrap().take() {
            w.wake();
        }
    }

    async fn wait(&self) {
        poll_fn(|cx| {
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            if self.set.load(Ordering::SeqCst) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

/// Whether the OS thread whose stat file is `stat` is blocked in a syscall
/// (state `S`), read from `/proc/<pid>/task/<tid>/stat`.
fn thread_is_sleeping(stat: &std::path::Path) -> bool {
    let text = std::fs::read_to_string(stat).unwrap();
    // The state follows the command name, which is in parentheses.
    let after_name = &text[text.rfind(')').unwrap() + 2..];
    after_name.starts_with('S')
}

#[test]
fn a_wake_from_another_thread_resumes_a_parked_runtime_without_busy_polling() {
    let rt = Runtime::new();
    let flag = Arc::new(RemoteFlag::default());
    let setter = flag.clone();
    // The runtime's own thread, as Linux names it.
    let me = std::fs::read_link("/proc/thread-self").unwrap();
    let stat = std::path::Path::new("/proc").join(me).join("stat");
    let (registered_tx, registered_rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        registered_rx.recv().unwrap();
        // Once the waiter registered, the runtime has nothing left to do
        // but park in epoll_wait: wait until it really sleeps, so the wake
        // below must come through the remote queue and the mio::Waker.
        while !thread_is_sleeping(&stat) {
            std::thread::yield_now();
        }
        setter.set();
    });
    rt.block_on(async {
        let f = flag.clone();
        spawn(async move {
            registered_tx.send(()).unwrap();
            f.wait().await
        })
        .await
        .unwrap();
    });
    thread.join().unwrap();
    let m = rt.metrics();
    assert!(m.parks >= 1, "the runtime slept while it waited: {m:?}");
    assert!(
        m.remote_wakeups >= 1,
        "the wake came through the remote queue: {m:?}"
    );
    // A busy loop would have polled thousands of times in 30 ms.
    assert!(m.polls <= 6, "no busy polling while idle: {m:?}");
}

#[test]
fn local_wakes_do_not_go_through_the_remote_queue() {
    let rt = Runtime::new();
    rt.block_on(async {
        let a = spawn(yield_times(50));
        let b = spawn(yield_times(50));
        a.await.unwrap();
        b.await.unwrap();
    });
    let m = rt.metrics();
    assert!(m.local_wakeups >= 100, "{m:?}");
    assert_eq!(m.remote_wakeups, 0, "{m:?}");
    assert_eq!(m.parks, 0, "always work to do: never parked: {m:?}");
}

#[test]
fn several_runtimes_run_on_several_threads() {
    let threads: Vec<_> = (0..4u64)
        .map(|i| {
            std::thread::spawn(move || {
                weft_runtime::run(async move {
                    let hs: Vec<_> = (0..100)
                        .map(|j| spawn(async move { i * 1000 + j }))
                        .collect();
                    let mut sum = 0;
                    for h in hs {
                        sum += h.await.unwrap();
                    }
                    sum
                })
            })
        })
        .collect();
    for (i, t) in threads.into_iter().enumerate() {
        let i = i as u64;
        assert_eq!(t.join().unwrap(), i * 100_000 + 4950);
    }
}

#[test]
fn spawn_blocking_returns_results_and_panics() {
    weft_runtime::run(async {
        let ok = spawn_blocking(|| 21 * 2);
        let bad = spawn_blocking(|| -> u32 { panic!("blocking job failed") });
        assert_eq!(ok.await.unwrap(), 42);
        let err = bad.await.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.panic_message().as_deref(), Some("blocking job failed"));
    });
}

#[test]
fn the_blocking_pool_stays_within_its_bound() {
    let rt = Builder::new().max_blocking_threads(3).build();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let seen_threads = rt.block_on(async {
        let jobs: Vec<_> = (0..24)
            .map(|i| {
                let running = running.clone();
                let peak = peak.clone();
                spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(2));
                    running.fetch_sub(1, Ordering::SeqCst);
                    i
                })
            })
            .collect();
        let threads = Handle::current().metrics().blocking_threads;
        let mut sum = 0;
        for j in jobs {
            sum += j.await.unwrap();
        }
        assert_eq!(sum, (0..24).sum::<i32>());
        threads
    });
    assert!(peak.load(Ordering::SeqCst) <= 3);
    assert!(seen_threads <= 3);
    assert!(rt.metrics().blocking_threads <= 3);
}

#[test]
fn idle_blocking_threads_exit() {
    let rt = Builder::new()
        .thread_keep_alive(Duration::from_millis(1))
        .build();
    rt.block_on(async { spawn_blocking(|| ()).await.unwrap() });
    // Idle threads leave after their keep-alive; wait for it without a
    // fixed sleep (bounded, so a regression fails instead of hanging).
    for _ in 0..5000 {
        if rt.metrics().blocking_threads == 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("blocking thread still alive: {:?}", rt.metrics());
}

#[test]
fn task_snapshots_name_tasks_and_count_polls() {
    weft_runtime::run(async {
        let _idle = spawn_named("idle-one", pending::<()>());
        let _busy = spawn_named("busy-one", yield_times(1000));
        yield_times(3).await;
        let tasks = Handle::current().tasks();
        let idle = tasks
            .iter()
            .find(|t| t.name.as_deref() == Some("idle-one"))
            .unwrap();
        let busy = tasks
            .iter()
            .find(|t| t.name.as_deref() == Some("busy-one"))
            .unwrap();
        assert_eq!(idle.state, TaskState::Idle);
        assert_eq!(idle.polls, 1);
        assert_eq!(busy.state, TaskState::Scheduled);
        assert!(busy.polls >= 3);
    });
}

#[test]
fn metrics_count_spawns_and_polls() {
    let rt = Runtime::new();
    rt.block_on(async {
        for _ in 0..10 {
            spawn(async {}).await.unwrap();
        }
    });
    let m = rt.metrics();
    assert_eq!(m.tasks_spawned, 10);
    assert_eq!(m.tasks_alive, 0);
    assert!(m.polls >= 20);
}

/// Records the thread that dropped it.
struct DropThread(Arc<Mutex<Option<std::thread::ThreadId>>>);

impl Drop for DropThread {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(std::thread::current().id());
    }
}

#[test]
fn a_task_freed_by_a_waker_on_another_thread_dropped_its_future_at_home() {
    let home = std::thread::current().id();
    let dropped_on = Arc::new(Mutex::new(None));
    let parked_waker: Arc<Mutex<Option<Waker>>> = Arc::default();
    let keeper = parked_waker.clone();
    weft_runtime::run({
        let dropped_on = dropped_on.clone();
        async move {
            let guard = DropThread(dropped_on);
            let not_send = Rc::new(guard);
            let h = spawn(async move {
                // Leak a waker to another thread, then finish.
                poll_fn(|cx| {
                    *keeper.lock().unwrap() = Some(cx.waker().clone());
                    Poll::Ready(())
                })
                .await;
                drop(not_send);
            });
            drop(h);
            yield_times(2).await;
        }
    });
    assert_eq!(*dropped_on.lock().unwrap(), Some(home));
    // The last reference to the task goes on another thread.
    std::thread::spawn(move || {
        let waker = parked_waker.lock().unwrap().take().unwrap();
        waker.wake();
    })
    .join()
    .unwrap();
}

#[test]
fn the_output_of_a_detached_task_is_dropped_on_the_runtime_thread() {
    let home = std::thread::current().id();
    let dropped_on = Arc::new(Mutex::new(None));
    let record = dropped_on.clone();
    weft_runtime::run(async move {
        drop(spawn(async move {
            yield_times(1).await;
            DropThread(record)
        }));
        yield_times(3).await;
    });
    assert_eq!(*dropped_on.lock().unwrap(), Some(home));
}

#[test]
fn a_join_handle_can_be_awaited_from_another_runtime_thread() {
    let (tx, rx) = std::sync::mpsc::channel();
    let rt = Runtime::new();
    let gate = Arc::new(RemoteFlag::default());
    let g = gate.clone();
    let h = rt.handle().spawn(async move {
        g.wait().await;
        String::from("across threads")
    });
    let awaiter = std::thread::spawn(move || {
        let out = weft_runtime::run(h).unwrap();
        tx.send(out).unwrap();
    });
    gate.set();
    rt.block_on(async {
        // Run until the task has finished.
        while rt_tasks_alive() > 0 {
            yield_times(1).await;
        }
    });
    awaiter.join().unwrap();
    assert_eq!(rx.recv().unwrap(), "across threads");
}

fn rt_tasks_alive() -> usize {
    Handle::current().metrics().tasks_alive
}

/// Counts the drops of everything made from it: a task's future holds one
/// `Counted`, its output another, so each ending can be checked to drop
/// both exactly once, and at the right moment.
#[derive(Clone, Default)]
struct DropCount(Rc<Cell<usize>>);

impl DropCount {
    fn counted(&self) -> Counted {
        Counted(self.0.clone())
    }

    fn get(&self) -> usize {
        self.0.get()
    }
}

#[derive(Debug)]
struct Counted(Rc<Cell<usize>>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// A task whose future holds `Counted` (and `ballast`, to make the future
/// larger than the output or not), yields `yields` times, then returns
/// another `Counted` with `output_ballast`.
fn counted_task<const F: usize, const O: usize>(
    drops: &DropCount,
    yields: usize,
) -> impl std::future::Future<Output = (Counted, [u8; O])> {
    let held = drops.counted();
    let output = drops.counted();
    async move {
        let ballast = [0u8; F];
        yield_times(yields).await;
        drop((held, ballast));
        (output, [0u8; O])
    }
}

/// Every way a task can end, with a future larger than its output and the
/// other way round: the future and the output (which share memory in the
/// task's block) are each dropped exactly once.
fn each_ending_drops_future_and_output_once<const F: usize, const O: usize>() {
    weft_runtime::run(async {
        // Awaited: the handle takes the output; the caller drops it.
        let drops = DropCount::default();
        let (output, _) = spawn(counted_task::<F, O>(&drops, 2)).await.unwrap();
        assert_eq!(drops.get(), 1, "the future, before the output came back");
        drop(output);
        assert_eq!(drops.get(), 2);

        // Handle dropped first: the runtime drops the output at once.
        let drops = DropCount::default();
        drop(spawn(counted_task::<F, O>(&drops, 2)));
        yield_times(4).await;
        assert_eq!(drops.get(), 2);

        // Handle dropped after the task finished, unread: the handle
        // drops the stored output.
        let drops = DropCount::default();
        let handle = spawn(counted_task::<F, O>(&drops, 0));
        yield_times(2).await;
        assert!(handle.is_finished());
        assert_eq!(drops.get(), 1, "the output waits for the handle");
        drop(handle);
        assert_eq!(drops.get(), 2);

        // Aborted while waiting: the future (and the output it was going
        // to return) are dropped; the handle reports a cancellation.
        let drops = DropCount::default();
        let handle = spawn(counted_task::<F, O>(&drops, 1_000));
        yield_times(2).await;
        handle.abort();
        assert!(handle.await.unwrap_err().is_cancelled());
        assert_eq!(drops.get(), 2);

        // Panicked: the future is dropped while the panic is caught.
        let drops = DropCount::default();
        let held = drops.counted();
        let err = spawn(async move {
            let _held = held;
            let ballast = [0u8; F];
            yield_times(1).await;
            panic!("on purpose, with {} bytes", ballast.len());
        })
        .await
        .unwrap_err();
        assert!(err.is_panic());
        assert_eq!(drops.get(), 1);
    });

    // Cancelled by the runtime's shutdown, the handle awaited afterwards.
    let drops = DropCount::default();
    let rt = Runtime::new();
    let handle = rt.handle().spawn(counted_task::<F, O>(&drops, 1_000));
    rt.block_on(yield_times(2));
    drop(rt);
    assert_eq!(drops.get(), 2);
    assert!(futures::executor::block_on(handle)
        .unwrap_err()
        .is_cancelled());
}

#[test]
fn a_large_future_and_its_small_output_are_each_dropped_once() {
    each_ending_drops_future_and_output_once::<512, 0>();
}

#[test]
fn a_small_future_and_its_large_output_are_each_dropped_once() {
    each_ending_drops_future_and_output_once::<0, 512>();
}

#[test]
fn a_join_handle_polled_after_its_outcome_panics_clearly() {
    weft_runtime::run(async {
        let mut handle = spawn(async { 7 });
        assert_eq!((&mut handle).await.unwrap(), 7);
        let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut cx = std::task::Context::from_waker(Waker::noop());
            let _ = std::future::Future::poll(std::pin::Pin::new(&mut handle), &mut cx);
        }));
        let payload = again.unwrap_err();
        let message = weft_tests::panic_message(&*payload).unwrap();
        assert!(message.contains("polled again"), "unclear: {message}");
    });
}

/// asyncio's `test_task_awaits_on_itself` (test_tasks.py): a task that
/// awaits itself gets `RuntimeError('Task cannot await on itself')` at
/// once. In weft its handle returns that error instead of waiting for ever;
/// the task goes on, and its outcome still reaches whoever awaits the
/// handle next.
#[test]
fn test_task_awaits_on_itself() {
    let rt = Builder::new().start_paused(true).build();
    rt.block_on(async {
        // Where the task finds its own handle, and leaves it again.
        let own: Rc<RefCell<Option<JoinHandle<&str>>>> = Rc::default();
        let seen = Rc::new(RefCell::new(None));
        let handle = spawn({
            let (own, seen) = (own.clone(), seen.clone());
            async move {
                let mut handle = own
                    .borrow_mut()
                    .take()
                    .expect("stored before the first poll");
                let error = (&mut handle)
                    .await
                    .expect_err("a task cannot await on itself");
                *seen.borrow_mut() = Some(error);
                *own.borrow_mut() = Some(handle);
                "done"
            }
        });
        *own.borrow_mut() = Some(handle);
        // Were the await to hang, the task would never report, and the
        // paused clock would jump to the end of this sleep.
        weft_runtime::sleep(Duration::from_secs(1)).await;
        let error = seen
            .borrow_mut()
            .take()
            .expect("the await on itself returned at once");
        assert!(error.is_self_await());
        assert!(!error.is_cancelled() && !error.is_panic());
        assert!(
            error.to_string().contains("cannot await on itself"),
            "{error}"
        );
        let handle = own
            .borrow_mut()
            .take()
            .expect("the task gave its handle back");
        assert_eq!(handle.await.unwrap(), "done");
    });
}

#[test]
fn a_join_handle_is_one_word() {
    // What a Vec of 100 000 handles costs: one pointer, whose low bit tells
    // a task from a blocking job.
    assert_eq!(
        std::mem::size_of::<weft_runtime::JoinHandle<u64>>(),
        std::mem::size_of::<usize>()
    );
    assert_eq!(
        std::mem::size_of::<Option<weft_runtime::JoinHandle<u64>>>(),
        std::mem::size_of::<usize>()
    );
}

#[test]
fn a_queued_blocking_job_can_be_aborted_and_a_dropped_handle_settles() {
    let rt = Builder::new().max_blocking_threads(1).build();
    rt.block_on(async {
        // The one pool thread is held until `release` is sent, so the next
        // job is certainly still queued when it is aborted.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let busy = spawn_blocking(move || held.recv().unwrap());
        let queued = spawn_blocking(|| String::from("never runs"));
        let dropped = spawn_blocking(|| String::from("dropped unread"));
        queued.abort();
        drop(dropped);
        release.send(()).unwrap();
        busy.await.unwrap();
        assert!(queued.await.unwrap_err().is_cancelled());
    });
}
