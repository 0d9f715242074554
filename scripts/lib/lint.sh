# shellcheck shell=bash
# The linters scripts/test.sh runs, pinned. Go tools run through the module
# proxy at a fixed version (nothing to install by hand); shellcheck comes
# from the system, installed from Debian's packages when missing.

STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2
SHFMT=mvdan.cc/sh/v3/cmd/shfmt@v3.14.1

# shell_scripts lists every shell script the repository tracks.
shell_scripts() {
  git -C "$1" ls-files -- '*.sh'
}

# ensure_shellcheck installs shellcheck from Debian's packages when it is
# missing (CI machines start without it).
ensure_shellcheck() {
  command -v shellcheck >/dev/null && return 0
  echo "installing shellcheck (Debian package)..."
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  if ! { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq shellcheck >/dev/null; }; then
    echo "shellcheck is not installed and could not be installed: apt-get install shellcheck" >&2
    return 1
  fi
}

# lint runs staticcheck on every Go package, shellcheck on every script,
# and shfmt to check that every script has the project's one shell style.
lint() {
  local root=$1 scripts
  mapfile -t scripts < <(shell_scripts "$root")
  echo "== staticcheck"
  go run "$STATICCHECK" ./...
  echo "== shellcheck (${#scripts[@]} scripts)"
  ensure_shellcheck
  (cd "$root" && shellcheck -x "${scripts[@]}")
  echo "== shfmt -i 2 -ci -bn -d"
  (cd "$root" && go run "$SHFMT" -i 2 -ci -bn -d "${scripts[@]}")
}
