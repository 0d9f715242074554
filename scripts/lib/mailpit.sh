# shellcheck shell=bash disable=SC2034 # MAILPIT_PID is for the sourcing script
# Shared by the scripts: install Mailpit (a real SMTP server with an HTTP API
# for reading what it received) and start it. Source it after azurite.sh
# (it uses wait_port); it defines functions only.

MAILPIT_MODULE=github.com/axllent/mailpit
MAILPIT_VERSION=v1.33.1

# ensure_mailpit installs the pinned Mailpit into tools/bin when missing.
ensure_mailpit() {
  local root=$1 bin="$1/tools/bin/mailpit"
  if [[ -x $bin ]] && go version -m "$bin" 2>/dev/null | grep -q "mod[[:space:]]*${MAILPIT_MODULE}[[:space:]]*${MAILPIT_VERSION}"; then
    return 0
  fi
  echo "installing Mailpit $MAILPIT_VERSION into tools/bin..." >&2
  GOBIN="$root/tools/bin" GOFLAGS=-mod=mod go install "$MAILPIT_MODULE@$MAILPIT_VERSION" >&2
}

# start_mailpit ROOT SMTP_PORT HTTP_PORT starts Mailpit in the background,
# on loopback, and sets MAILPIT_PID.
start_mailpit() {
  local root=$1 smtp_port=$2 http_port=$3
  "$root/tools/bin/mailpit" --smtp "127.0.0.1:$smtp_port" --listen "127.0.0.1:$http_port" \
    --max 0 --disable-version-check --smtp-disable-rdns --quiet >/dev/null 2>&1 &
  MAILPIT_PID=$!
  if ! wait_port "$smtp_port" 30 || ! wait_port "$http_port" 30; then
    echo "Mailpit did not start on 127.0.0.1:$smtp_port" >&2
    return 1
  fi
}
