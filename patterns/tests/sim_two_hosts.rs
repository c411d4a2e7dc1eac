//! A two-host service in simulation: a client retries (weft-patterns'
//! retry) through a circuit breaker over a simulated TCP link to a server,
//! while a partition cuts the hosts apart for a second and then heals.
//!
//! Everything runs on a seeded runtime on the paused clock, with the
//! retry's jitter, the breaker's and the network's faults drawn from the
//! same seed: the test asserts the client's outcome, and that running a
//! seed again gives the same outcome, the same schedule digest and the
//! same network log.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use weft_patterns::circuit_breaker::{CallError, CircuitBreaker, CircuitEvent, CircuitState};
use weft_patterns::retry::{Backoff, RetryPolicy};
use weft_runtime::sim::net::{Faults, Host, Net, TcpListener, TcpStream};
use weft_runtime::sim::ScheduleDigest;
use weft_runtime::{sleep, spawn, spawn_named, time, timeout, Builder};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const SERVER: &str = "10.0.0.1:80";

/// Answers `ping` with `pong` on every connection.
async fn serve(mut listener: TcpListener) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        spawn(async move {
            let mut request = [0; 4];
            if read_exact(&mut stream, &mut request).await.is_ok() && &request == b"ping" {
                let _ = stream.write_all(b"pong").await;
            }
        });
    }
}

async fn read_exact(stream: &mut TcpStream, buf: &mut [u8]) -> Result<(), String> {
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]).await {
            Ok(0) => return Err("the server closed the connection".into()),
            Ok(n) => filled += n,
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(())
}

/// One request: connect, ping, read the pong; at most 200 ms.
async fn ping(client: Host) -> Result<String, String> {
    let exchange = async {
        let mut stream = TcpStream::connect(&client, SERVER)
            .await
            .map_err(|e| e.to_string())?;
        stream.write_all(b"ping").await.map_err(|e| e.to_string())?;
        let mut reply = [0; 4];
        read_exact(&mut stream, &mut reply).await?;
        Ok(String::from_utf8_lossy(&reply).into_owned())
    };
    timeout(ms(200), exchange)
        .await
        .unwrap_or_else(|_| Err("timed out".into()))
}

/// What the client saw.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    reply: Result<String, String>,
    /// Calls the breaker let through or refused, in all.
    attempts: u32,
    /// How often the breaker opened.
    opened: u32,
    /// Simulated time until the reply.
    elapsed: Duration,
}

/// The scenario under `seed`: the outcome, the digest and the net's log.
fn run(seed: u64) -> (Outcome, ScheduleDigest, usize) {
    let rt = Builder::new().start_paused(true).seed(seed).build();
    let (outcome, log) = rt.block_on(async {
        let net = Net::new(
            seed,
            Faults {
                latency: ms(5),
                jitter: ms(3),
                ..Faults::default()
            },
        );
        let (server, client) = (net.host("10.0.0.1"), net.host("10.0.0.2"));
        let listener = TcpListener::bind(&server, SERVER).await.unwrap();
        spawn_named("server", serve(listener));

        net.partition(&server, &client);
        let healer = {
            let net = net.clone();
            let (server, client) = (server.clone(), client.clone());
            spawn_named("healer", async move {
                sleep(ms(1_000)).await;
                net.heal(&server, &client);
            })
        };

        let opened = Arc::new(AtomicU32::new(0));
        let breaker = {
            let opened = opened.clone();
            CircuitBreaker::<String>::builder()
                .name("server")
                .consecutive_failures(3)
                .open_wait(Backoff::constant(ms(300)))
                .permitted_calls_in_half_open(1)
                .seed(seed)
                .on_event(move |event| {
                    if let CircuitEvent::StateChanged {
                        to: CircuitState::Open,
                        ..
                    } = event
                    {
                        opened.fetch_add(1, Ordering::Relaxed);
                    }
                })
                .build()
                .unwrap()
        };
        let policy = RetryPolicy::new(Backoff::exponential(ms(50)))
            .max_retries(20)
            .deadline(Duration::from_secs(10))
            .seed(seed);

        let start = time::now();
        let attempts = Rc::new(Cell::new(0));
        let reply = policy
            .retry(|| {
                attempts.set(attempts.get() + 1);
                breaker.call(ping(client.clone()))
            })
            .retry_after(|e: &CallError<String>| e.rejected().and_then(|r| r.retry_after()))
            .await
            .map_err(|e| format!("{:?}", e.into_error()));
        let elapsed = time::now() - start;
        healer.await.unwrap();
        let outcome = Outcome {
            reply,
            attempts: attempts.get(),
            opened: opened.load(Ordering::Relaxed),
            elapsed,
        };
        (outcome, net.events().len())
    });
    (outcome, rt.schedule_digest().unwrap(), log)
}

#[test]
fn the_client_gets_through_once_the_partition_heals() {
    for seed in [1, 2, 3] {
        let (outcome, digest, _) = run(seed);
        assert_eq!(
            outcome.reply,
            Ok("pong".to_owned()),
            "seed {seed}: {outcome:?}"
        );
        // No reply can come before the partition heals at 1 s.
        assert!(outcome.elapsed >= ms(1_000), "seed {seed}: {outcome:?}");
        assert!(outcome.attempts > 3, "seed {seed}: {outcome:?}");
        // Three timeouts in a row open the breaker at least once.
        assert!(outcome.opened >= 1, "seed {seed}: {outcome:?}");
        assert!(digest.simulated());
    }
}

#[test]
fn the_same_seed_gives_the_same_run() {
    for seed in [7, 8] {
        let first = run(seed);
        for _ in 0..3 {
            assert_eq!(run(seed), first, "seed {seed}");
        }
    }
}
