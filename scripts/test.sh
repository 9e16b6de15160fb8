#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, unit, integration and property tests.
# Installs whatever is missing first, so it works on a fresh Debian/Ubuntu machine and in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_build_tools

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo test"
cargo test --workspace --locked
