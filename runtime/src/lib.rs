//! weft's runtime (being built).
