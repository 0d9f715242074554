#!/usr/bin/env bash
# Measures the gate as it runs in production and prints Markdown tables
# (docs/performance.md explains every row): installs Azurite if needed and
# starts a private in-memory one, builds the stripped linux/amd64 handler,
# then runs scripts/benchgate, which serves a local discovery/JWKS
# endpoint, seeds invitations and drives the handler over HTTP. Everything
# stays on 127.0.0.1; every run is bounded (about two minutes in all).
#
#   scripts/bench.sh                          the full run
#   scripts/bench.sh -duration 3s -step 2s    shorter runs (any benchgate flag)
#   BENCH_AZURITE_PORT=10300 scripts/bench.sh  where to start looking for a free port
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib/azurite.sh
source scripts/lib/azurite.sh

command -v go >/dev/null || {
  echo "Go is not installed: install Go 1.26 or newer" >&2
  exit 1
}
ensure_azurite "$root"

work=$(mktemp -d)
azurite_pid=
cleanup() {
  if [[ -n "$azurite_pid" ]]; then
    kill "$azurite_pid" 2>/dev/null || true
    wait "$azurite_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "building the handler as it is deployed (CGO_ENABLED=0 linux/amd64 -trimpath -ldflags='-s -w')..." >&2
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags='-s -w' -o "$work/handler" ./cmd/handler
go build -o "$work/benchgate" ./scripts/benchgate

port=${BENCH_AZURITE_PORT:-10210}
while ! port_free "$port"; do port=$((port + 1)); done
start_azurite "$root" "$port"
azurite_pid=$AZURITE_PID
azurite_version="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' tools/node_modules/azurite/package.json | head -n 1) on Node $(node --version 2>/dev/null || echo '(version unknown)')"

"$work/benchgate" \
  -handler "$work/handler" \
  -connection "$(azurite_connection "$port")" \
  -azurite-pid "$azurite_pid" \
  -azurite-version "$azurite_version" \
  "$@"
