//! Criterion benches of a few representative workloads on weft and tokio.
//!
//! The compare binary (`cargo run --release -p weft-benches --bin compare`)
//! runs the whole matrix and prints the table; these benches are for
//! iterating on one runtime path with criterion's statistics and history.
//! They are small and short on purpose: `cargo bench -p weft-benches`
//! finishes in about a minute.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use weft_benches::adapters::{Mpsc, WeftQueue};
use weft_benches::runtimes::{BenchRuntime, Tokio, Weft};
use weft_benches::workloads::{self, Verified};

/// Benchmarks one workload on weft and on tokio, as the group `name`.
fn on_both(
    c: &mut Criterion,
    name: &str,
    weft: impl Fn(&Weft) -> Verified,
    tokio: impl Fn(&Tokio) -> Verified,
) {
    let mut group = c.benchmark_group(name);
    let weft_rt = Weft::new();
    group.bench_function(BenchmarkId::from_parameter(Weft::NAME), |b| {
        b.iter(|| weft(&weft_rt).expect("the workload verifies"))
    });
    let tokio_rt = Tokio::new();
    group.bench_function(BenchmarkId::from_parameter(Tokio::NAME), |b| {
        b.iter(|| tokio(&tokio_rt).expect("the workload verifies"))
    });
    group.finish();
}

fn spawn_join(c: &mut Criterion) {
    on_both(
        c,
        "spawn_join/1000",
        |rt| rt.block_on(workloads::spawn_join(rt, 1_000)),
        |rt| rt.block_on(workloads::spawn_join(rt, 1_000)),
    );
}

fn mutex_contended(c: &mut Criterion) {
    on_both(
        c,
        "mutex_contended/100x10",
        |rt| rt.block_on(workloads::mutex_contended::<_, weft_primitives::Mutex<u64>>(rt, 100, 10)),
        |rt| {
            rt.block_on(workloads::mutex_contended::<_, tokio::sync::Mutex<u64>>(
                rt, 100, 10,
            ))
        },
    );
}

fn queue_spsc(c: &mut Criterion) {
    on_both(
        c,
        "queue_spsc/10000",
        |rt| rt.block_on(workloads::queue_spsc::<_, WeftQueue>(rt, 1024, 10_000)),
        |rt| rt.block_on(workloads::queue_spsc::<_, Mpsc>(rt, 1024, 10_000)),
    );
}

fn timeouts(c: &mut Criterion) {
    on_both(
        c,
        "timeouts/10000",
        |rt| rt.block_on(workloads::timeouts_ready::<Weft>(10_000)),
        |rt| rt.block_on(workloads::timeouts_ready::<Tokio>(10_000)),
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = spawn_join, mutex_contended, queue_spsc, timeouts
}
criterion_main!(benches);
