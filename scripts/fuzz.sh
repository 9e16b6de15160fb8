#!/usr/bin/env bash
# Fuzzes every wire decoder and the UIC parser for a bounded time (default 120 s in all, split
# across the targets), starting from the committed corpus in bench/fuzz-corpus/. Fails when an
# oracle fails; the failing inputs are left under target/fuzz-failures/<target>/. Not part of the
# test command; run it by hand or in a nightly job:  bash scripts/fuzz.sh [SECONDS]
# A run prints its seed; OUTPOST_FUZZ_SEED=<seed> replays the same mutations.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

seconds="${1:-120}"
ensure_build_tools
cargo build --locked --release -p outpost-bench
seed=()
[ -n "${OUTPOST_FUZZ_SEED:-}" ] && seed=(--seed "$OUTPOST_FUZZ_SEED")
# The failure summary says what failed and where the inputs are; an error backtrace adds nothing.
RUST_LIB_BACKTRACE=0 ./target/release/outpost-bench fuzz --target all --seconds "$seconds" "${seed[@]}"
