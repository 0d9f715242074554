# shellcheck shell=bash disable=SC2034 # AZURITE_PID is for the sourcing script
# Shared by the scripts: install Azurite (pinned in tools/package.json) and
# start its Table service. Source it; it defines functions only.

# ensure_azurite installs Azurite into tools/node_modules when missing.
ensure_azurite() {
  local root=$1
  if [[ -x "$root/tools/node_modules/.bin/azurite-table" ]]; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm is not installed: install Node.js 20 or newer, then run this again" >&2
    return 1
  fi
  echo "installing Azurite (tools/package.json)..." >&2
  (cd "$root/tools" && npm ci --no-audit --no-fund --loglevel=error) >&2
}

# port_free PORT succeeds when nothing listens on 127.0.0.1:PORT.
port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_port PORT SECONDS waits until 127.0.0.1:PORT accepts connections.
wait_port() {
  local port=$1 deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.05
  done
  return 1
}

# start_azurite ROOT PORT [LOCATION] starts the Table service in the
# background and sets AZURITE_PID. With LOCATION it persists data there;
# without, it keeps everything in memory.
start_azurite() {
  local root=$1 port=$2 location=${3:-}
  local args=(--tableHost 127.0.0.1 --tablePort "$port" --disableTelemetry --silent --skipApiVersionCheck)
  if [[ -n "$location" ]]; then
    mkdir -p "$location"
    args+=(--location "$location")
  else
    args+=(--inMemoryPersistence)
  fi
  "$root/tools/node_modules/.bin/azurite-table" "${args[@]}" >/dev/null 2>&1 &
  AZURITE_PID=$!
  if ! wait_port "$port" 30; then
    echo "Azurite did not start on 127.0.0.1:$port" >&2
    return 1
  fi
}

# azurite_connection PORT prints the connection string of that Azurite.
azurite_connection() {
  printf 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:%s/devstoreaccount1;' "$1"
}
