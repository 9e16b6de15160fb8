#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, unit, integration and property tests.
# Installs whatever is missing first, so it works on a fresh Debian/Ubuntu machine and in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_build_tools
ensure_app_tools
ensure_postgres
# Every storage scenario runs on SQLite and on this PostgreSQL database (one schema per test).
export OUTPOST_TEST_DATABASE_URL="${OUTPOST_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
# The real app window is driven through tauri-driver and WebKitWebDriver under Xvfb.
ensure_tauri_driver
export OUTPOST_E2E=1

build_ui
echo "==> UI checks and unit tests (svelte-check, vitest)"
(cd ui && npm run check && npm test)

echo "==> cargo fmt --check"
cargo fmt --all -- --check
cargo fmt --all --manifest-path fuzz/Cargo.toml -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo build (the multi-instance test starts real server processes)"
cargo build --workspace --locked
echo "==> cargo test"
rm -f target/tmp/app-e2e-steps.txt
cargo test --workspace --locked
# The app end-to-end test's taps and times for the window and street tasks (issue targets).
if [ -f target/tmp/app-e2e-steps.txt ]; then
  echo "==> taps and times in the real app window"
  cat target/tmp/app-e2e-steps.txt
fi
echo "==> fuzz oracles over the committed corpus (stable; the fuzzing itself: scripts/fuzz.sh)"
cargo clippy --manifest-path fuzz/Cargo.toml --all-targets --locked -- -D warnings
cargo test --manifest-path fuzz/Cargo.toml --lib --locked
