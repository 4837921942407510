#!/usr/bin/env bash
# A private PostgreSQL server for hookd's tests and benchmarks.
#
#   tests/pg.sh start [DIR]   initdb into DIR (default: a new temporary folder), start the
#                             server on a free port on 127.0.0.1, create database "hookd";
#                             prints "HOOKD_PG_DIR=DIR" and "HOOKD_TEST_DB=postgres://..." (eval-able)
#   tests/pg.sh restart DIR   shut that server down cleanly and start it again (fault tests)
#   tests/pg.sh stop DIR      stop that server and remove DIR
#
# As root (CI) the server runs as the `postgres` OS user, which Debian's package creates.
# HOOKD_PG_DURABLE=1 keeps fsync on (benchmarks); tests turn it off for speed.
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "pg.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 1
fi

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# below the kernel's ephemeral range (32768-60999 by default), where outgoing connections
# of other tests could hold the port
free_port() {
  local p
  for p in $(shuf -i 20000-32000 -n 50); do
    if ! (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "pg.sh: no free port found" >&2
  exit 1
}

start() {
  local dir=${1:-} port opts
  [ -n "$dir" ] || dir=$(mktemp -d /tmp/hookd-pg.XXXXXX)
  mkdir -p "$dir"
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  # a port free when picked can be taken before the server binds it: try a few
  for try in 1 2 3 4 5; do
    port=$(free_port)
    opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=256MB"
    if [ "${HOOKD_PG_DURABLE:-0}" != 1 ]; then
      opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    as_pg "$bindir/pg_ctl" -D "$dir/data" -o "$opts" -l "$dir/server.log" -w -t 30 start >/dev/null && break
    grep -q "could not bind" "$dir/server.log" && [ "$try" -lt 5 ] || { cat "$dir/server.log" >&2; exit 1; }
  done
  as_pg "$bindir/psql" -qAt -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'CREATE DATABASE hookd' >/dev/null
  echo "postgres://postgres@127.0.0.1:$port/hookd" >"$dir/url"
  echo "HOOKD_PG_DIR=$dir"
  echo "HOOKD_TEST_DB=postgres://postgres@127.0.0.1:$port/hookd"
}

stop() {
  local dir=${1:?usage: tests/pg.sh stop DIR}
  [ -d "$dir/data" ] && as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

restart() {
  local dir=${1:?usage: tests/pg.sh restart DIR}
  as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -l "$dir/server.log" -w -t 30 restart >/dev/null ||
    { cat "$dir/server.log" >&2; exit 1; }
}

case "${1:-}" in
  start) start "${2:-}" ;;
  restart) restart "${2:-}" ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: tests/pg.sh start [DIR] | restart DIR | stop DIR" >&2; exit 2 ;;
esac
