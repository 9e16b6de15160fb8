#!/usr/bin/env bash
# Saves screenshots of the app's main screens, landscape (1280x800) and portrait (800x1280), and
# of the dashboard's pages, under docs/screenshots/, by running the real-window end-to-end test
# and the dashboard's Chromium test with screenshots on.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_build_tools
ensure_app_tools
ensure_tauri_driver
build_ui
cargo build --locked --workspace
OUTPOST_E2E=1 OUTPOST_SCREENSHOTS="$PWD/docs/screenshots" \
  cargo test --locked -p outpost-tests --test integration -- app_e2e dashboard_browser
ls docs/screenshots
