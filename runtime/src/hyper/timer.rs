//! [`WeftTimer`]: hyper's `rt::Timer` on weft's timing wheel.
//!
//! hyper asks its timer for `Pin<Box<dyn rt::Sleep>>`, which must be
//! `Send + Sync`; weft's own [`Sleep`] is, so it is handed over as it is, and
//! `reset` moves its deadline in place (O(1) in the wheel) rather than
//! allocating a new one. `now` is the runtime's clock, so hyper's timeouts
//! follow a paused clock in tests too.

use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::time::{self, Sleep};

/// hyper's `rt::Timer` on the current weft runtime's timers: give it to a
/// connection builder's `.timer(...)` to enable hyper's timeouts (HTTP/1
/// `header_read_timeout`, HTTP/2 keep-alive pings).
///
/// The sleeps it makes are weft [`Sleep`]s: they must be polled inside a
/// weft runtime, which is where hyper polls them when its connection runs
/// as a weft task.
///
/// ```
/// use std::time::Duration;
/// use hyper::rt::Timer;
/// use weft_runtime::hyper::WeftTimer;
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let start = WeftTimer.now();
///     WeftTimer.sleep(Duration::from_secs(30)).await;
///     assert_eq!(WeftTimer.now() - start, Duration::from_secs(30));
/// });
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct WeftTimer;

impl hyper::rt::Sleep for Sleep {}

impl hyper::rt::Timer for WeftTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(time::sleep(duration))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(time::sleep_until(deadline))
    }

    fn now(&self) -> Instant {
        time::now()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<Sleep>() {
            Some(ours) => ours.get_mut().reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use hyper::rt::Timer;

    use super::*;

    #[test]
    fn reset_moves_a_weft_sleep_in_place() {
        let rt = crate::Builder::new().start_paused(true).build();
        rt.block_on(async {
            let start = time::now();
            let mut nap = WeftTimer.sleep(Duration::from_secs(10));
            let before: *const dyn hyper::rt::Sleep = &*nap;
            WeftTimer.reset(&mut nap, start + Duration::from_secs(3));
            assert!(std::ptr::addr_eq(before, &*nap), "no new allocation");
            nap.await;
            assert_eq!(time::now(), start + Duration::from_secs(3));
        });
    }

    #[test]
    fn a_timer_shared_across_threads_sleeps_on_each_threads_runtime() {
        let timer: Arc<dyn Timer + Send + Sync> = Arc::new(WeftTimer);
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let timer = timer.clone();
                std::thread::spawn(move || {
                    crate::Builder::new()
                        .start_paused(true)
                        .build()
                        .block_on(async move {
                            let start = timer.now();
                            timer.sleep(Duration::from_secs(60)).await;
                            timer.now() - start
                        })
                })
            })
            .collect();
        for thread in threads {
            assert_eq!(thread.join().unwrap(), Duration::from_secs(60));
        }
    }
}
