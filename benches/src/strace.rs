//! System calls of another process, counted by `strace -c -f`.
//!
//! strace slows the traced process a great deal, so counts come from
//! separate runs, never from timed ones. Two ways to take one:
//!
//! * [`Strace::attach`] to a running server child for the length of a
//!   fixed load: the server is already listening, with the load's
//!   connections not yet made, when strace attaches (`-p` takes every
//!   thread of the process); strace is stopped with SIGINT after the load,
//!   at which point it detaches and writes its summary;
//! * [`traced_run`]: a whole run of this binary under strace, which starts
//!   it (for the I/O rows of the compare binary's time table).
//!
//! The summary's `total` line holds the number of calls. If strace is not
//! installed, or the kernel refuses to let it attach, the count is `None`
//! and the report says it is unavailable instead of failing.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::server_child::wait_bounded;

/// A running `strace -c -f -p <pid>`.
///
/// ```
/// use weft_benches::strace::Strace;
///
/// // Count the calls of a short-lived child of our own.
/// let mut child = std::process::Command::new("sleep").arg("1").spawn().unwrap();
/// if let Some(tracer) = Strace::attach(child.id()) {
///     let calls = tracer.finish();
///     assert!(calls.is_none_or(|calls| calls < 1_000));
/// }
/// child.wait().unwrap();
/// ```
#[derive(Debug)]
pub struct Strace {
    child: Child,
    summary: std::path::PathBuf,
}

impl Strace {
    /// Attaches strace to `pid`; `None` if strace is missing or cannot
    /// attach.
    pub fn attach(pid: u32) -> Option<Self> {
        let summary = std::env::temp_dir().join(format!("weft-benches-strace-{pid}.txt"));
        let mut child = Command::new("strace")
            .args(["-c", "-f", "-o"])
            .arg(&summary)
            .args(["-p", &pid.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .ok()?;
        // strace says "Process N attached" on stderr once it is tracing;
        // anything else first (or end of output) means it could not attach.
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr is piped"));
        let mut line = String::new();
        let attached = stderr.read_line(&mut line).is_ok() && line.contains("attached");
        // Keep draining strace's stderr so that it never blocks on a full
        // pipe.
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        if !attached {
            eprintln!("note: strace could not attach: {}", line.trim());
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        Some(Self { child, summary })
    }

    /// Detaches and returns the total number of system calls seen.
    pub fn finish(mut self) -> Option<u64> {
        // SIGINT makes strace detach and print its summary; `kill` sends it
        // to our own child by its id.
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-INT", &pid]).status().ok()?;
        wait_bounded(&mut self.child, Duration::from_secs(30), "strace").ok()?;
        let summary = std::fs::read_to_string(&self.summary).ok()?;
        let _ = std::fs::remove_file(&self.summary);
        total_calls(&summary)
    }
}

/// Runs this binary with `args` under `strace -c -f` within `limit` and
/// returns its total number of system calls; `None` if strace is missing
/// or the run fails.
///
/// ```no_run
/// // The compare binary counts one cell of its time table this way.
/// let args = ["--child", "row", "quick", "1", "weft", "udp_echo"].map(String::from);
/// let calls = weft_benches::strace::traced_run(&args, std::time::Duration::from_secs(60));
/// ```
pub fn traced_run(args: &[String], limit: Duration) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let summary = std::env::temp_dir().join(format!(
        "weft-benches-strace-child-{}.txt",
        std::process::id()
    ));
    let mut child = Command::new("strace")
        .args(["-c", "-f", "-o"])
        .arg(&summary)
        .arg(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let status = wait_bounded(&mut child, limit, &args.join(" ")).ok()?;
    let text = std::fs::read_to_string(&summary).ok();
    let _ = std::fs::remove_file(&summary);
    if !status.success() {
        return None;
    }
    total_calls(&text?)
}

/// The `calls` column of the `total` line of an `strace -c` summary.
///
/// ```text
/// % time     seconds  usecs/call     calls    errors syscall
/// ------ ----------- ----------- --------- --------- ----------------
/// 100.00    0.001234           2       500        10 total
/// ```
fn total_calls(summary: &str) -> Option<u64> {
    let total = summary
        .lines()
        .find(|line| line.split_whitespace().last() == Some("total"))?;
    total.split_whitespace().nth(3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::total_calls;

    #[test]
    fn reads_the_total_line() {
        let summary = "% time     seconds  usecs/call     calls    errors syscall\n\
                       ------ ----------- ----------- --------- --------- ----------------\n\
                        60.00    0.000600           1       300           recvfrom\n\
                        40.00    0.000400           2       200        10 epoll_wait\n\
                       ------ ----------- ----------- --------- --------- ----------------\n\
                       100.00    0.001000           2       500        10 total\n";
        assert_eq!(total_calls(summary), Some(500));
        assert_eq!(total_calls("no summary"), None);
    }
}
