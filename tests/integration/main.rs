//! Cross-crate integration tests: a real server on a loopback port over a real SQLite file, and
//! simulated devices built on `outpost-device`. One test binary (see ripgrep's `tests/tests.rs`).

mod bad_input;
mod convergence;
mod openapi;
mod sync;
