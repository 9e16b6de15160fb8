#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo fuzz, libFuzzer, nightly toolchain) of every wire decoder and
# the UIC functions, for a bounded time: SECONDS in all (default 120), split evenly across the
# targets in fuzz/fuzz_targets/. Each target starts from its committed corpus in
# fuzz/corpus/<target>/ and writes the new inputs it finds only to a work corpus under
# fuzz/target/corpus/<target>/, so the committed corpus never changes. Fails when a target finds
# a failure (a panic, or an oracle of fuzz/src/ that does not hold); the input is left in
# fuzz/artifacts/<target>/ and replays with
#   cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>
# Not part of the test command; run it by hand or in a nightly job:  bash scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

seconds="${1:-120}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "usage: bash scripts/fuzz.sh [SECONDS]" >&2
  exit 2
fi
ensure_build_tools
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "error: cargo fuzz needs the nightly Rust toolchain (libFuzzer and sanitizer flags), and" >&2
  echo "'rustup toolchain list' has none. Install it with: rustup toolchain install nightly" >&2
  exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "==> cargo install cargo-fuzz --locked"
  cargo install cargo-fuzz --locked
fi

echo "==> cargo +nightly fuzz build"
cargo +nightly fuzz build
mapfile -t targets < <(cargo +nightly fuzz list)
[ ${#targets[@]} -gt 0 ] || { echo "error: no fuzz targets in fuzz/fuzz_targets/" >&2; exit 1; }
each=$(( seconds / ${#targets[@]} ))
[ "$each" -ge 1 ] || each=1
echo "==> fuzzing ${#targets[@]} targets, ${each} s each"

root="$(pwd)"
logs="$root/fuzz/target/fuzz-logs"
mkdir -p "$logs"
failed=()
summary=()
for target in "${targets[@]}"; do
  work="$root/fuzz/target/corpus/$target"
  mkdir -p "$work" "$root/fuzz/artifacts/$target"
  log="$logs/$target.log"
  status=0
  cargo +nightly fuzz run "$target" "$work" "$root/fuzz/corpus/$target" -- \
    -max_total_time="$each" -rss_limit_mb=2048 >"$log" 2>&1 || status=$?
  runs="$(grep -o 'Done [0-9]* runs' "$log" | tail -n 1 | grep -o '[0-9]*' || true)"
  [ -n "$runs" ] || runs="$(grep -o '^#[0-9]*' "$log" | tail -n 1 | tr -d '#' || true)"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*' || true)"
  corpus="$(find "$work" -type f | wc -l)"
  if [ "$status" -eq 0 ]; then
    line="$(printf '  %-16s %10s execs  cov %6s  work corpus %5s  ok' "$target" "${runs:-?}" "${cov:-?}" "$corpus")"
  else
    line="$(printf '  %-16s %10s execs  cov %6s  work corpus %5s  FAILED (exit %s)' "$target" "${runs:-?}" "${cov:-?}" "$corpus" "$status")"
    failed+=("$target")
    echo "---- $target failed; the end of $log:"
    grep -v '^#[0-9]' "$log" | tail -n 40
    echo "----"
  fi
  echo "$line"
  summary+=("$line")
done

echo "==> summary (${each} s a target; logs in fuzz/target/fuzz-logs/)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}"
  for target in "${failed[@]}"; do
    for file in fuzz/artifacts/"$target"/*; do
      [ -f "$file" ] && echo "  reproduce: cargo +nightly fuzz run $target $file"
    done
  done
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, no failures"
