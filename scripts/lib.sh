# Shared set-up for scripts/run.sh and scripts/test.sh: installs what is missing on a fresh
# Debian/Ubuntu machine. Sourced, not run.

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ $apt_updated -eq 0 ]; then
    echo "==> apt-get update"
    $sudo apt-get update -qq
    apt_updated=1
  fi
  echo "==> installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    apt_install curl ca-certificates
    echo "==> installing Rust (rustup)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy 2>/dev/null || true
}

# C toolchain for the vendored SQLCipher and OpenSSL builds; e2fsprogs and mount: the disk-fault tests put servers and tablets on small ext4 loop disks.
ensure_build_tools() {
  apt_install build-essential perl pkg-config curl ca-certificates e2fsprogs mount
  ensure_rust
}

# PostgreSQL for the storage conformance tests (127.0.0.1:5432, trust auth, database "test").
ensure_postgres() {
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    apt_install postgresql
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "==> starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  # Trust authentication on loopback is how these machines come; a fresh install needs a
  # database named "test" too.
  if ! psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; then
    su postgres -c "createdb test" 2>/dev/null || true
  fi
}

# Libraries and tools for the Tauri app and its real-window tests, and Chromium for the
# dashboard's browser tests (driven by playwright-core; no browser is ever downloaded).
ensure_app_tools() {
  apt_install libwebkit2gtk-4.1-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev \
    xvfb webkit2gtk-driver imagemagick chromium poppler-utils libxml2-utils
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
}

# The web UI: installs its packages from the lock file, type-checks, tests and builds ui/dist
# (which the Tauri app embeds at compile time).
build_ui() {
  (
    cd ui
    if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      echo "==> npm ci"
      npm ci --no-audit --no-fund
    fi
    echo "==> npm run build"
    npm run build
  )
}

# tauri-driver (WebDriver for the real app window), built from crates.io when missing.
ensure_tauri_driver() {
  command -v tauri-driver >/dev/null 2>&1 && return 0
  echo "==> cargo install tauri-driver"
  cargo install tauri-driver --locked
}
