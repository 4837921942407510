#!/usr/bin/env bash
# Run every built fuzz target for a bounded time on a scratch copy of its corpus.
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS
set -u
build=${1:-build-fuzz}
secs=${2:-10}
cd "$(dirname "$0")/../.."
fail=0
for bin in "$build"/tests/fuzz/*_fuzz; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  scratch=$(mktemp -d)
  seeds=tests/fuzz/corpus/$name
  mkdir -p "$seeds"
  t0=$SECONDS
  if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$scratch/" "$scratch" "$seeds" >"$scratch/log" 2>&1; then
    echo "fuzz: $name ok ($((SECONDS - t0))s, $(grep -o 'stat::number_of_executed_units: [0-9]*' "$scratch/log" | awk '{print $2}') runs)"
  else
    echo "fuzz: $name FAILED"; tail -40 "$scratch/log"; fail=1
    mkdir -p tests/out/fuzz && cp "$scratch"/crash-* "$scratch"/leak-* "$scratch"/timeout-* tests/out/fuzz/ 2>/dev/null
  fi
  rm -rf "$scratch"
done
exit $fail
