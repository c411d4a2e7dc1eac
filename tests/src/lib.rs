//! Integration and conformance tests across weft's crates live in `tests/`
//! beside this file. This library holds the small helpers they share.
