//! A server under test in a child process of its own, so that its resident
//! set, CPU time and system calls are its own and nothing else's.
//!
//! A server child is either the benchmark binary run again with
//! [`SERVE_FLAG`] and the server's name, or `python3` running an asyncio
//! server around a connection handler given as Python source. Either way
//! the child binds 127.0.0.1 port 0, prints `port=N` as its first line on
//! stdout, and serves until its stdin closes:
//!
//! ```text
//!   parent ── spawn ────────────▶ child: bind 127.0.0.1:0, print "port=N"
//!          ◀── "port=N" ─────────┘       serve connections …
//!          ── close its stdin ──▶ child exits (so does a child whose parent died)
//! ```
//!
//! The child side is [`announce`] and [`exit_when_stdin_closes`] (the
//! asyncio script does both itself). Every wait on a child is bounded
//! ([`wait_bounded`]), so a server that hangs cannot hang a benchmark.

use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The first argument that makes a benchmark binary serve as a child:
/// `<binary> --serve <server name>`.
pub const SERVE_FLAG: &str = "--serve";

/// How long a server child may take to exit once its stdin is closed.
const STOP_LIMIT: Duration = Duration::from_secs(10);

/// How a server child is started.
#[derive(Debug, Clone, Copy)]
pub enum Launch {
    /// The running binary again, with [`SERVE_FLAG`] and the server's name;
    /// its `main` must hand that to the server.
    ThisBinary,
    /// `python3 -c <script>`: an `asyncio.start_server` on 127.0.0.1 port 0
    /// (backlog 1024) whose connection handler is `handler`, the source of
    /// a top-level `async def handle(reader, writer)`. Skipped on a machine
    /// without `python3`.
    Asyncio {
        /// Python source defining `async def handle(reader, writer)`.
        handler: &'static str,
    },
}

/// The asyncio server around a handler: prints its port, serves until
/// stdin closes.
const ASYNCIO_MAIN: &str = r#"
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    print("port=%d" % server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

def exit_when_stdin_closes():
    sys.stdin.read()
    os._exit(0)

threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
asyncio.run(main())
"#;

/// A server running in a child process, and the address it listens on.
///
/// ```no_run
/// use weft_benches::server_child::{Launch, ServerChild};
///
/// const HANDLER: &str = "
/// async def handle(reader, writer):
///     writer.write(await reader.read(100))
///     await writer.drain()
///     writer.close()
/// ";
/// if let Some(server) = ServerChild::start("asyncio", Launch::Asyncio { handler: HANDLER }).unwrap() {
///     println!("asyncio serves on {} as process {}", server.addr(), server.pid());
///     server.stop().unwrap();
/// }
/// ```
#[derive(Debug)]
pub struct ServerChild {
    name: &'static str,
    child: Child,
    addr: SocketAddr,
}

impl ServerChild {
    /// Starts the server called `name` as `launch` says and waits for its
    /// port; `None` if it needs a program this machine lacks (`python3`).
    pub fn start(name: &'static str, launch: Launch) -> Result<Option<Self>, String> {
        let mut command = match launch {
            Launch::Asyncio { handler } => {
                let mut command = Command::new("python3");
                let script =
                    format!("import asyncio, os, sys, threading\n{handler}\n{ASYNCIO_MAIN}");
                command.arg("-c").arg(script);
                command
            }
            Launch::ThisBinary => {
                let exe =
                    std::env::current_exe().map_err(|e| format!("finding this binary: {e}"))?;
                let mut command = Command::new(exe);
                command.args([SERVE_FLAG, name]);
                command
            }
        };
        let spawned = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e)
                if matches!(launch, Launch::Asyncio { .. })
                    && e.kind() == io::ErrorKind::NotFound =>
            {
                return Ok(None)
            }
            Err(e) => return Err(format!("starting the {name} server: {e}")),
        };
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout is piped");
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| format!("reading the {name} server's port: {e}"))?;
        let Some(port) = line
            .trim()
            .strip_prefix("port=")
            .and_then(|port| port.parse::<u16>().ok())
        else {
            // Our own child, by its handle.
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("the {name} server said {line:?}, not port=N"));
        };
        Ok(Some(Self {
            name,
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }))
    }

    /// The server's name, as it was started.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Where the server listens: 127.0.0.1 and the port it chose.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The child's process id, for `/proc` and strace.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Closes the server's stdin, which makes it exit, and waits for it
    /// (killing it if it has not exited after ten seconds).
    pub fn stop(mut self) -> Result<(), String> {
        drop(self.child.stdin.take());
        let what = format!("{} server", self.name);
        wait_bounded(&mut self.child, STOP_LIMIT, &what).map(drop)
    }
}

/// The child side: prints `port=N` for `addr` on stdout, the line
/// [`ServerChild::start`] waits for.
///
/// ```
/// weft_benches::server_child::announce("127.0.0.1:8080".parse().unwrap()).unwrap();
/// ```
pub fn announce(addr: SocketAddr) -> io::Result<()> {
    println!("port={}", addr.port());
    io::stdout().flush()
}

/// The child side: starts a thread that ends the process as soon as its
/// stdin closes, which is how [`ServerChild::stop`] (or the parent's death)
/// stops a server.
///
/// ```no_run
/// weft_benches::server_child::exit_when_stdin_closes();
/// // ... serve forever ...
/// ```
pub fn exit_when_stdin_closes() {
    thread::spawn(|| {
        let _ = io::copy(&mut io::stdin(), &mut io::sink());
        std::process::exit(0);
    });
}

/// Waits for `child` to exit, killing it if `limit` passes first; `what`
/// names it in the error.
///
/// ```
/// use std::process::Command;
/// use std::time::Duration;
/// use weft_benches::server_child::wait_bounded;
///
/// let mut child = Command::new("true").spawn().unwrap();
/// assert!(wait_bounded(&mut child, Duration::from_secs(10), "true").unwrap().success());
/// ```
pub fn wait_bounded(child: &mut Child, limit: Duration, what: &str) -> Result<ExitStatus, String> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            // Our own child, by its handle: nothing else is touched.
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("child {what} did not finish within {limit:?}"));
        }
        thread::sleep(Duration::from_millis(5));
    }
}
