#!/usr/bin/env bash
# deploy.sh provisions invitegate in Azure and publishes the app, in one command:
#
#   0. (Flex) the region check         Flex Consumption offers runtime custom 1.0 in --location
#   1. az group create                 the resource group
#   2. az deployment group create      infra/main.json: Function App, storage, monitoring, alerts
#   3. scripts/package.sh              dist/invitegate.zip (linux/amd64 handler + function.json files)
#   4. publish                         func azure functionapp publish when func is installed,
#                                      else az functionapp deployment source config-zip
#                                      (stopped after --upload-timeout: its Flex status poll
#                                      can loop forever; step 5 then checks the app)
#   5. check that both functions are listed, and print the function URLs
#
# Every step is idempotent: run the same command again to update the app.
# --dry-run prints the commands instead, runs none of them and builds nothing.
# Every Azure call is in main() at the bottom, in the order it runs.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/deploy.sh --resource-group RG --location LOCATION --name PREFIX
                         --tenant-id TENANT_ID --audience APP_ID
                         [--plan flex|premium] [--publisher auto|func|az]
                         [--alert-email EMAIL] [--timeout-ms MS]
                         [--email-issuers LIST] [--signup-window DURATION]
                         [--log-hash-key-file FILE]
                         [--upload-timeout SECONDS]
                         [--subscription SUBSCRIPTION] [--dry-run]

  --resource-group RG   resource group to create or update          env AZURE_RESOURCE_GROUP
  --location LOCATION   Azure region, e.g. westeurope               env AZURE_LOCATION
  --name PREFIX         prefix of every resource name; the function
                        app is PREFIX-func (3-40 of a-z 0-9 -)       env INVITEGATE_NAME
  --tenant-id ID        directory ID of the Entra External ID tenant env ENTRA_TENANT_ID
  --audience APP_ID     application (client) ID of the extension's
                        app registration (scripts/register-entra.sh) env ENTRA_AUDIENCE
  --plan                flex (default): Flex Consumption, 1 always-ready instance;
                        premium: Elastic Premium EP1                 env INVITEGATE_PLAN
                        With flex, the script first checks that Flex Consumption
                        offers runtime custom 1.0 in LOCATION.
  --publisher           auto (default): func if installed, else az;
                        func: func azure functionapp publish;
                        az: az functionapp deployment source config-zip
                                                                     env INVITEGATE_PUBLISHER
  --alert-email EMAIL   who gets the alerts (default: nobody; they still show
                        in Azure Monitor)                            env INVITEGATE_ALERT_EMAIL
  --timeout-ms MS       the extensions' timeout given to register-entra.sh
                        (default 1000): the latency alert fires at half of it
                                                                     env ENTRA_TIMEOUT_MS
  --email-issuers LIST  federated providers whose email attribute the gate
                        trusts, comma-separated as Entra names their issuers
                        (default google.com; none: local accounts only)
                                                                     env INVITEGATE_EMAIL_ISSUERS
  --signup-window D     how long an approved start admits its submit, in whole
                        h, m and s from 1m to 24h (default 30m)      env INVITEGATE_SIGNUP_WINDOW
  --log-hash-key-file F file holding the key of the email digest in decision
                        logs: at least 16 random characters (openssl rand -hex 32),
                        or a Key Vault reference @Microsoft.KeyVault(SecretUri=...).
                        Default: no digest. Read from the file, so that the key
                        is on no command line; the plan shows <from F>.
                                                                     env INVITEGATE_LOG_HASH_KEY_FILE
  --upload-timeout S    stop az's zip upload after S seconds (default 600) and
                        check the app instead                        env INVITEGATE_UPLOAD_TIMEOUT
  --subscription SUB    subscription to deploy to (default: az's current one)
                                                                     env AZURE_SUBSCRIPTION_ID
  --dry-run             print every command instead of running it    env INVITEGATE_DRY_RUN=1
USAGE
}

# shellcheck source=scripts/lib/plumbing.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/plumbing.sh"

