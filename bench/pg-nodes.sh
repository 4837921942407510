#!/usr/bin/env bash
# bench/pg-nodes.sh - deliveries per second with 1, 2 and 3 hookd nodes on one
# PostgreSQL database, everything on 127.0.0.1 of this machine, every phase
# bounded in time; writes bench/pg-results.md. Needs `make bench-bins` (sink, pub)
# and Debian's postgresql (scripts/deps.sh test).
#
# For each node count N, on a fresh database:
#   live:  N nodes (--role all) start; N `pub` processes, one per node, publish
#          COUNT messages in all as fast as they are answered (CONNS connections
#          in all); each node delivers what it accepted (leased to it, handed to
#          its dispatcher in memory). Result: COUNT / (last receipt - start).
#   drain: a `--role api` node stores COUNT messages and stops (their deliveries
#          belong to no node); N nodes start together and claim and deliver them
#          (FOR UPDATE SKIP LOCKED batches). Result: COUNT / (last receipt - start).
#
# The server is started here (tests/pg.sh) with fsync on (HOOKD_PG_DURABLE=1), as
# a production server would run; BENCH_PG_FAST=1 turns fsync off to show the
# difference. Environment: BENCH_COUNT (30000), BENCH_CONNS (48), BENCH_NODES
# ("1 2 3"), BENCH_OUT (bench/pg-results.md), BENCH_KEEP=1 keeps the logs, HOOKD_BIN
# (./hookd) another build to compare.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${HOOKD_BIN:-$ROOT/hookd}
TOOLS=$ROOT/build/bench
COUNT=${BENCH_COUNT:-30000}
CONNS=${BENCH_CONNS:-48}
NODES=${BENCH_NODES:-1 2 3}
OUT=${BENCH_OUT:-$ROOT/bench/pg-results.md}
TOKEN=bench-token
WORK=$(mktemp -d /tmp/hookd-pgbench.XXXXXX)
PIDS=()
PGDIR=""

for t in "$BIN" "$TOOLS/sink" "$TOOLS/pub"; do
	[ -x "$t" ] || { echo "pg-nodes: missing '$t' (make hookd bench-bins)" >&2; exit 1; }
done
chmod 755 "$WORK"
echo 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff >"$WORK/master.key"

log() { printf 'pg-nodes: %s\n' "$*" >&2; }

stop() { # PID: SIGTERM, SIGKILL after 10 s; only processes started here
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do stop "$pid"; done
	[ -n "$PGDIR" ] && "$ROOT/tests/pg.sh" stop "$PGDIR"
	if [ "${BENCH_KEEP:-0}" = 1 ]; then log "work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() { # NAME CMD...: background, wait for "listening on", set URL and PID
	local name=$1 i
	shift
	"$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	PID=$!
	PIDS+=("$PID")
	for i in $(seq 150); do
		URL=$(grep -o -m1 'listening on http://127\.0\.0\.1:[0-9]*' "$WORK/$name.out" | sed 's/listening on //' || true)
		[ -n "$URL" ] && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	log "'$name' did not start:"
	cat "$WORK/$name.err" >&2
	exit 1
}

