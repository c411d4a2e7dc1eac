//! loom models of weft's primitives and of the runtime's cross-thread
//! structures: the wake path and remote queue, the hand-over of a task's
//! outcome to its `JoinHandle`, the blocking pool. The models live in
//! `tests/` and only build with `--cfg loom`:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p weft-loom-tests --profile loom
//! ```
