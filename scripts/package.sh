#!/usr/bin/env bash
# package.sh builds the deployment zip for the Azure Functions app:
#
#   host.json                 at the root
#   <function>/function.json  one folder per function (every */function.json at the repo root)
#   handler                   ./cmd/handler for linux/amd64, static, mode 0755
#
# and nothing else: no sources, no tests, no local.settings.json.
#
# Usage: scripts/package.sh [--stage-dir DIR] [OUTPUT.zip]
#
#   OUTPUT.zip        where to write the zip (default: $INVITEGATE_ZIP, else
#                     dist/invitegate.zip under the repo root)
#   --stage-dir DIR   also leave the unzipped app in DIR, which must not exist yet
#                     (deploy.sh uses it for `func azure functionapp publish`)
#
# Needs only bash and Go: the zip is written by scripts/zipapp, which sets the
# Unix modes explicitly, so no zip tool is needed and the executable bit survives.
set -euo pipefail

usage() {
  cat >&2 <<'USAGE'
Usage: scripts/package.sh [--stage-dir DIR] [OUTPUT.zip]

  OUTPUT.zip        where to write the zip (default: $INVITEGATE_ZIP, else
                    dist/invitegate.zip under the repo root)
  --stage-dir DIR   also leave the unzipped app in DIR, which must not exist yet
USAGE
}

die() {
  printf 'package.sh: %s\n' "$*" >&2
  exit 1
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${INVITEGATE_ZIP:-$root/dist/invitegate.zip}
stage_dir=

while (($# > 0)); do
  case $1 in
    --stage-dir)
      (($# >= 2)) || {
        usage
        exit 2
      }
      stage_dir=$2
      shift 2
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    -*)
      usage
      exit 2
      ;;
    *)
      out=$1
      shift
      ;;
  esac
done

[[ $out == *.zip ]] || die "output must end in .zip, got: $out"
[[ $out == /* ]] || out=$PWD/$out
command -v go >/dev/null || die "go is not installed: https://go.dev/doc/install"

# The app the Functions host sees: host.json must name the binary we build.
[[ -f $root/host.json ]] || die "$root/host.json is missing"
grep -Eq '"defaultExecutablePath"[[:space:]]*:[[:space:]]*"handler"' "$root/host.json" \
  || die 'host.json: customHandler.description.defaultExecutablePath must be "handler"'
functions=()
for f in "$root"/*/function.json; do
  if [[ -f $f ]]; then
    functions+=("$(basename "$(dirname "$f")")")
  fi
done
((${#functions[@]} > 0)) || die "no */function.json at the repo root: nothing to package"

if [[ -n $stage_dir ]]; then
  [[ ! -e $stage_dir ]] || die "--stage-dir $stage_dir already exists"
  mkdir -p "$stage_dir"
  stage=$(cd "$stage_dir" && pwd)
else
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
fi

printf 'package.sh: building handler (linux/amd64, CGO_ENABLED=0)\n' >&2
(cd "$root" && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \
  go build -trimpath -ldflags='-s -w' -o "$stage/handler" ./cmd/handler)

cp "$root/host.json" "$stage/host.json"
entries=(host.json handler)
for fn in "${functions[@]}"; do
  mkdir -p "$stage/$fn"
  cp "$root/$fn/function.json" "$stage/$fn/function.json"
  entries+=("$fn/function.json")
done

# zipapp runs on this machine, so it must not inherit a cross-compiling GOOS/GOARCH.
(cd "$root" && env -u GOOS -u GOARCH go run ./scripts/zipapp -o "$out" -C "$stage" -x handler "${entries[@]}")
printf 'package.sh: wrote %s (%s)\n' "$out" "${entries[*]}" >&2
printf '%s\n' "$out"
