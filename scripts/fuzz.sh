#!/usr/bin/env bash
# Runs every fuzz test for a fixed time each (not part of scripts/test.sh or
# CI's default run: fuzzing never ends on its own).
#
#   scripts/fuzz.sh                      30s per target
#   FUZZTIME=5m scripts/fuzz.sh          longer
#   scripts/fuzz.sh FuzzServe            only the targets whose name matches
#
# When a target fails, go test writes the input to
# <package>/testdata/fuzz/<Target>/<hash>. Commit that file: from then on
# the plain `go test ./...` (and CI) replays it as a regression test, and it
# keeps failing until the bug is fixed. Inputs that only widened coverage
# stay in Go's cache and are not committed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v go >/dev/null || {
  echo "Go is not installed: install Go 1.26 or newer" >&2
  exit 1
}

fuzztime=${FUZZTIME:-30s}
# Time spent shrinking each new input; Go's default (60s) can use up a short
# run on one input.
minimize=${FUZZMINIMIZETIME:-5s}
only=${1:-}

targets=(
  "FuzzDecode ./internal/graph"
  "FuzzServe ./internal/server"
  "FuzzAuthenticate ./internal/entraauth"
)

failed=()
for t in "${targets[@]}"; do
  read -r name pkg <<<"$t"
  if [ -n "$only" ] && [[ $name != *"$only"* ]]; then
    continue
  fi
  echo "== $name ($pkg) for $fuzztime"
  if ! go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize"; then
    failed+=("$name")
  fi
done

if ((${#failed[@]} > 0)); then
  echo >&2
  echo "failing: ${failed[*]}" >&2
  echo "the inputs are under <package>/testdata/fuzz/; commit them, fix the bug, and go test ./... replays them" >&2
  git status --short -- '*/testdata/fuzz/*' >&2 || true
  exit 1
fi
echo "no failures"
