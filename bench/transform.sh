#!/usr/bin/env bash
# Deliveries per second with a trivial transformation versus none, same hookd, same run.
# Usage: bench/transform.sh [messages] [endpoints]   -> prints the figures; -w also writes
# them to bench/transform-results.md. Target: the script costs at most 20 % of throughput.
set -euo pipefail
cd "$(dirname "$0")/.."
write=0
if [ "${1:-}" = "-w" ]; then write=1; shift; fi
make --no-print-directory WERROR=1 hookd >/dev/null
cc -O2 -std=c11 -D_GNU_SOURCE -Isrc $(pkg-config --cflags jansson lua5.4) bench/transform_cost.c build/libhookd.a \
  $(pkg-config --libs libmicrohttpd libcurl openssl sqlite3 jansson libuv libpq yaml-0.1 lua5.4) -lpthread -lm \
  -o build/transform_cost
out=$(HOOKD_BIN="$PWD/hookd" node bench/transform.mjs "${1:-2000}" "${2:-8}"; build/transform_cost)
printf '%s\n' "$out"
if [ "$write" = 1 ]; then
  {
    echo "# Transformations: throughput cost"
    echo
    echo "Command: \`bench/transform.sh -w ${1:-2000} ${2:-8}\` ($(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -m), load average $(cut -d" " -f1-3 /proc/loadavg))."
    echo "Each scenario publishes the messages with 32 publishes in flight to an app with"
    echo "the given number of endpoints (a local sink answering 204) and counts deliveries"
    echo "per second from the first publish to the last delivery. 'script' endpoints run"
    echo "\`function handler(webhook) webhook.payload.seen = true return webhook end\`;"
    echo "scenarios alternate (none, script, three rounds) on one hookd after a warm-up."
    echo
    echo '```'
    printf '%s\n' "$out" | grep -v -e '^{' -e ' info '
    echo '```'
    echo
    echo "The last line is bench/transform_cost.c: the script alone, cached, on the same payload."
    echo "On a shared machine the end-to-end rounds swing by tens of percent either way (the"
    echo "publishes and the sink share the CPUs with hookd); compare the sums over the rounds,"
    echo "and the per-run cost against the per-delivery time (1 / deliveries per second)."
  } > bench/transform-results.md
  echo "wrote bench/transform-results.md"
fi
