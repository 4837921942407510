#!/usr/bin/env bash
# Run hookd's test suites and end with one line "N passed, N failed, N skipped".
# Usage: tests/run.sh [unit|integration|e2e|all]   (integration includes e2e)   (BUILD selects the build folder)
# The integration suite runs twice: on SQLite, then on a private PostgreSQL server
# (tests/pg.sh) started here and stopped on exit. HOOKD_TEST_BACKENDS="sqlite" (or
# "postgres") runs one of the two.
set -u
cd "$(dirname "$0")/.."
what=${1:-all}
build=${BUILD:-build}
backends=${HOOKD_TEST_BACKENDS:-sqlite postgres}
passed=0
failed=0
skipped=0
status=0
pg_dir=""

stop_pg() { [ -n "$pg_dir" ] && tests/pg.sh stop "$pg_dir"; pg_dir=""; }
trap stop_pg EXIT

suite_unit() {
  local bin out p f
  for bin in $(find "$build/tests/unit" -type f -name '*_test' | sort); do
    out=$("$bin" 2>&1)
    [ $? -ne 0 ] && status=1
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    if [ -n "${f:-}" ] && [ "${f:-0}" -gt 0 ] || [ -z "${p:-}" ]; then
      printf '%s\n' "$out" | grep -E 'FAILED|ERROR|Failure|error' | head -20
      echo "unit: $bin failed"
      [ -z "${p:-}" ] && [ -z "${f:-}" ] && failed=$((failed + 1))
    fi
  done
}

# integration_files: the test files, the heavy cluster tests last and on their own
integration_batches() {
  if [ -n "${INTEGRATION_FILES:-}" ]; then echo "$INTEGRATION_FILES"; return; fi
  (cd tests/integration && ls *.test.mjs | grep -v '^cluster\.test\.mjs$' | tr '\n' ' '; echo)
  [ -f tests/integration/cluster.test.mjs ] && echo cluster.test.mjs
}

# count_tap adds a node --test TAP report's pass, fail and skip counts to the totals;
# a report without a pass count (the runner died) counts as one failure
count_tap() {
  local p f s
  p=$(printf '%s\n' "$1" | sed -n 's/^# pass \([0-9]*\)/\1/p' | tail -1)
  f=$(printf '%s\n' "$1" | sed -n 's/^# fail \([0-9]*\)/\1/p' | tail -1)
  s=$(printf '%s\n' "$1" | sed -n 's/^# skipped \([0-9]*\)/\1/p' | tail -1)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  skipped=$((skipped + ${s:-0}))
  [ -z "${p:-}" ] && failed=$((failed + 1))
}

# integration_run BACKEND DBURL: the node test files against hookd on one backend
integration_run() {
  local name=$1 db=$2 out files n=0
  echo "-- integration on $name"
  while read -r files; do
    [ -n "$files" ] || continue
    n=$((n + 1))
    out=$(cd tests/integration && HOOKD_TEST_DB="$db" HOOKD_BIN="$PWD/../../${HOOKD_BIN:-hookd}" node --test --test-reporter=tap --test-concurrency=2 $files 2>&1)
    [ $? -ne 0 ] && status=1
    mkdir -p tests/out && printf '%s\n' "$out" > "tests/out/integration-$name-$n.tap"
    printf '%s\n' "$out" | grep -E '^# Subtest|^not ok|^ok|# (cluster|throttle):' | grep -v '^# Subtest' | sed "s/^/  [$name] /" | head -400
    printf '%s\n' "$out" | awk '/^not ok/{bad=1} bad{print} /^ok/{bad=0}' | head -80
    count_tap "$out"
  done < <(integration_batches)
}

suite_integration() {
  local b env
  (cd tests/integration && { [ -d node_modules ] && [ node_modules -nt package-lock.json ] || npm ci --silent --no-audit --no-fund >/dev/null; }) || {
    echo "integration: npm ci failed"; failed=$((failed + 1)); status=1; return; }
  for b in $backends; do
    case "$b" in
      sqlite) integration_run sqlite "" ;;
      postgres)
        if ! env=$(tests/pg.sh start); then
          echo "integration: cannot start PostgreSQL (tests/pg.sh start)"; failed=$((failed + 1)); status=1; continue
        fi
        pg_dir=$(printf '%s\n' "$env" | sed -n 's/^HOOKD_PG_DIR=//p')
        integration_run postgres "$(printf '%s\n' "$env" | sed -n 's/^HOOKD_TEST_DB=//p')"
        stop_pg ;;
    esac
  done
}

# the dashboard in headless chromium (tests/e2e), counted with the integration suite
suite_e2e() {
  local out
  (cd tests/e2e && { [ -d node_modules ] && [ node_modules -nt package-lock.json ] || npm ci --silent --no-audit --no-fund >/dev/null; }) || {
    echo "e2e: npm ci failed"; failed=$((failed + 1)); status=1; return; }
  out=$(cd tests/e2e && HOOKD_BIN="$PWD/../../${HOOKD_BIN:-hookd}" node --test --test-reporter=tap 2>&1)
  [ $? -ne 0 ] && status=1
  mkdir -p tests/out && printf '%s\n' "$out" > tests/out/e2e.tap
  printf '%s\n' "$out" | grep -E '^ *(not )?ok ' | sed 's/^/  /' | head -100
  printf '%s\n' "$out" | awk '/^ *not ok/{bad=1} bad{print} /^ *ok/{bad=0}' | head -80
  count_tap "$out"
}

suite_faults() {
  local out
  out=$(cd tests/faults && HOOKD_BIN="$PWD/../../${HOOKD_BIN:-hookd}" node --test --test-reporter=tap 2>&1)
  [ $? -ne 0 ] && status=1
  mkdir -p tests/out && printf '%s\n' "$out" > tests/out/faults.tap
  printf '%s\n' "$out" | grep -E '^ *(not )?ok ' | sed 's/^/  /' | head -100
  printf '%s\n' "$out" | awk '/^ *not ok/{bad=1} bad{print} /^ *ok/{bad=0}' | head -80
  count_tap "$out"
}

run() {
  local name=$1 t0=$SECONDS
  echo "== $name"
  "suite_$name"
  echo "== $name: $((SECONDS - t0))s"
}

case "$what" in
  unit) run unit ;;
  integration) run integration; run e2e ;;
  e2e) run e2e ;;
  faults) run faults ;;
  all) run unit; run integration; run e2e; run faults ;;
  *) echo "usage: tests/run.sh [unit|integration|e2e|faults|all]" >&2; exit 2 ;;
esac

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
