#!/usr/bin/env bash
# Property-based API test: schemathesis (from PyPI, in a private virtualenv) generates requests
# from the server's own OpenAPI document, valid and invalid, against a fresh server on a SQLite
# file, with a device token and a coordinator's session so every endpoint is reached. The run
# fails on any 5xx. Not part of the test command (it takes a minute or two); run it by hand or in
# a nightly job:  bash scripts/schemathesis.sh [--max-examples N]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

examples="${1:-}"
[ "$examples" = "--max-examples" ] && examples="$2" || examples=100

ensure_build_tools
cargo build --locked -p outpost-server
server=./target/debug/outpost-server

venv="${OUTPOST_SCHEMATHESIS_VENV:-target/schemathesis-venv}"
if [ ! -x "$venv/bin/schemathesis" ]; then
  command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'schemathesis>=4,<5'
fi

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$server" migrate --data-dir "$work" >/dev/null 2>&1
code=$("$server" enroll --data-dir "$work" --site "Drop-in centre" 2>/dev/null)
printf 'schemathesis-pass-2026\n' |
  "$server" user add --data-dir "$work" --username coordinator --role coordinator --site "Drop-in centre" --password-stdin 2>/dev/null
RUST_LOG=error "$server" serve --data-dir "$work" --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do curl -sf "$base/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

token=$(curl -sf -H 'content-type: application/json' \
  -d "{\"code\":\"$code\",\"device_name\":\"schemathesis\",\"app_version\":\"1\",\"protocol\":1}" \
  "$base/api/v1/enroll" | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')
login=$(curl -sf -D "$work/headers" -H 'content-type: application/json' \
  -d '{"username":"coordinator","password":"schemathesis-pass-2026"}' "$base/api/v1/auth/login")
csrf=$(printf '%s' "$login" | python3 -c 'import sys, json; print(json.load(sys.stdin)["csrf_token"])')
session=$(grep -i '^set-cookie: outpost_session=' "$work/headers" | sed 's/^[Ss]et-[Cc]ookie: //; s/;.*//' | tr -d '\r')

# Logout would end the session the rest of the run uses.
"$venv/bin/schemathesis" run "$base/api/v1/openapi.json" --url "$base" \
  --checks not_a_server_error \
  --exclude-path /api/v1/auth/logout \
  -H "Authorization: Bearer $token" -H "outpost-protocol: 1" \
  -H "Cookie: $session" -H "X-CSRF-Token: $csrf" \
  --max-examples "$examples" --request-timeout 10
echo "schemathesis: no server error; the server log is quiet:"
if grep -i "panicked\|internal error" "$work/server.log"; then
  echo "the server logged internal errors" >&2
  exit 1
fi