finish() { # PID
	local pid=$1 keep=() p
	stop "$pid"
	for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

hookd_start() { # NAME DB ROLE
	start "$1" "$BIN" serve --listen 127.0.0.1:0 --db "$2" --token "$TOKEN" --role "$3" \
		--allow-private --log-level warn --master-key-file "$WORK/master.key" --retention-days 0
}

api() { curl -sS --max-time 10 -X "$1" "$2" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' ${3:+-d "$3"}; }
stat_of() { { curl -s --max-time 2 "$1/stats" || true; } | { grep -o "\"$2\":[0-9]*" || echo :0; } | cut -d: -f2; }
now_us() { echo $(($(date +%s%N) / 1000)); }
psql_do() { # DBURL SQL
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- psql -qAtX "$1" -c "$2"; else psql -qAtX "$1" -c "$2"; fi
}

# wait_sink SINK N T0: until the sink holds N webhooks (120 s at most); sets RATE and SECS
wait_sink() {
	local sink=$1 n=$2 t0=$3 deadline=$((SECONDS + 120)) got=0 last
	while [ "$SECONDS" -lt "$deadline" ]; do
		got=$(stat_of "$sink" webhooks)
		[ "${got:-0}" -ge "$n" ] && break
		sleep 0.05
	done
	last=$(stat_of "$sink" last_us)
	SECS=$(awk -v a="$last" -v b="$t0" 'BEGIN { printf "%.2f", (a - b) / 1e6 }')
	RATE=$(awk -v n="$got" -v s="$SECS" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
	GOT=$got
}

new_db() { # NAME: a fresh database on the server; echoes its URL
	psql_do "$BASE" "CREATE DATABASE $1" >/dev/null
	echo "${BASE%/*}/$1"
}

ENV=$(HOOKD_PG_DURABLE=$([ "${BENCH_PG_FAST:-0}" = 1 ] && echo 0 || echo 1) "$ROOT/tests/pg.sh" start)
PGDIR=$(echo "$ENV" | sed -n 's/^HOOKD_PG_DIR=//p')
BASE=$(echo "$ENV" | sed -n 's/^HOOKD_TEST_DB=//p')
log "PostgreSQL at $BASE (fsync $([ "${BENCH_PG_FAST:-0}" = 1 ] && echo off || echo on))"

declare -A LIVE LIVE_S DRAIN DRAIN_S LIVE_GOT DRAIN_GOT
for n in $NODES; do
	# ---- live: publish through n nodes, each delivers its own ----
	start sink-live-$n "$TOOLS/sink"
	SINK=$URL
	SINK_PID=$PID
	DB=$(new_db "live_$n")
	urls=()
	pids=()
	for i in $(seq "$n"); do
		hookd_start "live-$n-$i" "$DB" all
		urls+=("$URL")
		pids+=("$PID")
	done
	api POST "${urls[0]}/api/v1/app" '{"name":"Bench","uid":"bench"}' >/dev/null
	api POST "${urls[0]}/api/v1/app/bench/endpoint" "{\"url\":\"$SINK/hook\"}" >/dev/null
	sleep 0.5
	T0=$(now_us)
	pubs=()
	for i in $(seq "$n"); do
		timeout 150 "$TOOLS/pub" "${urls[$((i - 1))]}" --token "$TOKEN" --app bench --count $((COUNT / n)) \
			--connections $((CONNS / n)) >"$WORK/pub-live-$n-$i.out" 2>&1 &
		pubs+=($!)
	done
	for p in "${pubs[@]}"; do wait "$p" || true; done
	wait_sink "$SINK" $((COUNT / n * n)) "$T0"
	LIVE[$n]=$RATE; LIVE_S[$n]=$SECS; LIVE_GOT[$n]=$GOT
	log "live, $n node(s): $GOT delivered in $SECS s: $RATE deliveries/s ($(cat "$WORK"/pub-live-$n-*.out | tr '\n' ' '))"
	for p in "${pids[@]}"; do finish "$p"; done
	finish "$SINK_PID"

	# ---- drain: n nodes claim and deliver a stored backlog ----
	start sink-drain-$n "$TOOLS/sink"
	SINK=$URL
	SINK_PID=$PID
	DB=$(new_db "drain_$n")
	hookd_start "fill-$n" "$DB" api
	api POST "$URL/api/v1/app" '{"name":"Bench","uid":"bench"}' >/dev/null
	api POST "$URL/api/v1/app/bench/endpoint" "{\"url\":\"$SINK/hook\"}" >/dev/null
	timeout 150 "$TOOLS/pub" "$URL" --token "$TOKEN" --app bench --count "$COUNT" --connections "$CONNS" \
		>"$WORK/pub-fill-$n.out" 2>&1 || true
	finish "$PID"
	T0=$(now_us)
	pids=()
	for i in $(seq "$n"); do
		hookd_start "drain-$n-$i" "$DB" all
		pids+=("$PID")
	done
	wait_sink "$SINK" "$COUNT" "$T0"
	DRAIN[$n]=$RATE; DRAIN_S[$n]=$SECS; DRAIN_GOT[$n]=$GOT
	log "drain, $n node(s): $GOT delivered in $SECS s: $RATE deliveries/s"
	for p in "${pids[@]}"; do finish "$p"; done
	finish "$SINK_PID"
done

{
	echo "# hookd on PostgreSQL: deliveries per second by node count"
	echo
	echo "Written by \`bench/pg-nodes.sh\`; every figure below comes from one run on one machine."
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| date | $(date -u +%Y-%m-%dT%H:%M:%SZ) |"
	echo "| cores (nproc) | $(nproc) |"
	echo "| hookd | $("$BIN" version 2>/dev/null | head -1), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?) |"
	echo "| PostgreSQL | $(psql_do "$BASE" 'SHOW server_version' 2>/dev/null), fsync $([ "${BENCH_PG_FAST:-0}" = 1 ] && echo off || echo on), same machine |"
	echo "| messages per run | $COUNT, one endpoint (the sink), $CONNS publishing connections in all |"
	echo
	echo "| nodes | live: publish + deliver | | drain: claim a stored backlog | |"
	echo "|---:|---:|---:|---:|---:|"
	for n in $NODES; do
		echo "| $n | ${LIVE[$n]} /s | ${LIVE_GOT[$n]} in ${LIVE_S[$n]} s | ${DRAIN[$n]} /s | ${DRAIN_GOT[$n]} in ${DRAIN_S[$n]} s |"
	done
	echo
	echo "All nodes, the database, the publishers and the sink share this machine's $(nproc) cores."
} >"$OUT"
cat "$OUT"
