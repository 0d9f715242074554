#!/usr/bin/env bash
# Runs the gate locally in one command: installs and starts Azurite's Table
# service, creates the table, seeds demo invitations, builds and serves the
# handler (authentication off: local only), and prints curl commands for an
# invited and an uninvited sign-up. Ctrl-C stops everything it started.
#
#   scripts/dev.sh                 serve on http://127.0.0.1:7071/api/...
#   PORT=8080 scripts/dev.sh       another port
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib/azurite.sh
source scripts/lib/azurite.sh

port=${PORT:-7071}
azurite_port=${AZURITE_TABLE_PORT:-10002}
command -v go >/dev/null || {
  echo "Go is not installed: install Go 1.26 or newer" >&2
  exit 1
}
port_free "$port" || {
  echo "port $port is busy: run PORT=<free port> scripts/dev.sh" >&2
  exit 1
}

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "stopped"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

ensure_azurite "$root"
if port_free "$azurite_port"; then
  start_azurite "$root" "$azurite_port" "$root/.azurite"
  pids+=("$AZURITE_PID")
  echo "Azurite Table service on 127.0.0.1:$azurite_port (data in .azurite/)"
else
  echo "using the Azurite already listening on 127.0.0.1:$azurite_port"
fi

echo "building handler and invitectl..."
go build -o handler ./cmd/handler
go build -o invitectl ./cmd/invitectl

export INVITATIONS_CONNECTION=UseDevelopmentStorage=true # Azurite on 127.0.0.1:10002
if [[ "$azurite_port" != 10002 ]]; then
  INVITATIONS_CONNECTION=$(azurite_connection "$azurite_port")
fi
export INVITATIONS_TABLE=${INVITATIONS_TABLE:-invitations}
./invitectl init
./invitectl add jo.bloggs@example.org --note "demo: invited by address" \
  --prefill givenName=Jo --prefill surname=Bloggs --set companyName="Example Ltd"
./invitectl add @partner.example --note "demo: a whole domain"

ENTRA_AUTH=off FUNCTIONS_CUSTOMHANDLER_PORT=$port ./handler &
pids+=("$!")
wait_port "$port" 10 || {
  echo "the handler did not start" >&2
  exit 1
}

cat <<MSG

The gate is listening on http://127.0.0.1:$port (ENTRA_AUTH=off: local only).

An invited sign-up (prefills the form):
  curl -s -H 'Content-Type: application/json' --data @testdata/requests/start-email-otp.json http://127.0.0.1:$port/api/attributeStart

The same sign-up's submit, after that start (enforces companyName; without the start it is blocked):
  curl -s -H 'Content-Type: application/json' --data @testdata/requests/submit-no-identities.json http://127.0.0.1:$port/api/attributeSubmit

An uninvited sign-up (blocked):
  curl -s -H 'Content-Type: application/json' --data @testdata/requests/start-not-invited.json http://127.0.0.1:$port/api/attributeStart

Manage invitations in another terminal:
  INVITATIONS_CONNECTION='$INVITATIONS_CONNECTION' ./invitectl add you@example.org --expires 30d

Press Ctrl-C to stop.
MSG
wait "${pids[-1]}"
