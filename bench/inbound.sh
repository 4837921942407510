#!/usr/bin/env bash
# bench/inbound.sh - verified GitHub-style posts (121-byte body, HMAC-SHA256) answered per
# second at 32 connections: hookd (each event verified, journaled with a group commit,
# acknowledged) against adnanh/webhook checking the same HMAC (storing nothing).
# Writes bench/inbound-results.md. Usage: bench/inbound.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-10}
CONNS=${2:-32}
SECRET=bench-secret
WORK=$(mktemp -d /tmp/hookd-inbound.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
command -v wrk >/dev/null && command -v webhook >/dev/null || { echo "bench/inbound.sh: needs wrk and webhook (scripts/deps.sh test)" >&2; exit 2; }
[ -x "$ROOT/hookd" ] || { echo "bench/inbound.sh: build ./hookd first" >&2; exit 2; }

# a 121-byte body and its GitHub signature
BODY='{"ref":"refs/heads/main","after":"9f1c0a2b3c4d5e6f","repository":{"full_name":"acme/api"},"pusher":{"name":"ana"},"n":12}'
[ ${#BODY} -eq 121 ] || { echo "body is ${#BODY} bytes" >&2; exit 1; }
SIG="sha256=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1)"
export INBOUND_BODY="$BODY" INBOUND_SIG="$SIG"

# hookd
"$ROOT/hookd" serve --listen 127.0.0.1:0 --db "sqlite:$WORK/hookd.db" --token t --log-level warn >"$WORK/hookd.out" 2>"$WORK/hookd.err" &
PIDS+=($!)
for _ in $(seq 100); do URL=$(grep -o -m1 'http://127\.0\.0\.1:[0-9]*' "$WORK/hookd.out" || true); [ -n "$URL" ] && break; sleep 0.1; done
curl -sS -XPOST "$URL/api/v1/source" -H 'Authorization: Bearer t' -H 'content-type: application/json' \
	-d "{\"uid\":\"gh\",\"provider\":\"github\",\"secrets\":[\"$SECRET\"]}" >/dev/null
check=$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$URL/in/gh" -H "X-Hub-Signature-256: $SIG" -H 'X-GitHub-Delivery: probe' -H 'X-GitHub-Hook-ID: 1' --data-binary "$BODY")
[ "$check" = 200 ] || { echo "hookd refused the signed probe ($check)" >&2; exit 1; }
# cpu_ticks PID: the process's CPU time so far (user + system, in clock ticks)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# us_per OUT TICKS: CPU microseconds per answered request, from wrk's output and the ticks spent
us_per() {
	echo "$1" | awk -v t="$2" -v hz="$(getconf CLK_TCK)" -v s="$SECS" \
		'/Requests\/sec/ { printf "%.1f", t / hz * 1e6 / ($2 * s) }'
}
T0=$(cpu_ticks "${PIDS[0]}")
HOOKD_OUT=$(INBOUND_PATH=/in/gh wrk -t2 -c"$CONNS" -d"${SECS}s" -s "$ROOT/bench/inbound.lua" "$URL")
HOOKD_US=$(us_per "$HOOKD_OUT" $(($(cpu_ticks "${PIDS[0]}") - T0)))
HOOKD_RPS=$(echo "$HOOKD_OUT" | grep -o 'Requests/sec: *[0-9.]*' | awk '{printf "%.0f", $2}')
HOOKD_BAD=$(echo "$HOOKD_OUT" | grep -o 'non2xx=[0-9]*' | cut -d= -f2)
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true
STORED=$(sqlite3 "$WORK/hookd.db" 'SELECT count(*) FROM inbound')

# adnanh/webhook with the same HMAC check, twice: with a command that does nothing
# (/bin/true, started after each answer, as adnanh does), and with a command that
# cannot start (no process at all: its HTTP and HMAC path alone, the harder peer)
# wh NAME COMMAND: sets NAME_RPS, NAME_BAD and NAME_US
wh() {
	local name=$1 cmd=$2 port out pid t0
	cat >"$WORK/hooks.json" <<JSON
[{"id": "gh", "execute-command": "$cmd",
  "trigger-rule": {"match": {"type": "payload-hmac-sha256", "secret": "$SECRET",
                             "parameter": {"source": "header", "name": "X-Hub-Signature-256"}}}}]
JSON
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	webhook -hooks "$WORK/hooks.json" -ip 127.0.0.1 -port "$port" >"$WORK/webhook-$name.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
	t0=$(cpu_ticks "$pid")
	out=$(INBOUND_PATH=/hooks/gh wrk -t2 -c"$CONNS" -d"${SECS}s" -s "$ROOT/bench/inbound.lua" "http://127.0.0.1:$port")
	printf -v "${name}_US" '%s' "$(us_per "$out" $(($(cpu_ticks "$pid") - t0)))"
	printf -v "${name}_RPS" '%s' "$(echo "$out" | grep -o 'Requests/sec: *[0-9.]*' | awk '{printf "%.0f", $2}')"
	printf -v "${name}_BAD" '%s' "$(echo "$out" | grep -o 'non2xx=[0-9]*' | cut -d= -f2)"
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
wh WH /bin/true
wh WHNOP /nonexistent/hookd-bench-no-command

cat >"$ROOT/bench/inbound-results.md" <<MD
# Inbound benchmark

Written by \`bench/inbound.sh $SECS $CONNS\` on $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, one run;
wrk -t2 -c$CONNS for ${SECS} s, each post a 121-byte body with a valid X-Hub-Signature-256 and its
own X-GitHub-Delivery (so none is a duplicate).

| server | answered/s | non-2xx | stored | server CPU per request |
|---|---:|---:|---:|---:|
| hookd (verify, journal in a group commit, then 200) | $HOOKD_RPS | ${HOOKD_BAD:-0} | $STORED events | $HOOKD_US µs |
| adnanh/webhook (the same HMAC rule, runs /bin/true, stores nothing) | $WH_RPS | ${WH_BAD:-0} | none | $WH_US µs (without /bin/true's processes) |
| adnanh/webhook (the same HMAC rule, a command that cannot start: HTTP + HMAC alone) | $WHNOP_RPS | ${WHNOP_BAD:-0} | none | $WHNOP_US µs |

hookd / adnanh running /bin/true: $(awk -v a="$HOOKD_RPS" -v b="$WH_RPS" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }');
hookd / adnanh's HTTP + HMAC path alone: $(awk -v a="$HOOKD_RPS" -v b="$WHNOP_RPS" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
(the target: hookd, persisting every event, at least matches adnanh, which stores nothing).
Server CPU per request is the server process's user + system time over the run divided by
the requests answered; wrk's share of the machine comes on top of it for both.
MD
cat "$ROOT/bench/inbound-results.md"
