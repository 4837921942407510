#!/usr/bin/env bash
# Install what hookd needs to build and test, on Debian, when it is missing.
# Usage: scripts/deps.sh [build|test|all]   (default: all)
# Idempotent: it checks with dpkg first and calls apt-get only for what is absent.
set -euo pipefail

build_pkgs=(build-essential pkg-config libmicrohttpd-dev libcurl4-openssl-dev libssl-dev
            libsqlite3-dev libjansson-dev libuv1-dev libpq-dev libyaml-dev liblua5.4-dev libgnutls28-dev)
test_pkgs=(libcmocka-dev nodejs npm postgresql clang libclang-rt-14-dev wrk sqlite3 curl webhook chromium)

want=("${build_pkgs[@]}")
case "${1:-all}" in
  build) ;;
  test|all) want+=("${test_pkgs[@]}") ;;
  *) echo "usage: scripts/deps.sh [build|test|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  # node may come from elsewhere than Debian's package (it does on some images)
  if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
