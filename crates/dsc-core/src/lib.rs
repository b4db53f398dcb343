//! dsc-core: the algorithms of the dsc data engine, in pure Rust.
//!
//! Nothing here knows about Python or Polars: the `dsc-py` crate wraps these functions as
//! Polars expression plugins. Every function is testable with `cargo test -p dsc-core`.

// One audited `unsafe` call: the run-time CPU-feature dispatch of the MinHash kernel.
#![deny(unsafe_code)]

pub mod content;
pub mod decont;
pub mod file_filter;
pub mod html;
pub mod imports;
pub mod langid;
pub mod lsh;
pub mod minhash;
pub mod oph;
pub mod preprocessor;
pub mod quality;
pub mod redact;
pub mod repo_sample;
pub mod sigstore;
pub mod simd;
pub mod stats;
pub mod toposort;
pub mod variance;
pub mod words;
