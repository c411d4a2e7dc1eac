//! Runs every workload on weft, tokio and smol and prints one Markdown
//! report of medians and weft / tokio ratios (see `weft_benches::compare`).
//!
//! ```text
//! cargo run --release -p weft-benches --bin compare            # the full table
//! cargo run --release -p weft-benches --bin compare -- --quick # CI: small sizes
//! ```
//!
//! The counting allocator is installed here so that child processes can
//! measure the heap exactly; it counts nothing until a child turns it on.

use std::process::ExitCode;

use weft_benches::memory::CountingAllocator;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn main() -> ExitCode {
    weft_benches::compare::main(std::env::args().skip(1).collect())
}