# --- configuration -------------------------------------------------------------

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
template=infra/main.json
deployment=invitegate
zip=${INVITEGATE_ZIP:-dist/invitegate.zip}
func_stage=dist/func-publish
min_az_version=2.60.0 # the first az that deploys to Flex Consumption

resource_group=${AZURE_RESOURCE_GROUP:-}
location=${AZURE_LOCATION:-}
name=${INVITEGATE_NAME:-}
tenant_id=${ENTRA_TENANT_ID:-}
audience=${ENTRA_AUDIENCE:-}
plan=${INVITEGATE_PLAN:-flex}
publisher=${INVITEGATE_PUBLISHER:-auto}
alert_email=${INVITEGATE_ALERT_EMAIL:-}
timeout_ms=${ENTRA_TIMEOUT_MS:-1000}
email_issuers=${INVITEGATE_EMAIL_ISSUERS:-}
signup_window=${INVITEGATE_SIGNUP_WINDOW:-}
log_hash_key_file=${INVITEGATE_LOG_HASH_KEY_FILE:-}
log_hash_key=''      # read from log_hash_key_file; never on a command line
secret_parameters='' # the private parameters file that carries log_hash_key to az
upload_timeout=${INVITEGATE_UPLOAD_TIMEOUT:-600}
subscription=${AZURE_SUBSCRIPTION_ID:-}
retry_delay=${INVITEGATE_RETRY_DELAY:-15}
dry_run=0
if [[ ${INVITEGATE_DRY_RUN:-} == 1 ]]; then dry_run=1; fi
sub=() # --subscription SUB for every az command, when given

