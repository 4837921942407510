#!/usr/bin/env bash
# bench/hooks.sh - hookd and adnanh/webhook side by side on the same hooks file.
#
# One hook whose command appends a line to a file. wrk posts to it from
# CONNS connections for DURATION; then each server is given time to finish
# what it accepted. Reported per server: requests/s, answers 2xx (accepted)
# and others, commands actually executed (lines in the file) and per second
# of load, and lost commands (accepted but never executed).
#
# Usage: bench/hooks.sh [DURATION] [CONNS]      (defaults 10s, 32)
# Needs: wrk, webhook (Debian package), a built ./hookd.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10s}
conns=${2:-32}
work=$(mktemp -d /tmp/hookd-bench-hooks.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

command -v wrk >/dev/null || { echo "bench/hooks.sh: wrk is missing (scripts/deps.sh test)" >&2; exit 2; }
command -v webhook >/dev/null || { echo "bench/hooks.sh: webhook is missing (scripts/deps.sh test)" >&2; exit 2; }
[ -x ./hookd ] || make -s hookd

cat > "$work/append.sh" <<'SH'
#!/bin/sh
printf '%s\n' "$1" >> "$2"
SH
chmod +x "$work/append.sh"
cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"ref":"refs/heads/main","after":"0123456789abcdef"}'
wrk.headers["Content-Type"] = "application/json"
LUA

# hooks_file OUT FILE CONCURRENCY: the same definition for every server, only the output file
# differs; adnanh/webhook ignores hookd's "concurrency" field (it has no limit)
hooks_file() {
  cat > "$1" <<JSON
[{"id": "bench", "execute-command": "$work/append.sh", "response-message": "queued",
  "concurrency": $3,
  "pass-arguments-to-command": [{"source": "payload", "name": "after"}, {"source": "string", "name": "$2"}]}]
JSON
}

# lines FILE: how many commands ran
lines() { [ -f "$1" ] && wc -l < "$1" | tr -d ' ' || echo 0; }

# settle FILE: wait until the file stops growing for 3 s (at most 120 s)
settle() {
  local prev=-1 cur n=0
  while [ $n -lt 40 ]; do
    cur=$(lines "$1")
    [ "$cur" = "$prev" ] && return
    prev=$cur; n=$((n + 1)); sleep 3
  done
}

# run NAME URL OUTFILE
run() {
  local name=$1 url=$2 out=$3 res total non2xx rps secs
  res=$(wrk -t2 -c"$conns" -d"$duration" --timeout 10s -s "$work/post.lua" "$url")
  total=$(printf '%s\n' "$res" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
  non2xx=$(printf '%s\n' "$res" | sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p')
  non2xx=${non2xx:-0}
  rps=$(printf '%s\n' "$res" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
  secs=${duration%s}
  settle "$out"
  local ran; ran=$(lines "$out")
  local accepted=$((total - non2xx))
  local lost=$((accepted - ran)); [ $lost -lt 0 ] && lost=0
  printf '| %s | %s | %d | %d | %d | %s | %d |\n' "$name" "$rps" "$accepted" "$non2xx" "$ran" \
    "$(awk -v r="$ran" -v s="$secs" 'BEGIN{printf "%.0f", r/s}')" "$lost"
}

echo "| server | requests/s | accepted (2xx) | refused (503 etc.) | commands run | commands/s | lost |"
echo "|---|---|---|---|---|---|---|"

port=18391
for c in 1 4; do
  hooks_file "$work/hookd-$c.json" "$work/hookd-$c.out" "$c"
  ./hookd serve --listen 127.0.0.1:$port --db "sqlite:$work/hookd-$c.db" --token bench \
    --hooks "$work/hookd-$c.json" --log-level warn >"$work/hookd-$c.log" 2>&1 &
  pid=$!
  sleep 1
  run "hookd $(./hookd version | awk '{print $2}'), concurrency $c" "http://127.0.0.1:$port/hooks/bench" "$work/hookd-$c.out"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  port=$((port + 1))
done

hooks_file "$work/webhook-hooks.json" "$work/webhook.out" 4
webhook -hooks "$work/webhook-hooks.json" -ip 127.0.0.1 -port $port >"$work/webhook.log" 2>&1 &
webhook_pid=$!
sleep 1
run "adnanh/webhook $(webhook -version | awk '{print $3}')" "http://127.0.0.1:$port/hooks/bench" "$work/webhook.out"
kill "$webhook_pid" 2>/dev/null || true
wait 2>/dev/null || true
if grep -qiE 'too many open files|error' "$work/webhook.log"; then
  echo
  echo "adnanh/webhook errors (first lines):"
  grep -iE 'too many open files|error' "$work/webhook.log" | sed 's/^[0-9/: ]*//; s/[0-9]\{3,\}/N/g' | sort | uniq -c | sort -rn | head -5
fi
