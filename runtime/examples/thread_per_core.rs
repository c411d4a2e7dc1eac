//! Thread per core: N weft runtimes, one per thread, each with its own
//! `SO_REUSEPORT` listener on the same address, serving the echo protocol.
//!
//! ```text
//! cargo run -p weft-runtime --example thread_per_core -- [ADDR] [--threads N] [--exit-after N] [--self-test K]
//! ```
//!
//! A weft runtime is single-threaded, so to use every core a server runs
//! one runtime per core and lets the kernel spread the connections: every
//! thread binds its own socket to the same address with `SO_REUSEPORT`,
//! and the kernel hands each new connection to one of them (on Linux by a
//! hash of the connection's addresses). No state is shared between the
//! threads but two atomics: the count of connections served and the stop
//! signal (a `weft_primitives::Event`, which any thread may set).
//!
//! ```text
//!            ┌─ thread 0: runtime ─ listener (SO_REUSEPORT) ─ accept ─ echo tasks
//!  clients ──┼─ thread 1: runtime ─ listener (SO_REUSEPORT) ─ accept ─ echo tasks
//!  (kernel   ┆
//!   spreads) └─ thread N-1: …
//! ```
//!
//! `ADDR` defaults to `127.0.0.1:7878`; port 0 lets the OS pick one (the
//! first thread binds, the others join it on the port it got). `--threads`
//! defaults to the number of cores. The server runs until Ctrl-C, or with
//! `--exit-after N` until N connections were served. `--self-test K` starts
//! K clients on a thread of their own, checks every echo, prints how the
//! connections spread over the threads and exits, which is how CI runs it:
//!
//! ```text
//! cargo run -p weft-runtime --example thread_per_core -- 127.0.0.1:0 --self-test 64
//! ```

#[cfg(unix)]
fn main() -> std::process::ExitCode {
    server::main()
}

#[cfg(not(unix))]
fn main() {
    eprintln!("thread_per_core: SO_REUSEPORT, which this example needs, is a Unix option");
}

#[cfg(unix)]
mod server {
    use std::net::SocketAddr;
    use std::process::ExitCode;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{mpsc, Arc};
    use std::thread;

    use weft_primitives::Event;
    use weft_runtime::net::{ListenOptions, TcpListener, TcpStream};
    use weft_runtime::{select2, spawn};

    struct Options {
        addr: String,
        threads: usize,
        exit_after: Option<usize>,
        self_test: Option<usize>,
    }

    const USAGE: &str =
        "usage: thread_per_core [ADDR] [--threads N] [--exit-after N] [--self-test K]";

