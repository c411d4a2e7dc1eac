//! CPU time of another process (a server child), from `/proc`.
//!
//! `/proc/<pid>/task/<tid>/schedstat` starts with the nanoseconds the
//! thread has run on a CPU, user and kernel time together. Summed over the
//! process's threads (smol's server has a second thread, async-io's
//! reactor), it is the server's whole CPU cost, at nanosecond resolution
//! rather than the 10 ms ticks of `/proc/<pid>/stat`. The echo servers
//! start no thread during a measurement, so no exited thread's time is
//! missing from the sum.

use std::fs;
use std::io;
use std::time::Duration;

/// CPU time used so far by every live thread of process `pid`.
///
/// The kernel brings a thread's figure up to date when the thread leaves
/// the CPU (or at a scheduler tick), so a thread that has run without a
/// break since it started may still read zero.
///
/// ```
/// use std::time::Duration;
///
/// // Leave the CPU once, so that this thread's time so far is counted.
/// std::thread::sleep(Duration::from_millis(1));
/// let used = weft_benches::cpu::process_cpu(std::process::id()).unwrap();
/// assert!(used > Duration::ZERO);
/// ```
pub fn process_cpu(pid: u32) -> io::Result<Duration> {
    let mut total = 0u64;
    for task in fs::read_dir(format!("/proc/{pid}/task"))? {
        let schedstat = fs::read_to_string(task?.path().join("schedstat"))?;
        let on_cpu = schedstat
            .split_whitespace()
            .next()
            .and_then(|nanos| nanos.parse::<u64>().ok())
            .ok_or_else(|| io::Error::other("unexpected /proc schedstat format"))?;
        total += on_cpu;
    }
    Ok(Duration::from_nanos(total))
}
