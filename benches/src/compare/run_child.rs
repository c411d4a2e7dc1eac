//! The parent's side of a child of the compare binary (see `child.rs`):
//! start `compare --child <args>`, bound it in time, read its answer.

use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

use crate::runtimes::{BenchRuntime, Smol, Tokio, Weft};
use crate::server_child::wait_bounded;

/// The first argument that makes the compare binary a child.
pub const CHILD_FLAG: &str = "--child";

/// The runtimes a child can be asked for, by the names the report prints.
pub(crate) const RUNTIMES: [&str; 3] = [Weft::NAME, Tokio::NAME, Smol::NAME];

/// A child's answer: its `key=value` fields.
#[derive(Debug, Default)]
pub(crate) struct Fields(HashMap<String, String>);

impl Fields {
    /// Parses `key=value` pairs separated by spaces.
    pub(crate) fn parse(line: &str) -> Self {
        Self(
            line.split_whitespace()
                .filter_map(|pair| pair.split_once('='))
                .map(|(key, value)| (key.to_owned(), value.to_owned()))
                .collect(),
        )
    }

    /// The field `key` as a number.
    pub(crate) fn number(&self, key: &str) -> Result<f64, String> {
        self.0
            .get(key)
            .ok_or_else(|| format!("the child's answer has no field {key}"))?
            .parse()
            .map_err(|_| format!("the child's field {key} is not a number"))
    }
}

/// Runs `compare --child <args>` to completion within `limit` and returns
/// the fields of its last stdout line.
pub(crate) fn run_child(args: &[String], limit: Duration) -> Result<Fields, String> {
    let mut child = spawn_child(args, Stdio::null())?;
    let stdout = child.stdout.take().expect("stdout is piped");
    // Read on a thread so that a child writing more than a pipe holds
    // cannot block while the parent waits for it to exit.
    let reader = thread::spawn(move || {
        let mut text = String::new();
        BufReader::new(stdout)
            .read_to_string(&mut text)
            .map(|_| text)
    });
    let status = wait_bounded(&mut child, limit, &args.join(" "))?;
    let text = reader
        .join()
        .expect("the reader thread does not panic")
        .map_err(|e| format!("reading the child's answer: {e}"))?;
    if !status.success() {
        return Err(format!("child {} failed ({status})", args.join(" ")));
    }
    let last = text.lines().last().unwrap_or_default();
    Ok(Fields::parse(last))
}

/// Starts `compare --child <args>` with piped stdout and `stdin` as its
/// standard input.
fn spawn_child(args: &[String], stdin: Stdio) -> Result<Child, String> {
    let exe = std::env::current_exe().map_err(|e| format!("finding the compare binary: {e}"))?;
    Command::new(exe)
        .arg(CHILD_FLAG)
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("starting child {}: {e}", args.join(" ")))
}
