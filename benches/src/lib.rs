//! weft against tokio (and smol) on the same workloads, side by side.
//!
//! Each workload is written once ([`workloads`]), generic over the runtime
//! ([`runtimes::BenchRuntime`]) and over the primitive it exercises
//! ([`adapters`]). The compare binary runs every workload on:
//!
//! * weft's runtime with weft's primitives,
//! * tokio's current-thread runtime with `tokio::sync`,
//! * smol's `LocalExecutor` with async-lock / async-channel, where the
//!   workload has a counterpart there,
//! * and, for the primitive workloads, the two mixed cells of the 2×2
//!   matrix: weft's primitives on tokio's runtime and tokio's primitives on
//!   weft's runtime. These say whether a difference comes from the
//!   executor or from the primitive,
//! * and a floor ([`floor`]): the same work with no runtime at all.
//!
//! ```text
//!                     weft primitives      tokio primitives
//!   weft runtime      weft                 weft rt + tokio::sync
//!   tokio runtime     tokio rt + weft      tokio
//! ```
//!
//! Every workload checks its own answer and fails with a
//! [`workloads::Mismatch`] when it is wrong. The binary prints one Markdown
//! table of medians and of the ratio weft / tokio, with the machine and the
//! date:
//!
//! ```text
//! cargo run --release -p weft-benches --bin compare            # the full table
//! cargo run --release -p weft-benches --bin compare -- --quick # CI: small sizes
//! cargo bench -p weft-benches                                  # criterion, a few workloads
//! ```

pub mod adapters;
pub mod compare;
pub mod cpu;
pub mod echo_server;
pub mod floor;
pub mod load_client;
pub mod measure;
pub mod memory;
pub mod perf_stat;
pub mod report;
pub mod runtimes;
pub mod server_child;
pub mod strace;
pub mod workloads;
