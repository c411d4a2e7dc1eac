//! A host loop that owns its thread and drives weft one turn at a time, the
//! way a game loop, a GUI toolkit or a sync library embeds a runtime.
//!
//! ```text
//! cargo run -p weft-runtime --example host_loop -- [TASKS]
//! ```
//!
//! Each frame the loop does its own work (here it advances a small
//! simulation), then calls `Runtime::turn`, which polls the ready tasks,
//! fires the due timers and takes I/O events. With nothing ready it waits,
//! with `poll(2)`, on the runtime's fd (readable when weft has I/O, or when
//! another thread spawned or woke a task) until weft's next timer or the
//! next frame, whichever comes first.
//!
//! ```text
//!   loop ── frame work ── rt.turn(ZERO) ── tasks ready? ── yes ──▶ next frame
//!                                              │ no
//!                                              ▼
//!                 poll(weft fd, min(next timer, frame time)) ──▶ next frame
//! ```
//!
//! Meanwhile another thread feeds the runtime through a `Spawner`, in
//! bursts: `Send` tasks with `spawn`, and, with `spawn_local`, closures that
//! build tasks on the loop's thread (these use weft's timers). The loop
//! ends by itself once every task has reported, and prints a summary.

#[cfg(unix)]
fn main() {
    host::main();
}

#[cfg(not(unix))]
fn main() {
    eprintln!("host_loop waits on the runtime's fd with poll(2): Unix only");
}

#[cfg(unix)]
mod host {
    use std::os::fd::AsRawFd;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::thread;
    use std::time::{Duration, Instant};

    use weft_runtime::{Runtime, Spawner};

    /// How long a frame lasts at most when nothing happens (60 frames/s).
    const FRAME: Duration = Duration::from_micros(16_667);
    /// The feeder sends its tasks in this many bursts.
    const BURSTS: u64 = 10;

    /// What the tasks report to the loop: how many finished, and the sum
    /// of their results.
    #[derive(Default)]
    struct Report {
        done: AtomicU64,
        sum: AtomicU64,
    }

    impl Report {
        fn add(&self, value: u64) {
            self.sum.fetch_add(value, Ordering::Relaxed);
            self.done.fetch_add(1, Ordering::Release);
        }
    }

    pub(super) fn main() {
        let tasks: u64 = std::env::args()
            .nth(1)
            .map(|n| n.parse().expect("TASKS is a number"))
            .unwrap_or(2_000);
        let rt = Runtime::new();
        let report = Arc::new(Report::default());
        let feeder = {
            let (spawner, report) = (rt.spawner(), report.clone());
            thread::spawn(move || feed(&spawner, &report, tasks))
        };

        let start = Instant::now();
        let (mut frames, mut waits, mut simulation) = (0u64, 0u64, 0u64);
        while report.done.load(Ordering::Acquire) < tasks {
            frames += 1;
            // The host's own work for this frame.
            simulation = simulation
                .wrapping_mul(6364136223846793005)
                .wrapping_add(frames);

            let turn = rt.turn(Some(Duration::ZERO));
            if turn.tasks_ready {
                continue;
            }
            let until_timer = turn
                .next_timer
                .map(|due| due.saturating_duration_since(Instant::now()));
            let wait = until_timer.map_or(FRAME, |t| t.min(FRAME));
            waits += 1;
            wait_readable(&rt, wait);
        }
        feeder.join().expect("the feeder thread panicked");

        let expected: u64 = (0..tasks).map(|i| i * 2).sum();
        let sum = report.sum.load(Ordering::Relaxed);
        assert_eq!(sum, expected, "every task reported its own result");
        println!(
            "host_loop: {tasks} tasks from another thread done in {:?}: {frames} frames, \
             {waits} waits on the weft fd, {} timers fired, sum {sum} (simulation {:x})",
            start.elapsed(),
            rt.metrics().timers_fired,
            simulation & 0xffff,
        );
    }

    /// The other thread: spawns `tasks` tasks onto the runtime in bursts.
    fn feed(spawner: &Spawner, report: &Arc<Report>, tasks: u64) {
        for burst in 0..BURSTS {
            for i in (burst * tasks / BURSTS)..((burst + 1) * tasks / BURSTS) {
                let report = report.clone();
                let spawned = if i % 2 == 0 {
                    // A `Send` task: plain computation.
                    spawner.spawn(async move { report.add(i * 2) }).map(drop)
                } else {
                    // Built on the loop's thread, so it may use weft's
                    // (thread-bound) timers.
                    spawner
                        .spawn_local(move || async move {
                            weft_runtime::sleep(Duration::from_millis(i % 7)).await;
                            report.add(i * 2);
                        })
                        .map(drop)
                };
                spawned.expect("the runtime runs until every task reported");
            }
            thread::sleep(Duration::from_millis(3));
        }
    }

    /// Waits until the runtime's fd is readable, or for `timeout`.
    fn wait_readable(rt: &Runtime, timeout: Duration) {
        let mut pollfd = libc::pollfd {
            fd: rt.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // Rounded up: waking a little late costs nothing, early spins.
        let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        // SAFETY: one valid `pollfd`, for the duration of the call.
        let n = unsafe { libc::poll(&mut pollfd, 1, ms) };
        if n < 0 {
            let err = std::io::Error::last_os_error();
            assert_eq!(
                err.kind(),
                std::io::ErrorKind::Interrupted,
                "poll failed: {err}"
            );
        }
    }
}