    fn parse_args() -> Result<Options, String> {
        let mut options = Options {
            addr: "127.0.0.1:7878".to_string(),
            threads: thread::available_parallelism().map_or(1, |n| n.get()),
            exit_after: None,
            self_test: None,
        };
        let mut args = std::env::args().skip(1);
        let number = |flag: &str, value: Option<String>| -> Result<usize, String> {
            let value = value.ok_or(format!("{flag} needs a number; {USAGE}"))?;
            match value.parse() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!("{flag} {value}: not a positive number; {USAGE}")),
            }
        };
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--threads" => options.threads = number("--threads", args.next())?,
                "--exit-after" => options.exit_after = Some(number("--exit-after", args.next())?),
                "--self-test" => options.self_test = Some(number("--self-test", args.next())?),
                flag if flag.starts_with('-') => {
                    return Err(format!("unknown option {flag}; {USAGE}"))
                }
                _ => options.addr = arg,
            }
        }
        Ok(options)
    }

    /// What the threads share: connections served so far, the number that
    /// ends the run, and the stop signal.
    struct Shared {
        served: AtomicUsize,
        exit_after: Option<usize>,
        stop: Event,
    }

    /// Echoes one connection until the client ends its side.
    async fn echo(mut stream: TcpStream) -> std::io::Result<()> {
        let mut buf = vec![0; 16 * 1024];
        loop {
            match stream.read(&mut buf).await? {
                0 => return Ok(()),
                n => stream.write_all(&buf[..n]).await?,
            }
        }
    }

    /// One thread's server: its own runtime and listener, until the stop
    /// signal. Reports the bound address (or the error) once listening and
    /// returns how many connections it served.
    fn serve(
        addr: String,
        shared: Arc<Shared>,
        ready: mpsc::Sender<std::io::Result<SocketAddr>>,
    ) -> usize {
        weft_runtime::run(async move {
            let options = ListenOptions::new().reuse_port(true);
            let mut listener = match TcpListener::bind_with(addr.as_str(), &options).await {
                Ok(listener) => listener,
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return 0;
                }
            };
            let _ = ready.send(listener.local_addr());
            let served_here = std::rc::Rc::new(std::cell::Cell::new(0));
            let accepting = Box::pin(async {
                loop {
                    let (stream, _) = match listener.accept().await {
                        Ok(accepted) => accepted,
                        Err(e) => {
                            eprintln!("thread_per_core: accept failed: {e}");
                            continue;
                        }
                    };
                    let (shared, served_here) = (shared.clone(), served_here.clone());
                    spawn(async move {
                        if let Err(e) = echo(stream).await {
                            eprintln!("thread_per_core: connection failed: {e}");
                        }
                        served_here.set(served_here.get() + 1);
                        let total = shared.served.fetch_add(1, Ordering::SeqCst) + 1;
                        if shared.exit_after.is_some_and(|n| total >= n) {
                            shared.stop.set(); // wakes every thread's runtime
                        }
                    });
                }
            });
            // The accept loop never ends by itself: the stop signal ends it.
            let _ = select2(accepting, Box::pin(shared.stop.wait())).await;
            served_here.get()
        })
    }

    /// K clients at once on a runtime of their own: each sends a message
    /// of its own, ends its side, and checks that exactly the message came
    /// back. Returns how many failed.
    fn self_test(addr: SocketAddr, clients: usize) -> usize {
        weft_runtime::run(async move {
            let checks: Vec<_> = (0..clients)
                .map(|i| {
                    spawn(async move {
                        let message = format!("client {i} says {}", "echo ".repeat(i % 50 + 1));
                        let mut stream = TcpStream::connect(addr).await?;
                        stream.write_all(message.as_bytes()).await?;
                        stream.shutdown(std::net::Shutdown::Write)?;
                        let mut back = Vec::new();
                        let mut buf = [0; 4096];
                        loop {
                            match stream.read(&mut buf).await? {
                                0 => break,
                                n => back.extend_from_slice(&buf[..n]),
                            }
                        }
                        Ok::<bool, std::io::Error>(back == message.as_bytes())
                    })
                })
                .collect();
            let mut failed = 0;
            for (i, check) in checks.into_iter().enumerate() {
                match check.await {
                    Ok(Ok(true)) => {}
                    Ok(Ok(false)) => {
                        eprintln!("thread_per_core: client {i} got a wrong echo");
                        failed += 1;
                    }
                    Ok(Err(e)) => {
                        eprintln!("thread_per_core: client {i} failed: {e}");
                        failed += 1;
                    }
                    Err(e) => {
                        eprintln!("thread_per_core: client {i} task failed: {e}");
                        failed += 1;
                    }
                }
            }
            failed
        })
    }

    pub(super) fn main() -> ExitCode {
        let options = match parse_args() {
            Ok(options) => options,
            Err(message) => {
                eprintln!("thread_per_core: {message}");
                return ExitCode::FAILURE;
            }
        };
        let shared = Arc::new(Shared {
            served: AtomicUsize::new(0),
            exit_after: options.self_test.or(options.exit_after),
            stop: Event::new(),
        });

        // The first thread binds ADDR (perhaps port 0); the others join it
        // on the address it got.
        let mut addr = options.addr.clone();
        let mut bound = None;
        let mut servers = Vec::new();
        for _ in 0..options.threads {
            let (ready, listening) = mpsc::channel();
            let (thread_addr, thread_shared) = (addr.clone(), shared.clone());
            servers.push(thread::spawn(move || {
                serve(thread_addr, thread_shared, ready)
            }));
            match listening.recv() {
                Ok(Ok(local)) => {
                    addr = local.to_string();
                    bound = Some(local);
                }
                Ok(Err(e)) => {
                    eprintln!("thread_per_core: cannot listen on {addr}: {e}");
                    shared.stop.set();
                    return ExitCode::FAILURE;
                }
                Err(_) => {
                    eprintln!("thread_per_core: a server thread died before listening");
                    shared.stop.set();
                    return ExitCode::FAILURE;
                }
            }
        }
        let bound = bound.expect("at least one thread");
        println!(
            "thread_per_core: {} threads listening on {bound}",
            options.threads
        );

        let failed = options.self_test.map(|clients| {
            let failed = thread::spawn(move || self_test(bound, clients))
                .join()
                .unwrap_or(clients);
            println!(
                "thread_per_core: self-test: {} of {clients} clients got their echo",
                clients - failed
            );
            failed
        });
        let per_thread: Vec<usize> = servers
            .into_iter()
            .map(|server| server.join().unwrap_or(0))
            .collect();
        println!(
            "thread_per_core: served {} connection(s); per thread: {per_thread:?}",
            shared.served.load(Ordering::SeqCst)
        );
        if failed.unwrap_or(0) == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}
