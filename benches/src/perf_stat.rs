//! System calls of another process, counted by the kernel as they happen:
//! the `raw_syscalls:sys_enter` tracepoint, read through `perf stat`.
//!
//! strace stops the traced process at every call and so changes what it
//! counts: a slowed server finds the socket in another state at each call
//! (on a bulk echo, weft's and tokio's servers both make about 55 calls per
//! MiB under strace and about 33 without it). A counting tracepoint costs
//! the process a few nanoseconds per call, so its count can come from the
//! timed run itself, at the timing being measured.
//!
//! perf starts with its counter disabled (`-D -1`) and takes commands on a
//! control fifo, acknowledging each on a second one. [`PerfStat::attach`]
//! returns only once perf has acknowledged `enable`, so no call of the
//! measured stretch is missed; SIGINT then makes perf write the count and
//! exit:
//!
//! ```text
//!   attach: mkfifo ctl, ack ── perf stat -D -1 --control fifo:ctl,ack -p <pid> ── "enable" ▶ ctl
//!                                                                              ◀ "ack"    ── ack
//!   (the measured stretch)
//!   finish: SIGINT ▶ perf ── writes "<calls>,,raw_syscalls:sys_enter,…" ──▶ calls
//! ```
//!
//! Tracepoints need privilege (root, `CAP_PERFMON`, or
//! `kernel.perf_event_paranoid` at -1). Without perf or the privilege,
//! [`PerfStat::attach`] returns `None` and the caller reports the count as
//! unavailable.

use std::ffi::CString;
use std::fs::OpenOptions;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::server_child::wait_bounded;

/// The tracepoint counted: every system call's entry.
const EVENT: &str = "raw_syscalls:sys_enter";

/// How long perf may take to attach, or to exit after SIGINT.
const PERF_LIMIT: Duration = Duration::from_secs(10);

/// A running `perf stat -e raw_syscalls:sys_enter -p <pid>`, counting.
///
/// ```
/// use weft_benches::perf_stat::PerfStat;
///
/// // Count the calls of a short-lived child of our own.
/// let mut child = std::process::Command::new("sleep").arg("1").spawn().unwrap();
/// if let Some(counter) = PerfStat::attach(child.id()) {
///     let calls = counter.finish();
///     assert!(calls.is_none_or(|calls| calls < 1_000));
/// }
/// child.wait().unwrap();
/// ```
#[derive(Debug)]
pub struct PerfStat {
    child: Child,
    /// Holds the two fifos and perf's output file.
    dir: PathBuf,
}

impl PerfStat {
    /// Attaches perf to every thread of process `pid` and returns once it
    /// counts; `None` if perf is missing or may not count there.
    pub fn attach(pid: u32) -> Option<Self> {
        let dir =
            std::env::temp_dir().join(format!("weft-benches-perf-{}-{pid}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let (control, ack) = (dir.join("control"), dir.join("ack"));
        if !(make_fifo(&control) && make_fifo(&ack)) {
            let _ = std::fs::remove_dir_all(&dir);
            return None;
        }
        let child = Command::new("perf")
            .args(["stat", "-x,", "-D", "-1", "-e", EVENT, "--control"])
            .arg(format!("fifo:{},{}", control.display(), ack.display()))
            .arg("-o")
            .arg(dir.join("count"))
            .args(["-p", &pid.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else {
            let _ = std::fs::remove_dir_all(&dir);
            return None;
        };
        let mut counter = Self { child, dir };
        if counter.enable(&control, &ack) {
            Some(counter)
        } else {
            counter.abandon();
            None
        }
    }

    /// Sends `enable` and waits for perf's acknowledgement, for at most
    /// [`PERF_LIMIT`]; false if perf exits or does not answer.
    fn enable(&mut self, control: &Path, ack: &Path) -> bool {
        let deadline = Instant::now() + PERF_LIMIT;
        // Open the acknowledgement fifo first: perf blocks opening it for
        // writing until a reader is there. Non-blocking opens and reads, so
        // that a perf that died early cannot hang us.
        let Ok(mut ack) = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(ack)
        else {
            return false;
        };
        let mut control = loop {
            // Fails (ENXIO) until perf has opened its end.
            match OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(control)
            {
                Ok(control) => break control,
                Err(_) if self.waiting(deadline) => thread::sleep(Duration::from_millis(1)),
                Err(_) => return false,
            }
        };
        if control.write_all(b"enable\n").is_err() {
            return false;
        }
        let mut answer = Vec::new();
        loop {
            let mut buf = [0; 16];
            match ack.read(&mut buf) {
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return false,
            }
            if answer.starts_with(b"ack\n") {
                return true;
            }
            if !self.waiting(deadline) {
                return false;
            }
            thread::sleep(Duration::from_millis(1));
        }
    }

    /// Whether perf is still running and `deadline` has not passed.
    fn waiting(&mut self, deadline: Instant) -> bool {
        matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline
    }

    /// Stops perf and returns the system calls it counted since
    /// [`attach`](Self::attach) returned.
    pub fn finish(mut self) -> Option<u64> {
        // SIGINT makes perf stop counting and write its output; `kill`
        // sends it to our own child by its id.
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-INT", &pid]).status().ok()?;
        wait_bounded(&mut self.child, PERF_LIMIT, "perf stat").ok()?;
        let output = std::fs::read_to_string(self.dir.join("count")).ok();
        let _ = std::fs::remove_dir_all(&self.dir);
        counted_calls(&output?)
    }

    /// Ends a perf that did not start counting.
    fn abandon(mut self) {
        // Our own child, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Makes a fifo at `path`; false if that fails.
fn make_fifo(path: &Path) -> bool {
    let Ok(path) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `mkfifo` reads the NUL-terminated path, which lives until
    // the call returns.
    unsafe { libc::mkfifo(path.as_ptr(), 0o600) == 0 }
}

/// The count of the `-x,` line naming [`EVENT`]; `None` if perf did not
/// count it (`<not counted>`, `<not supported>`).
///
/// ```text
/// # started on ...
///
/// 2112,,raw_syscalls:sys_enter,48582441,100.00,,
/// ```
fn counted_calls(output: &str) -> Option<u64> {
    output
        .lines()
        .map(|line| line.split(',').collect::<Vec<_>>())
        .find(|fields| fields.get(2) == Some(&EVENT))?
        .first()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::counted_calls;

    #[test]
    fn reads_the_event_line() {
        let output = "# started on Thu Dec  3 06:29:00 2026\n\n\
                      904,,raw_syscalls:sys_enter,9028851,100.00,,Events disabled\n\
                      Events enabled\n";
        assert_eq!(counted_calls(output), Some(904));
        let uncounted = "<not counted>,,raw_syscalls:sys_enter,0,100.00,,\n";
        assert_eq!(counted_calls(uncounted), None);
        assert_eq!(counted_calls("no count"), None);
    }
}