parse_args() {
  while (($# > 0)); do
    case $1 in
      --resource-group | --location | --name | --tenant-id | --audience | --plan | --publisher | --alert-email | --timeout-ms | --email-issuers | --signup-window | --log-hash-key-file | --upload-timeout | --subscription)
        (($# >= 2)) || usage_error "$1 needs a value"
        case $1 in
          --resource-group) resource_group=$2 ;;
          --location) location=$2 ;;
          --name) name=$2 ;;
          --tenant-id) tenant_id=$2 ;;
          --audience) audience=$2 ;;
          --plan) plan=$2 ;;
          --publisher) publisher=$2 ;;
          --alert-email) alert_email=$2 ;;
          --timeout-ms) timeout_ms=$2 ;;
          --email-issuers) email_issuers=$2 ;;
          --signup-window) signup_window=$2 ;;
          --log-hash-key-file) log_hash_key_file=$2 ;;
          --upload-timeout) upload_timeout=$2 ;;
          --subscription) subscription=$2 ;;
        esac
        shift 2
        ;;
      --dry-run)
        dry_run=1
        shift
        ;;
      -h | --help)
        usage
        exit 0
        ;;
      *) usage_error "unknown argument: $1" ;;
    esac
  done

  local missing=()
  [[ -n $resource_group ]] || missing+=(--resource-group)
  [[ -n $location ]] || missing+=(--location)
  [[ -n $name ]] || missing+=(--name)
  [[ -n $tenant_id ]] || missing+=(--tenant-id)
  [[ -n $audience ]] || missing+=(--audience)
  ((${#missing[@]} == 0)) || usage_error "missing ${missing[*]}"

  [[ $name =~ ^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$ ]] \
    || usage_error "--name $name: use 3-40 characters of a-z, 0-9 and -, not starting or ending with -"
  [[ $tenant_id =~ $guid_re ]] || usage_error "--tenant-id $tenant_id: expected the tenant's directory ID (a GUID)"
  [[ $audience =~ $guid_re ]] \
    || usage_error "--audience $audience: expected the extension app registration's application (client) ID (a GUID)"
  [[ $plan == flex || $plan == premium ]] || usage_error "--plan $plan: expected flex or premium"
  [[ -z $alert_email || $alert_email =~ ^[^@[:space:]\']+@[^@[:space:]\']+$ ]] \
    || usage_error "--alert-email $alert_email: expected an email address"
  if ! [[ $timeout_ms =~ ^[1-9][0-9]{2,3}$ ]] || ((timeout_ms < 200 || timeout_ms > 2000)); then
    usage_error "--timeout-ms $timeout_ms: Entra takes 200 to 2000"
  fi
  [[ $upload_timeout =~ ^[1-9][0-9]*$ ]] || usage_error "--upload-timeout $upload_timeout: expected seconds"
  check_email_issuers
  check_signup_window
  if [[ -n $log_hash_key_file ]]; then read_log_hash_key; fi
  case $publisher in
    auto) if command -v func >/dev/null; then publisher=func; else publisher=az; fi ;;
    func | az) ;;
    *) usage_error "--publisher $publisher: expected auto, func or az" ;;
  esac
  if [[ -n $subscription ]]; then sub=(--subscription "$subscription"); fi
}

# The handler's settings are checked here by the rules the handler applies
# at start (internal/settings), so that a value it would refuse never
# reaches the app; internal/deploytest holds the two to the same verdicts.

# check_email_issuers checks --email-issuers like INVITE_EMAIL_ISSUERS, and
# writes it without the spaces around commas. Stricter than the handler: none
# must stand alone.
check_email_issuers() {
  local value part parts issuer issuers=()
  value=$(trim "$email_issuers")
  [[ -n $value ]] || return 0
  if [[ ${value,,} == none ]]; then
    email_issuers=none
    return
  fi
  [[ $value != *[[:cntrl:]]* ]] || usage_error "--email-issuers holds a control character: separate issuers with commas"
  IFS=, read -ra parts <<<"$value"
  for part in "${parts[@]}"; do
    issuer=$(trim "$part")
    case ${issuer,,} in
      '') continue ;;
      none) usage_error "--email-issuers $value: write none alone, for local accounts only" ;;
      mail | phone) usage_error "--email-issuers lists $issuer: that is a local sign-in, not an identity provider; local accounts are always accepted, so leave it out" ;;
    esac
    [[ $issuer != *[[:space:]]* ]] || usage_error "--email-issuers entry '$issuer' holds a space: separate issuers with commas"
    issuers+=("$issuer")
  done
  ((${#issuers[@]} > 0)) || usage_error "--email-issuers $value names no issuer: list issuers such as google.com, or write none"
  email_issuers=$(
    IFS=,
    printf '%s' "${issuers[*]}"
  )
}

# check_signup_window checks --signup-window like INVITE_SIGNUP_WINDOW (a Go
# duration from 1m to 24h), in the template's pattern for signupWindow: whole
# hours, minutes and seconds (the handler also takes 1.5h or 90000ms).
check_signup_window() {
  [[ -n $signup_window ]] || return 0
  local seconds
  [[ $signup_window =~ ^(([0-9]{1,5})h)?(([0-9]{1,5})m)?(([0-9]{1,5})s)?$ ]] \
    || usage_error "--signup-window $signup_window: write a duration in whole hours, minutes and seconds, such as 30m or 1h30m"
  seconds=$((10#${BASH_REMATCH[2]:-0} * 3600 + 10#${BASH_REMATCH[4]:-0} * 60 + 10#${BASH_REMATCH[6]:-0}))
  ((seconds >= 60 && seconds <= 86400)) \
    || usage_error "--signup-window $signup_window is out of range: use 1m to 24h (how long after start the submit of a sign-up may come)"
}

# read_log_hash_key reads the key of INVITE_LOG_HASH_KEY from its file, trimmed
# as the handler trims the setting, and refuses one the handler would refuse.
# It stays in a variable: no process gets it as an argument, so it is not in
# the process list, the plan or a log.
read_log_hash_key() {
  local file=$log_hash_key_file
  [[ -f $file && -r $file ]] || usage_error "--log-hash-key-file $file: cannot read it"
  log_hash_key=$(trim "$(<"$file")")
  [[ $log_hash_key != *[[:cntrl:]]* ]] \
    || usage_error "--log-hash-key-file $file: the key must be one line, without control characters"
  ((${#log_hash_key} >= 16)) \
    || usage_error "--log-hash-key-file $file: the key has ${#log_hash_key} characters; use at least 16 random ones (for example: openssl rand -hex 32 >$file)"
}

# trim prints its argument without leading and trailing white space.
trim() {
  local s=$1
  s=${s#"${s%%[![:space:]]*}"}
  printf '%s' "${s%"${s##*[![:space:]]}"}"
}

# write_secret_parameters writes logHashKey to a private parameters file (mode
# 0600, from mktemp) for az's --parameters @FILE, which azure-cli reads as a
# parameters file; the EXIT trap removes it, and a signal ends the script
# through exit so that the trap runs (bash skips it when a signal kills it).
# printf is a shell builtin, so the key reaches no command line.
write_secret_parameters() {
  local value=${log_hash_key//\\/\\\\}
  value=${value//\"/\\\"}
  secret_parameters=$(mktemp)
  trap 'rm -f "$secret_parameters"' EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  printf '{"parameters": {"logHashKey": {"value": "%s"}}}\n' "$value" >"$secret_parameters"
}

# preflight checks the tools a real run needs, before it changes anything.
preflight() {
  need_az
  if [[ $plan == flex ]]; then
    local version
    version=$(az version --query '"azure-cli"' --output tsv)
    version_at_least "$version" "$min_az_version" \
      || die "az $version is too old: Flex Consumption needs $min_az_version or later (az upgrade)"
  fi
  command -v go >/dev/null || die "go is not installed (scripts/package.sh builds the handler): https://go.dev/doc/install"
  if [[ $publisher == func ]]; then
    command -v func >/dev/null || die "func (Azure Functions Core Tools) is not installed: use --publisher az"
  fi
  note "Deploying to subscription: $(az account show "${sub[@]}" --query name --output tsv)"
}

# check_region stops before any change when Flex Consumption does not offer
# runtime custom 1.0 (the template's functionAppConfig.runtime) in the region.
check_region() {
  [[ $plan == flex ]] || return 0
  note "0. Flex Consumption offers runtime custom 1.0 in $location"
  local versions
  versions=$(query '1.0' az functionapp list-flexconsumption-runtimes --location "$location" --runtime custom \
    "${sub[@]}" --query '[].version' --output tsv) || versions=''
  grep -qx '1.0' <<<"$versions" \
    || die "Flex Consumption does not offer runtime custom 1.0 in $location (offered: ${versions:-none}): use --plan premium, or another --location (az functionapp list-flexconsumption-locations)"
}

# with_deadline SECONDS COMMAND...: runs COMMAND and stops it (SIGTERM) if it
# still runs after SECONDS; returns its status, or 124 when it was stopped.
with_deadline() {
  local seconds=$1 pid watcher status=0 watched=0 s
  shift
  "$@" &
  pid=$!
  (
    for ((s = 0; s < seconds; s++)); do
      sleep 1
      kill -0 "$pid" 2>/dev/null || exit 0
    done
    kill -TERM "$pid" 2>/dev/null && exit 124
  ) &
  watcher=$!
  # Background commands of a script ignore Ctrl-C: pass it on.
  trap 'kill "$pid" "$watcher" 2>/dev/null; exit 130' INT TERM
  wait "$pid" || status=$?
  kill "$watcher" 2>/dev/null || true
  wait "$watcher" || watched=$?
  trap - INT TERM
  if ((watched == 124)); then return 124; fi
  return "$status"
}

# publish_zip runs the az zip upload (its arguments) with a deadline per
# attempt, up to 8 attempts: the app's identity needs its new role on the
# deployment storage, which can take a minute or two on a first deployment.
# An upload stopped at the deadline is not retried: azure-cli's poll of the
# Flex host's status (appservice/custom.py) can loop forever after the
# package went up, so step 5 checks the app instead.
publish_zip() {
  if ((dry_run)); then
    run "$@"
    return
  fi
  local i status
  for ((i = 1; ; i++)); do
    status=0
    with_deadline "$upload_timeout" "$@" >&2 || status=$?
    case $status in
      0) return 0 ;;
      124)
        note "WARNING: the upload did not finish within $upload_timeout s (azure-cli can keep polling the Flex host); checking the app instead."
        return 0
        ;;
    esac
    ((i < 8)) || die "the upload failed $i times: see az's output above"
    printf '%s: failed (attempt %d of 8); retrying in %s s\n' "${0##*/}" "$i" "$retry_delay" >&2
    sleep "$retry_delay"
  done
}

# --- the deployment ------------------------------------------------------------

main() {
  parse_args "$@"
  ((dry_run)) || preflight
  cd "$root"
  check_region

  note "1. Resource group"
  run az group create --name "$resource_group" --location "$location" "${sub[@]}" --output none

  note "2. Infrastructure: $template (plan $plan)"
  local outputs app host start_url submit_url
  local params=(namePrefix="$name" plan="$plan" entraTenantId="$tenant_id" entraAudience="$audience" entraTimeoutMs="$timeout_ms")
  if [[ -n $alert_email ]]; then params+=(alertEmail="$alert_email"); fi
  if [[ -n $email_issuers ]]; then params+=(emailIssuers="$email_issuers"); fi
  if [[ -n $signup_window ]]; then params+=(signupWindow="$signup_window"); fi
  if [[ -n $log_hash_key ]]; then
    if ((dry_run)); then
      params+=("logHashKey=<from $log_hash_key_file>")
    else
      write_secret_parameters
      params+=("@$secret_parameters")
    fi
  fi
  outputs=$(query $'<functionAppName>\n<defaultHostName>\n<attributeStartUrl>\n<attributeSubmitUrl>' \
    az deployment group create --resource-group "$resource_group" --name "$deployment" \
    --template-file "$template" --parameters "${params[@]}" \
    "${sub[@]}" \
    --query 'properties.outputs.[functionAppName.value, defaultHostName.value, attributeStartUrl.value, attributeSubmitUrl.value]' \
    --output tsv)
  if [[ -n $secret_parameters ]]; then rm -f "$secret_parameters"; fi
  local out
  mapfile -t out <<<"$outputs"
  app=${out[0]:-} host=${out[1]:-} start_url=${out[2]:-} submit_url=${out[3]:-}
  [[ -n $app && -n $host && -n $start_url && -n $submit_url ]] \
    || die "expected 4 outputs from the deployment, got: $outputs"

  note "3. Package: $zip"
  if [[ $publisher == func ]]; then
    run rm -rf "$func_stage"
    run bash scripts/package.sh --stage-dir "$func_stage" "$zip"
  else
    run bash scripts/package.sh "$zip"
  fi

  note "4. Publish to $app"
  if [[ $publisher == func ]]; then
    # --custom: the staged folder has no local.settings.json to tell func the worker runtime.
    run_in "$func_stage" func azure functionapp publish "$app" --custom "${sub[@]}"
  else
    note "(each attempt stopped after $upload_timeout s: azure-cli's status poll for Flex can loop forever)"
    publish_zip az functionapp deployment source config-zip --resource-group "$resource_group" --name "$app" \
      --src "$zip" "${sub[@]}" --output none
  fi

  note "5. Check that the host lists both functions"
  local functions
  functions=$(query $'<functionAppName>/attributeStart\n<functionAppName>/attributeSubmit' \
    az functionapp function list --resource-group "$resource_group" --name "$app" "${sub[@]}" \
    --query '[].name' --output tsv)
  local fn
  for fn in attributeStart attributeSubmit; do
    grep -q "/$fn\$" <<<"$functions" \
      || note "WARNING: $app does not list $fn yet. On a first deployment the role assignments can take a few minutes to apply: run the same command again. Else see the function app's logs."
  done

  note "Done. Then, if not done yet, attach the extensions to the user flow: scripts/register-entra.sh --tenant-id $tenant_id --function-host $host --user-flow '<user flow name>'"
  printf 'INVITEGATE_FUNCTION_APP=%s\n' "$app"
  printf 'INVITEGATE_FUNCTION_HOST=%s\n' "$host"
  printf 'ATTRIBUTE_START_URL=%s\n' "$start_url"
  printf 'ATTRIBUTE_SUBMIT_URL=%s\n' "$submit_url"
}

main "$@"
