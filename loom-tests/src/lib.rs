//! loom models of weft's primitives and of the runtime's cross-thread wake
//! path. The models live in `tests/` and only build with `--cfg loom`:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p weft-loom-tests --profile loom
//! ```
