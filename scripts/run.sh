#!/usr/bin/env bash
# Runs Outpost: the sync server on an embedded SQLite database under ./data (created with a demo
# organisation on first run), and prints a one-time enrolment code for a tablet.
# Installs whatever is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_build_tools
cargo build --locked -p outpost-server

data_dir="${OUTPOST_DATA_DIR:-./data}"
listen="${OUTPOST_LISTEN:-127.0.0.1:8080}"
server=./target/debug/outpost-server

"$server" serve --data-dir "$data_dir" --listen "$listen" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 50); do
  curl -sf "http://$listen/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
code=$("$server" enroll --data-dir "$data_dir" --site "Drop-in centre")
cat <<MSG

Outpost server running at http://$listen (data in $data_dir).
Enrol a tablet for "Drop-in centre" with the one-time code: $code
(More codes: $server enroll --data-dir $data_dir --site "Street outreach team")
Press Ctrl-C to stop.
MSG
wait $server_pid
