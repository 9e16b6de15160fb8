#!/usr/bin/env bash
# Runs Outpost: the sync server on an embedded SQLite database under ./data (created with a demo
# organisation on first run), and prints a one-time enrolment code for a tablet.
# Installs whatever is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_build_tools
ensure_app_tools
build_ui
cargo build --locked -p outpost-server -p outpost-app

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
# First run: an admin account for the dashboard, its password kept readable only by you.
password_file="$data_dir/admin-password.txt"
if [ -z "$("$server" user list --data-dir "$data_dir" 2>/dev/null)" ]; then
  (umask 077; "$server" user add --data-dir "$data_dir" --username admin --role admin > "$password_file")
fi
cat <<MSG

Outpost server running at http://$listen (data in $data_dir).
Coordinators' dashboard: http://$listen/dashboard/  (user "admin", first password in $password_file:
the first login asks you to choose your own; then set up sites, catalogue, staff and tablets there)
Enrol a tablet for "Drop-in centre" with the one-time code: $code
(More codes: $server enroll --data-dir $data_dir --site "Street outreach team")
Press Ctrl-C to stop.
MSG
app_dir="${OUTPOST_APP_DATA_DIR:-$data_dir/tablet}"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display: starting a virtual one (Xvfb :97) for the app window."
  Xvfb :97 -screen 0 1280x800x24 >/dev/null 2>&1 &
  xvfb_pid=$!
  trap 'kill $server_pid $xvfb_pid 2>/dev/null || true' EXIT INT TERM
  export DISPLAY=:97
fi
echo "Starting the tablet app (local data in $app_dir); enter http://$listen and the code above."
OUTPOST_APP_DATA_DIR="$app_dir" ./target/debug/outpost-app &
wait $server_pid
