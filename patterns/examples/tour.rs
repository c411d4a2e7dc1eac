//! A tour of weft: the runtime at work, then the primitives, printed as it
//! goes. Run it with:
//!
//! ```text
//! cargo run --release -p weft-patterns --example tour
//! ```

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_primitives::{Barrier, Condition, Event, Lock, Mutex, PriorityQueue, Queue, Semaphore};
use weft_runtime::{
    as_completed, join_all, sleep, spawn, spawn_blocking, spawn_named, timeout, try_join_all,
    Handle, TaskGroup,
};

fn main() {
    let started = Instant::now();
    weft_runtime::run(async {
        runtime_tour().await;
        primitives_tour().await;
        let m = Handle::current().metrics();
        println!(
            "\nmetrics: {} tasks spawned, {} polls, {} local / {} remote wake-ups, {} timers fired, {} parks",
            m.tasks_spawned, m.polls, m.local_wakeups, m.remote_wakeups, m.timers_fired, m.parks
        );
    });
    println!("tour finished in {:?}", started.elapsed());
}

async fn runtime_tour() {
    println!("== runtime");

    // create_task + await
    let h = spawn(async { 40 + 2 });
    sleep(Duration::from_millis(5)).await;
    println!("spawned task answered {}", h.await.unwrap());

    // gather: all results, in input order
    let squares = join_all((1..=5u64).map(|i| async move {
        sleep(Duration::from_millis(6 - i)).await;
        i * i
    }))
    .await;
    println!("join_all (gather) -> {squares:?}");

    // as_completed: results in completion order
    let mut done = as_completed((1..=3u64).map(|i| async move {
        sleep(Duration::from_millis(10 * (4 - i))).await;
        i
    }));
    let mut order = Vec::new();
    while let Some(i) = done.next().await {
        order.push(i);
    }
    println!("as_completed order -> {order:?}");

    // gather without return_exceptions: first error cancels the rest
    type Job = std::pin::Pin<Box<dyn std::future::Future<Output = Result<u32, String>>>>;
    let jobs: Vec<Job> = vec![
        Box::pin(async { Ok(1) }),
        Box::pin(async { Err("the second one failed".to_string()) }),
        Box::pin(async {
            sleep(Duration::from_secs(3600)).await;
            Ok(3)
        }),
    ];
    let failed = try_join_all(jobs).await;
    println!("try_join_all -> {failed:?} (the hour-long one was cancelled)");

    // wait_for
    let slow = timeout(Duration::from_millis(10), sleep(Duration::from_secs(10))).await;
    if let Err(elapsed) = slow {
        println!("timeout on a 10 s sleep after 10 ms -> {elapsed}");
    }

    // TaskGroup: the first failure cancels its siblings; every error is reported
    let group = TaskGroup::new();
    group.spawn(async {
        sleep(Duration::from_millis(2)).await;
        Err::<u32, _>("worker 1 failed")
    });
    group.spawn(async {
        sleep(Duration::from_secs(60)).await;
        Ok(2)
    });
    match group.join().await {
        Ok(values) => println!("task group -> {values:?}"),
        Err(e) => println!("task group -> {e}"),
    }

    // to_thread
    let sum = spawn_blocking(|| (1..=1_000_000u64).sum::<u64>())
        .await
        .unwrap();
    println!("spawn_blocking summed 1..=1e6 on a pool thread -> {sum}");

    // a task that panics does not take the runtime down (the default hook
    // would print a backtrace for this deliberate panic: muted here)
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let err = spawn_named("doomed", async { panic!("on purpose") })
        .await
        .unwrap_err();
    std::panic::set_hook(hook);
    println!("a panicking task -> {err}");
}

