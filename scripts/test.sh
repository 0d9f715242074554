#!/usr/bin/env bash
# Runs every check: go vet, staticcheck, shellcheck, the shell format, and
# all tests, against a private Azurite and a private Mailpit (SMTP) that
# this script installs (if needed), starts, and stops.
#
#   scripts/test.sh                 all checks and tests
#   scripts/test.sh -run Conformance ./internal/tablestore/   go vet, then extra go test arguments
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib/azurite.sh
source scripts/lib/azurite.sh
# shellcheck source=scripts/lib/mailpit.sh
source scripts/lib/mailpit.sh
# shellcheck source=scripts/lib/lint.sh
source scripts/lib/lint.sh

command -v go >/dev/null || {
  echo "Go is not installed: install Go 1.26 or newer" >&2
  exit 1
}
ensure_azurite "$root"
ensure_mailpit "$root"

port=${TEST_AZURITE_PORT:-10112}
while ! port_free "$port"; do port=$((port + 1)); done
start_azurite "$root" "$port"
smtp_port=$((port + 1))
while ! port_free "$smtp_port"; do smtp_port=$((smtp_port + 1)); done
mailpit_port=$((smtp_port + 1))
while ! port_free "$mailpit_port"; do mailpit_port=$((mailpit_port + 1)); done
MAILPIT_PID=
trap 'kill "$AZURITE_PID" $MAILPIT_PID 2>/dev/null || true; wait "$AZURITE_PID" $MAILPIT_PID 2>/dev/null || true' EXIT
start_mailpit "$root" "$smtp_port" "$mailpit_port"
export INVITEGATE_TEST_SMTP="127.0.0.1:$smtp_port" INVITEGATE_TEST_MAILPIT_API="http://127.0.0.1:$mailpit_port"
export MAILPIT_BIN="$root/tools/bin/mailpit"
export INVITEGATE_TEST_CONNECTION
INVITEGATE_TEST_CONNECTION=$(azurite_connection "$port")
export AZURITE_TABLE_BIN="$root/tools/node_modules/.bin/azurite-table"

echo "== go vet"
go vet ./...
if [[ $# -gt 0 ]]; then
  echo "== go test (Azurite on 127.0.0.1:$port)"
  go test -count=1 "$@"
else
  lint "$root"
  echo "== go test (Azurite on 127.0.0.1:$port)"
  # The fault tests time answers against the store timeout, and the host
  # tests run the packaged handler under the Functions host emulator: run
  # each on its own, after the rest, so other packages do not share their CPUs.
  mapfile -t packages < <(go list ./... | grep -v -e /internal/e2e -e /internal/hosttest)
  go test -count=1 -race -timeout 15m "${packages[@]}"
  go test -count=1 -race -timeout 10m ./internal/e2e/
  go test -count=1 -race -timeout 10m ./internal/hosttest/
fi
