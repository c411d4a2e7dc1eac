//! asyncio's synchronisation primitives for Rust.
//!
//! (Crate documentation is completed as the primitives land.)

pub mod facade;