async fn primitives_tour() {
    println!("\n== primitives");

    // Lock: one task at a time in the critical section
    let counter = Rc::new(Mutex::new(0u32));
    let workers: Vec<_> = (0..10)
        .map(|_| {
            let counter = counter.clone();
            spawn(async move {
                for _ in 0..100 {
                    let mut n = counter.lock().await;
                    weft_runtime::yield_now().await; // hold the lock across a yield
                    *n += 1;
                }
            })
        })
        .collect();
    join_all(workers).await;
    println!(
        "Mutex: 10 tasks x 100 increments -> {}",
        *counter.lock().await
    );

    let lock = Lock::new(());
    {
        let _guard = lock.acquire().await;
        println!("Lock: locked() while held -> {}", lock.locked());
    }

    // Semaphore: at most 3 at once
    let sem = Rc::new(Semaphore::new(3));
    let peak = Rc::new(std::cell::Cell::new(0usize));
    let inside = Rc::new(std::cell::Cell::new(0usize));
    join_all((0..12).map(|_| {
        let (sem, peak, inside) = (sem.clone(), peak.clone(), inside.clone());
        async move {
            let _permit = sem.acquire().await.unwrap();
            inside.set(inside.get() + 1);
            peak.set(peak.get().max(inside.get()));
            sleep(Duration::from_millis(1)).await;
            inside.set(inside.get() - 1);
        }
    }))
    .await;
    println!(
        "Semaphore(3): 12 tasks, at most {} inside at once",
        peak.get()
    );

    // Event: every waiter released by one set()
    let event = Arc::new(Event::new());
    let waiters: Vec<_> = (0..5)
        .map(|i| {
            let event = event.clone();
            spawn(async move {
                event.wait().await;
                i
            })
        })
        .collect();
    sleep(Duration::from_millis(1)).await;
    event.set();
    let released = join_all(waiters).await.len();
    println!("Event: set() released {released} waiters");

    // Condition: a consumer waits until the producer says there is data
    let cond = Rc::new(Condition::with_value(Vec::<u32>::new()));
    let consumer = {
        let cond = cond.clone();
        spawn(async move {
            let guard = cond.lock().await;
            let guard = cond.wait_for(guard, |items| items.len() >= 3).await;
            guard.clone()
        })
    };
    for i in 0..3 {
        cond.lock().await.push(i);
        cond.notify_all();
        weft_runtime::yield_now().await;
    }
    println!(
        "Condition: consumer woke with {:?}",
        consumer.await.unwrap()
    );

    // Barrier: three parties meet; one is the leader
    let barrier = Arc::new(Barrier::new(3));
    let parties: Vec<_> = (0..3)
        .map(|_| {
            let barrier = barrier.clone();
            spawn(async move { barrier.wait().await.unwrap().is_leader() })
        })
        .collect();
    let leaders = join_all(parties)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    println!("Barrier(3): all met, {leaders} leader");

    // Queue: producer-consumer with back-pressure, task_done and join
    let queue = Rc::new(Queue::new(4));
    let consumer = {
        let queue = queue.clone();
        spawn(async move {
            let mut total = 0;
            let mut items = queue.items();
            while let Some(item) = items.next().await {
                total += item;
                queue.task_done().unwrap();
            }
            total
        })
    };
    for i in 1..=100u64 {
        queue.put(i).await.unwrap(); // waits while 4 items are queued
    }
    queue.join().await; // every item processed
    queue.shutdown(false);
    println!(
        "Queue(4): 100 items through a bounded queue, sum {}",
        consumer.await.unwrap()
    );

    // PriorityQueue: smallest first, like heapq
    let pq = PriorityQueue::new(0);
    for job in [(3, "low"), (1, "urgent"), (2, "normal")] {
        pq.put_nowait(job).unwrap();
    }
    let mut order = Vec::new();
    while let Ok((_, name)) = pq.get_nowait() {
        order.push(name);
    }
    println!("PriorityQueue order -> {order:?}");

    // put_nowait on a full queue hands the item back
    let full = Queue::new(1);
    full.put_nowait("first").unwrap();
    let err = full.put_nowait("second").unwrap_err();
    println!("put_nowait on a full queue -> {err}");
}
