# shellcheck shell=bash
# shellcheck disable=SC2154,SC2034 # dry_run, attempts and retry_delay come from the sourcing script, guid_re goes to it
# Plumbing shared by deploy.sh and register-entra.sh: source it after
# defining usage() and dry_run.

# fd 3 is the real stdout, so a dry run can print its plan from inside $(...).
exec 3>&1

die() {
  printf '%s: %s\n' "${0##*/}" "$*" >&2
  exit 1
}

# usage_error prints what is wrong and the usage, and exits 2.
usage_error() {
  printf '%s: %s\n\n' "${0##*/}" "$*" >&2
  usage >&2
  exit 2
}

# quote prints one word so that a shell reads it back unchanged.
quote() {
  local s=$1
  if [[ $s =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
    printf '%s' "$s"
  elif [[ $s != *"'"* ]]; then
    printf "'%s'" "$s"
  else
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//\$/\\\$}
    s=${s//\`/\\\`}
    printf '"%s"' "$s"
  fi
}

# cmdline prints a command as one shell-quoted line.
cmdline() {
  local line='' arg
  for arg in "$@"; do
    line+="${line:+ }$(quote "$arg")"
  done
  printf '%s' "$line"
}

# execute runs a command. Called with attempts=N, it tries up to N times,
# retry_delay seconds apart: Azure takes a while to act on what it just created.
execute() {
  local i
  for ((i = 1; ; i++)); do
    "$@" && return 0
    ((i < ${attempts:-1})) || return 1
    printf '%s: failed (attempt %d of %d); retrying in %s s\n' "${0##*/}" "$i" "$attempts" "$retry_delay" >&2
    sleep "$retry_delay"
  done
}

# run runs a command, with its output on stderr; in a dry run it prints the command.
run() {
  if ((dry_run)); then
    printf '%s\n' "$(cmdline "$@")" >&3
  else
    execute "$@" >&2
  fi
}

# run_in is run inside a folder.
run_in() {
  local dir=$1
  shift
  if ((dry_run)); then
    printf '(cd %s && %s)\n' "$(quote "$dir")" "$(cmdline "$@")" >&3
  else
    (cd "$dir" && "$@") >&2
  fi
}

# branch labels a conditional step in the dry-run plan (a real run takes one branch).
branch() {
  if ((dry_run)); then printf '# %s\n' "$*" >&3; fi
}

# query prints a command's output; in a dry run it prints the command and
# returns the placeholder (first argument) instead.
query() {
  local placeholder=$1
  shift
  if ((dry_run)); then
    printf '%s\n' "$(cmdline "$@")" >&3
    printf '%s\n' "$placeholder"
  else
    execute "$@"
  fi
}

# note tells what happens next: a comment in the dry-run plan, else a line on stderr.
note() {
  if ((dry_run)); then
    printf '# %s\n' "$*" >&3
  else
    printf '%s\n' "$*" >&2
  fi
}

# need_az fails unless az is installed and signed in.
need_az() {
  command -v az >/dev/null \
    || die "az (Azure CLI) is not installed: see https://learn.microsoft.com/cli/azure/install-azure-cli"
  az account show --output none 2>/dev/null \
    || die "az is not signed in: run 'az login' (and 'az account set --subscription <id>')"
}

# version_at_least A B: A >= B, for dotted version numbers.
version_at_least() {
  [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1) == "$2" ]]
}

guid_re='^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'

((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 4))) \
  || die "needs bash 4.4 or later (this is $BASH_VERSION; on macOS: brew install bash)"
# A failing command inside $(...) stops the script too, not just the substitution.
shopt -s inherit_errexit
