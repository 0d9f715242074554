#!/usr/bin/env bash
# shellcheck disable=SC2016 # OData's $select and JMESPath's `literals` are not shell expansions
# register-entra.sh registers invitegate with an Entra External ID tenant, through
# Microsoft Graph (az rest), so that Entra calls the function app during sign-up:
#
#   0. preflight: az is signed in to the tenant, and its Graph token holds every
#      permission the steps below need (see graph_needs); if not, it stops
#      before the first write and says how to go on
#   1. the extension's app registration (found by display name, else created):
#      identifier URI api://<function-host>/<appId> first, v2 access tokens, and
#      the Graph application permission CustomAuthenticationExtension.Receive.Payload,
#      merged with what the app already has
#   2. its service principal, and admin consent for that permission (an app role
#      assignment); without it sign-ups fail with 1003021
#   3. a service principal for Entra's caller app (99045fe1-…), if the tenant has none
#   4. two custom authentication extensions, found by type and name, created or
#      updated: OnAttributeCollectionStart and OnAttributeCollectionSubmit
#   5. with --user-flow: the flow's email input made read-only, then both
#      extensions attached to the flow the way Microsoft documents it (PUT
#      …/customExtension/$ref, beta), each read back
#   6. prints ENTRA_TENANT_ID and ENTRA_AUDIENCE; with --set-app-settings, sets
#      them on the function app
#
# --detach --user-flow NAME does only the reverse of step 5's attach: it takes
# invitegate's extensions off the user flow (which then lets anyone sign up) and
# reads the flow back.
#
# Every step looks before it writes, so running it again changes nothing that is
# already right. Graph calls are retried only on 429 and 5xx, and on a 404 right
# after this run created the object (directory replication); a create that
# failed is looked up again before it is sent again. --dry-run prints the plan
# instead: every command with its body, with <placeholders> for the values that
# would come from Graph. Every Graph call is in main() at the bottom, in order.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/register-entra.sh --tenant-id TENANT_ID --function-host HOST
                                 [--user-flow NAME [--replace]] [--display-name NAME]
                                 [--timeout-ms MS] [--graph-token-file FILE]
                                 [--set-app-settings --resource-group RG --app NAME
                                  [--subscription SUBSCRIPTION]]
                                 [--dry-run]
       scripts/register-entra.sh --tenant-id TENANT_ID --user-flow NAME --detach
                                 [--graph-token-file FILE] [--dry-run]

  --tenant-id ID        directory ID of the Entra External ID tenant; az must be
                        signed in to it (az login --tenant ID --allow-no-subscriptions)
                                                                     env ENTRA_TENANT_ID
  --function-host HOST  the function app's host, e.g. PREFIX-func.azurewebsites.net
                                                                     env INVITEGATE_FUNCTION_HOST
  --user-flow NAME      sign-up user flow to attach the extensions to; leave it out
                        until the function app answers          env INVITEGATE_USER_FLOW
  --replace             replace extensions that are not invitegate's on that flow
                        (without it the script names them and stops)
  --display-name NAME   app registration name, and prefix of the extensions' names
                        (default invitegate-extension)           env INVITEGATE_EXTENSION_NAME
  --timeout-ms MS       how long Entra waits for each call, 200-2000 (default 1000)
                                                                     env INVITEGATE_TIMEOUT_MS
  --graph-token-file F  a file holding a Microsoft Graph access token to use instead
                        of az's own (which lacks some permissions: see docs/deploy.md)
                                                                     env INVITEGATE_GRAPH_TOKEN_FILE
  --set-app-settings    also set ENTRA_TENANT_ID and ENTRA_AUDIENCE on the function app
  --resource-group RG   its resource group                       env AZURE_RESOURCE_GROUP
  --app NAME            its name                                 env INVITEGATE_FUNCTION_APP
  --subscription SUB    its subscription (default: az's current one)
                                                                     env AZURE_SUBSCRIPTION_ID
  --detach              take the extensions off the user flow instead (sign-up is
                        then open to anyone: see docs/deploy.md, "Rolling back")
  --dry-run             print the plan instead of running it     env INVITEGATE_DRY_RUN=1
USAGE
}

# shellcheck source=scripts/lib/plumbing.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/plumbing.sh"

# --- Graph ---------------------------------------------------------------------

graph=https://graph.microsoft.com/v1.0
# Only the user flow's custom-extension handlers go through beta: that is where
# Microsoft documents attaching them (see attach_path).
graph_beta=https://graph.microsoft.com/beta
graph_app_id=00000003-0000-0000-c000-000000000000 # Microsoft Graph
# Graph's application permission CustomAuthenticationExtension.Receive.Payload.
receive_payload_role=214e810f-fda8-4fd7-a475-29461495eb00
# Entra's "Azure AD authentication events" app, which calls the extensions.
events_app_id=99045fe1-7639-4a75-9d4a-577b6ca3810f
# How often a Graph call that may be retried is tried, retry_delay seconds apart.
graph_tries=${INVITEGATE_GRAPH_TRIES:-5}
# Extra az rest arguments: the Authorization header from --graph-token-file.
graph_auth=()

# graph_needs lists, for each step, the Graph permissions that let it run: one
# line per need, "alternatives|what for|source". A token passes a need when it
# holds any one alternative; the first is the one to ask for. Sources are the "Permissions" tables of Graph's
# API reference (https://learn.microsoft.com/graph/api/<page>); a ReadWrite
# permission is also listed where the table names only its Read sibling,
# because the permissions reference says ReadWrite includes reading.
graph_needs() {
  if ((detach)); then
    cat <<'NEEDS'
EventListener.ReadWrite.All|read the user flow's extensions and detach them|authenticationeventsflow-update (no higher permission exists)
NEEDS
    return
  fi
  cat <<'NEEDS'
Application.ReadWrite.All Application.Read.All Directory.Read.All Directory.ReadWrite.All|find the app registration and service principals|application-list, serviceprincipal-list
Application.ReadWrite.All AppRegistration.Create|create the app registration|application-post-applications
Application.ReadWrite.All Application.ReadWrite.OwnedBy|set its identifier URI, token version and requested permission|application-update
Application.ReadWrite.All Directory.ReadWrite.All|create the service principals|serviceprincipal-post-serviceprincipals
AppRoleAssignment.ReadWrite.All|grant CustomAuthenticationExtension.Receive.Payload (app role assignment)|serviceprincipal-post-approleassignments
CustomAuthenticationExtension.ReadWrite.All|find, create and update the two custom authentication extensions|identitycontainer-post-customauthenticationextensions, customauthenticationextension-update
NEEDS
  if [[ -n $user_flow ]]; then
    cat <<'NEEDS'
EventListener.ReadWrite.All|make the user flow's email read-only, and attach or detach the extensions|authenticationeventsflow-update (no higher permission exists)
NEEDS
  fi
}

# json_string prints a JSON string literal. Inputs are checked to hold no
# control characters, so only backslash and double quote need escaping.
json_string() {
  local s=${1//\\/\\\\}
  printf '"%s"' "${s//\"/\\\"}"
}

# rows counts the non-empty lines of a query's output.
rows() {
  grep -c . <<<"$1" || true
}

# one_row fails unless a lookup found at most one match: with several, the
# script cannot know which one is ours.
one_row() {
  local what=$1 found=$2
  (($(rows "$found") <= 1)) || die "found $(rows "$found") $what; keep one (or pick another --display-name):"$'\n'"$found"
}

# http_status prints the HTTP status of a failed az rest call, or 0. az rest
# reports a failed response as "<reason phrase>(<body>)" (azure-cli,
# azure/cli/core/util.py send_raw_request); the reason phrases are HTTP's.
http_status() {
  local re='(^|ERROR: )(Bad Request|Unauthorized|Forbidden|Not Found|Method Not Allowed|Conflict|Precondition Failed|Too Many Requests|Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout)\('
  if ! [[ $1 =~ $re ]]; then
    echo 0
    return
  fi
  case ${BASH_REMATCH[2]} in
    "Bad Request") echo 400 ;;
    Unauthorized) echo 401 ;;
    Forbidden) echo 403 ;;
    "Not Found") echo 404 ;;
    "Method Not Allowed") echo 405 ;;
    Conflict) echo 409 ;;
    "Precondition Failed") echo 412 ;;
    "Too Many Requests") echo 429 ;;
    "Internal Server Error") echo 500 ;;
    "Bad Gateway") echo 502 ;;
    "Service Unavailable") echo 503 ;;
    "Gateway Timeout") echo 504 ;;
  esac
}

# graph_once runs az rest once, its output on stdout. It returns 0 on success,
# 10 on 429 or 5xx, 11 on 404, 12 on 400, and 1 on anything else, with az's
# message in graph_error (global: the caller shows it if the call fails for good).
graph_once() {
  local status
  graph_error=
  if { graph_error=$(az rest "${graph_auth[@]}" "$@" 2>&1 >&4); } 4>&1; then
    return 0
  fi
  status=$(http_status "$graph_error")
  if ((status == 429 || status >= 500)); then
    return 10
  elif ((status == 404)); then
    return 11
  elif ((status == 400)); then
    return 12
  fi
  return 1
}

# graph_failed shows az's message for a call that failed for good, and stops.
graph_failed() {
  printf '%s\n' "$graph_error" >&2
  die "$*"
}

# graph_call [--fresh] [--absent-ok[=400]] AZ_REST_ARGS... runs a call that
# may be sent again as it is: a GET, or a PATCH/PUT/DELETE that sets a value.
# It retries on 429 and 5xx and, with --fresh (the object was created by this
# run), on 404. With --absent-ok a 404 (with =400, also a 400) is an answer:
# it prints nothing and returns 3. In a dry run it prints the command only.
graph_call() {
  local fresh=0 absent_ok=0 rc try
  while [[ $1 == --fresh || $1 == --absent-ok* ]]; do
    case $1 in
      --fresh) fresh=1 ;;
      --absent-ok) absent_ok=1 ;;
      --absent-ok=400) absent_ok=2 ;;
    esac
    shift
  done
  if ((dry_run)); then
    printf '%s\n' "$(cmdline az rest "$@")" >&3
    return 0
  fi
  for ((try = 1; ; try++)); do
    rc=0
    graph_once "$@" || rc=$?
    case $rc in
      0) return 0 ;;
      11) ((absent_ok && ! fresh)) && return 3 ;;
      12) ((absent_ok == 2)) && return 3 ;;
    esac
    if ((rc == 10 || (rc == 11 && fresh))) && ((try < graph_tries)); then
      printf '%s: Graph call failed (try %d of %d); trying again in %s s: %s\n' \
        "${0##*/}" "$try" "$graph_tries" "$retry_delay" "${graph_error%%$'\n'*}" >&2
      sleep "$retry_delay"
      continue
    fi
    ((rc == 11 && absent_ok)) && return 3
    graph_failed "Graph refused: az rest $*"
  done
}

# graph_read PLACEHOLDER [graph_call options] AZ_REST_ARGS... is graph_call
# that prints PLACEHOLDER in a dry run instead of Graph's answer.
graph_read() {
  local placeholder=$1
  shift
  graph_call "$@"
  if ((dry_run)); then printf '%s\n' "$placeholder"; fi
}

# graph_create LOOKUP PLACEHOLDER [--fresh] AZ_REST_ARGS... POSTs a create and
# prints its output. A create is never sent again blindly: after a 429 or 5xx
# (or, with --fresh, a 404), which may come after the server made the object,
# it runs the function LOOKUP, which prints the object's ID if it exists now,
# and sends the create again only if it prints nothing.
graph_create() {
  local lookup=$1 placeholder=$2 fresh=0 rc try found
  shift 2
  if [[ $1 == --fresh ]]; then
    fresh=1
    shift
  fi
  if ((dry_run)); then
    printf '%s\n' "$(cmdline az rest "$@")" >&3
    printf '%s\n' "$placeholder"
    return
  fi
  for ((try = 1; ; try++)); do
    rc=0
    graph_once "$@" || rc=$?
    ((rc == 0)) && return 0
    if ! ((rc == 10 || (rc == 11 && fresh))) || ((try >= graph_tries)); then
      graph_failed "Graph refused the create: az rest $*"
    fi
    printf '%s: the create failed (try %d of %d); looking again in %s s before sending it again: %s\n' \
      "${0##*/}" "$try" "$graph_tries" "$retry_delay" "${graph_error%%$'\n'*}" >&2
    sleep "$retry_delay"
    found=$("$lookup")
    if [[ -n $found ]]; then
      printf '%s\n' "$found"
      return 0
    fi
  done
}

# graph_list PLACEHOLDER URI JMESPATH [AZ_REST_ARGS...] GETs every page of a
# collection (az rest returns one page; this follows @odata.nextLink) and
# prints the rows JMESPATH (a projection of value) selects, tab-separated.
graph_list() {
  local placeholder=$1 uri=$2 select=$3 page next
  shift 3
  if ((dry_run)); then
    graph_read "$placeholder" --method GET --uri "$uri" "$@" --query "[[\"@odata.nextLink\" || ''], $select][]" --output tsv
    return
  fi
  while :; do
    # The first line is the next page's link, or empty.
    page=$(graph_call --method GET --uri "$uri" "$@" --query "[[\"@odata.nextLink\" || ''], $select][]" --output tsv)
    next=${page%%$'\n'*}
    if [[ $page == *$'\n'* ]]; then printf '%s\n' "${page#*$'\n'}"; fi
    [[ -n $next ]] || return 0
    uri=$next
    set -- # the link holds the query parameters
  done
}

# --- the steps -----------------------------------------------------------------

# find_app prints "<objectId>\t<appId>" of the app registrations named $display_name.
find_app() {
  graph_list '' "$graph/applications" 'value[].[id, appId]' \
    --uri-parameters "\$filter=displayName eq '$display_name'" '$select=id,appId'
}

# find_service_principal prints the object ID of the service principal of app $sp_app.
find_service_principal() {
  graph_list '' "$graph/servicePrincipals" 'value[].[id]' \
    --uri-parameters "\$filter=appId eq '$sp_app'" '$select=id'
}

# service_principal prints the object ID of an app's service principal,
# creating it if there is none.
service_principal() {
  local placeholder=$2 fresh=() found
  sp_app=$1 # global: find_service_principal reads it
  if [[ $sp_app == "$app_id" && $app_created == 1 ]]; then fresh=(--fresh); fi
  found=$(find_service_principal)
  one_row "service principals for $sp_app" "$found"
  if ((dry_run)) || [[ -z $found ]]; then
    branch "if there is none:"
    found=$(graph_create find_service_principal "$placeholder" "${fresh[@]}" --method POST --uri "$graph/servicePrincipals" \
      --body "{\"appId\":\"$sp_app\"}" --query id --output tsv)
  fi
  printf '%s\n' "$found"
}

# update_app merges what invitegate needs into the app registration: its
# identifier URI first (Entra reads the first), v2 tokens, and the Graph app
# role. A PATCH replaces identifierUris and requiredResourceAccess whole, so it
# reads them first and keeps what else is there, saying so.
update_app() {
  local fresh=() current uris token_version role_count access_count
  if ((app_created)); then fresh=(--fresh); fi
  # Four lines: the identifier URIs (space-separated), how many of the app's
  # requested permissions are the Graph role, how many APIs it requests
  # permissions of, and its access token version.
  current=$(graph_read $'\n0\n0\n0' "${fresh[@]}" --method GET --uri "$graph/applications/$app_object_id" \
    --uri-parameters '$select=identifierUris,requiredResourceAccess,api' \
    --query "[join(' ', identifierUris || \`[]\`), length((requiredResourceAccess || \`[]\`)[?resourceAppId=='$graph_app_id'].resourceAccess[] | [?id=='$receive_payload_role' && type=='Role']), length(requiredResourceAccess || \`[]\`), api.requestedAccessTokenVersion || \`0\`]" \
    --output tsv)
  {
    IFS= read -r uris
    read -r role_count
    read -r access_count
    read -r token_version
  } <<<"$current"

  local body='' merged uri others=()
  merged=$(json_string "$identifier_uri")
  for uri in $uris; do
    if [[ $uri != "$identifier_uri" ]]; then
      others+=("$uri")
      merged+=",$(json_string "$uri")"
    fi
  done
  if [[ ${uris%% *} != "$identifier_uri" ]]; then
    body+=",\"identifierUris\":[$merged]"
    ((${#others[@]} == 0)) || note "Keeping the app's other identifier URIs after $identifier_uri: ${others[*]}"
  fi
  if [[ $token_version != 2 ]]; then
    body+=',"api":{"requestedAccessTokenVersion":2}'
  fi
  if ((dry_run)); then
    branch "if the app requests no API permissions yet (else 'az ad app permission add', which keeps the others):"
  fi
  if ((dry_run || (role_count == 0 && access_count == 0))); then
    body+=",\"requiredResourceAccess\":[{\"resourceAppId\":\"$graph_app_id\",\"resourceAccess\":[{\"id\":\"$receive_payload_role\",\"type\":\"Role\"}]}]"
  fi
  if [[ -n $body ]]; then
    graph_call "${fresh[@]}" --method PATCH --uri "$graph/applications/$app_object_id" --body "{${body#,}}" --output none
  fi
  if ((! dry_run && role_count == 0 && access_count > 0)); then
    note "The app already requests permissions of $access_count API(s): adding CustomAuthenticationExtension.Receive.Payload alongside them"
    run az ad app permission add --id "$app_id" --api "$graph_app_id" --api-permissions "$receive_payload_role=Role" --output none
  fi
}

# find_grant prints the ID of the app role assignment that grants $sp_id the Graph role.
find_grant() {
  graph_list '' "$graph/servicePrincipals/$sp_id/appRoleAssignments" \
    "value[?resourceId=='$graph_sp_id' && appRoleId=='$receive_payload_role'].[id]"
}

# extension_body prints a customAuthenticationExtension for one event.
extension_body() {
  local event=$1 name=$2 description=$3 url=$4
  printf '{"@odata.type":"#microsoft.graph.on%sCustomExtension","displayName":%s,"description":%s,' \
    "$event" "$(json_string "$name")" "$(json_string "$description")"
  printf '"endpointConfiguration":{"@odata.type":"#microsoft.graph.httpRequestEndpoint","targetUrl":%s},' \
    "$(json_string "$url")"
  printf '"authenticationConfiguration":{"@odata.type":"#microsoft.graph.azureAdTokenAuthentication","resourceId":%s},' \
    "$(json_string "$identifier_uri")"
  printf '"clientConfiguration":{"timeoutInMilliseconds":%d,"maximumRetries":1}}' "$timeout_ms"
}

# find_extension prints the IDs of the custom authentication extensions of
# type on${ext_event}CustomExtension named $ext_name.
find_extension() {
  graph_list '' "$graph/identity/customAuthenticationExtensions" "value[?displayName=='$ext_name'].[id]" \
    --uri-parameters "\$filter=isOf('microsoft.graph.on${ext_event}CustomExtension')"
}

# upsert_extension creates or updates the extension named NAME and prints its ID.
upsert_extension() {
  local description=$3 url=$4 placeholder=$5 body found
  ext_event=$1 ext_name=$2 # globals: find_extension reads them
  body=$(extension_body "$ext_event" "$ext_name" "$description" "$url")
  found=$(find_extension)
  one_row "custom authentication extensions named '$ext_name'" "$found"
  if ((dry_run)) || [[ -z $found ]]; then
    branch "if there is none:"
    found=$(graph_create find_extension "$placeholder" --method POST --uri "$graph/identity/customAuthenticationExtensions" \
      --body "$body" --query id --output tsv)
    ((dry_run)) || {
      printf '%s\n' "$found"
      return
    }
    branch "if there is one:"
  fi
  graph_call --method PATCH --uri "$graph/identity/customAuthenticationExtensions/$found" --body "$body" --output none
  printf '%s\n' "$found"
}

# find_user_flow prints the ID of the user flow named $user_flow.
find_user_flow() {
  local found
  found=$(graph_list '<userFlowId>' "$graph/identity/authenticationEventsFlows" \
    "value[?displayName=='$user_flow'].[id]")
  [[ -n $found ]] || die "no user flow named '$user_flow' in tenant $tenant_id"
  one_row "user flows named '$user_flow'" "$found"
  printf '%s\n' "$found"
}

# email_inputs prints how many email inputs the flow's attribute collection
# page has, then how many of them are read-only (editable false).
email_inputs() {
  graph_read "$1" --method GET --uri "$graph/identity/authenticationEventsFlows/$flow_id" \
    --query '[length(onAttributeCollection.attributeCollectionPage.views[].inputs[?attribute==`"email"`][] || `[]`), length(onAttributeCollection.attributeCollectionPage.views[].inputs[?attribute==`"email"` && editable==`false`][] || `[]`)]' \
    --output tsv
}

# email_read_only makes the email input of the user flow's attribute collection
# page read-only (authenticationAttributeCollectionInputConfiguration.editable),
# then reads it back. The page's inputs are replaced whole by a PATCH, so the
# body is the page as read, with only the email input's editable changed.
email_read_only() {
  local counts total read_only page
  counts=$(email_inputs $'1\n0')
  {
    read -r total
    read -r read_only
  } <<<"$counts"
  ((total > 0)) || die "the user flow '$user_flow' has no email input on its attribute collection page: the gate needs the email Entra verified"
  if ((total == read_only)); then
    note "The email field is read-only already"
    return
  fi
  page=$(graph_read '{"@odata.type":"#microsoft.graph.onAttributeCollectionExternalUsersSelfServiceSignUp","attributeCollectionPage":{"views":[{"inputs":[{"attribute":"email","label":"Email Address","inputType":"text","editable":false}]}]}}' \
    --method GET --uri "$graph/identity/authenticationEventsFlows/$flow_id" \
    --query 'merge(onAttributeCollection, {attributeCollectionPage: merge(onAttributeCollection.attributeCollectionPage, {views: onAttributeCollection.attributeCollectionPage.views[].merge(@, {inputs: inputs[].merge(@, attribute==`"email"` && `{"editable": false}` || `{}`)})})})' \
    --output json)
  branch "the body is onAttributeCollection as read, with every email input's editable set to false"
  graph_call --method PATCH --uri "$graph/identity/authenticationEventsFlows/$flow_id" \
    --body "{\"@odata.type\":\"#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow\",\"onAttributeCollection\":$page}" --output none
  counts=$(email_inputs $'1\n1')
  {
    read -r total
    read -r read_only
  } <<<"$counts"
  ((total > 0 && total == read_only)) \
    || die "the user flow '$user_flow' did not read back with a read-only email field ($read_only of $total email inputs read-only)"
}

# attach_path prints the beta path of a user flow's custom extension for an
# event (AttributeCollectionStart or AttributeCollectionSubmit). Microsoft's
# Learn module and Woodgrove attach extensions with PUT on its $ref (see
# docs/deploy.md); no "Update authenticationEventsFlow" page lists the handlers
# as updatable.
attach_path() {
  printf '%s/identity/authenticationEventsFlows/%s/microsoft.graph.externalUsersSelfServiceSignUpEventsFlow/on%s/microsoft.graph.on%sCustomExtensionHandler/customExtension' \
    "$graph_beta" "$flow_id" "$1" "$1"
}

# attached PLACEHOLDER EVENT prints "<id>\t<displayName>" of the extension
# attached to the flow for an event, or nothing if there is none: a 404, or a
# 400, which a slot that holds no custom extension handler may answer to the
# cast (UNCONFIRMED which one Graph sends). Either way nothing is attached: an
# attach is then read back as failed, a detach as done.
attached() {
  local placeholder=$1 event=$2 rc=0
  graph_read "$placeholder" --absent-ok=400 --method GET --uri "$(attach_path "$event")" \
    --uri-parameters '$select=id,displayName' --query '[[id, displayName]]' --output tsv || rc=$?
  ((rc == 0 || rc == 3)) || return "$rc"
}

# attach puts extension ID on the flow's handler for an event, unless it is
# there already; another extension there is replaced only with --replace.
attach() {
  local event=$1 id=$2 current current_id
  current=$(attached '' "$event")
  current_id=${current%%$'\t'*}
  if ((! dry_run)) && [[ $current_id == "$id" ]]; then
    note "On$event: attached already"
    return
  fi
  if [[ -n $current ]] && ((! replace)); then
    die "the user flow '$user_flow' has another extension on On$event: ${current//$'\t'/ }. Pass --replace to replace it with invitegate's, or pick another user flow"
  fi
  branch "unless $id is attached already (another extension there is replaced only with --replace):"
  graph_call --method PUT --uri "$(attach_path "$event")/\$ref" \
    --body "{\"@odata.id\":\"$graph_beta/identity/customAuthenticationExtensions/$id\"}" --output none
  current=$(attached "$id"$'\t'"$display_name" "$event")
  [[ ${current%%$'\t'*} == "$id" ]] \
    || die "the user flow '$user_flow' did not read back with invitegate's extension on On$event (it reads: ${current:-nothing}); attach it in the portal: docs/deploy.md"
}

# detach takes invitegate's extension off the flow's handler for an event and
# reads it back; an extension that is not invitegate's is left alone.
detach_event() {
  local event=$1 current
  current=$(attached "<extensionId>"$'\t'"$display_name" "$event")
  if [[ -z $current ]]; then
    note "On$event: no extension attached"
    return
  fi
  if ((! dry_run)) && [[ ${current#*$'\t'} != "$display_name attribute${event#AttributeCollection}" ]]; then
    note "On$event: ${current//$'\t'/ } is not invitegate's; left alone"
    return
  fi
  branch "if it is invitegate's ('$display_name attribute${event#AttributeCollection}'):"
  graph_call --method DELETE --uri "$(attach_path "$event")/\$ref" --output none
  current=$(attached '' "$event")
  [[ -z $current ]] \
    || die "the user flow '$user_flow' still reads back with an extension on On$event (${current//$'\t'/ }); clear it in the portal: docs/deploy.md"
}

# --- configuration -------------------------------------------------------------

tenant_id=${ENTRA_TENANT_ID:-}
function_host=${INVITEGATE_FUNCTION_HOST:-}
user_flow=${INVITEGATE_USER_FLOW:-}
display_name=${INVITEGATE_EXTENSION_NAME:-invitegate-extension}
timeout_ms=${INVITEGATE_TIMEOUT_MS:-1000}
token_file=${INVITEGATE_GRAPH_TOKEN_FILE:-}
set_app_settings=0
detach=0
replace=0
identifier_uri= # api://<function host>/<appId>, set once the appId is known
app_created=0
resource_group=${AZURE_RESOURCE_GROUP:-}
function_app=${INVITEGATE_FUNCTION_APP:-}
subscription=${AZURE_SUBSCRIPTION_ID:-}
retry_delay=${INVITEGATE_RETRY_DELAY:-10}
dry_run=0
if [[ ${INVITEGATE_DRY_RUN:-} == 1 ]]; then dry_run=1; fi

parse_args() {
  while (($# > 0)); do
    case $1 in
      --tenant-id | --function-host | --user-flow | --display-name | --timeout-ms | --graph-token-file | --resource-group | --app | --subscription)
        (($# >= 2)) || usage_error "$1 needs a value"
        case $1 in
          --tenant-id) tenant_id=$2 ;;
          --function-host) function_host=$2 ;;
          --user-flow) user_flow=$2 ;;
          --display-name) display_name=$2 ;;
          --timeout-ms) timeout_ms=$2 ;;
          --graph-token-file) token_file=$2 ;;
          --resource-group) resource_group=$2 ;;
          --app) function_app=$2 ;;
          --subscription) subscription=$2 ;;
        esac
        shift 2
        ;;
      --set-app-settings)
        set_app_settings=1
        shift
        ;;
      --detach)
        detach=1
        shift
        ;;
      --replace)
        replace=1
        shift
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
  [[ -n $tenant_id ]] || missing+=(--tenant-id)
  if ((detach)); then
    [[ -n $user_flow ]] || missing+=(--user-flow)
  else
    [[ -n $function_host ]] || missing+=(--function-host)
  fi
  if ((set_app_settings)); then
    [[ -n $resource_group ]] || missing+=(--resource-group)
    [[ -n $function_app ]] || missing+=(--app)
  fi
  ((${#missing[@]} == 0)) || usage_error "missing ${missing[*]}"

  [[ $tenant_id =~ $guid_re ]] || usage_error "--tenant-id $tenant_id: expected the tenant's directory ID (a GUID)"
  # The identifier URI must be api://<the targetUrl's host>/<appId> (else 1003014/1003015).
  [[ $detach == 1 || ($function_host =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$ && $function_host == *.*) ]] \
    || usage_error "--function-host $function_host: expected a host name such as invgate-func.azurewebsites.net (no https://, no path)"
  if ! [[ $timeout_ms =~ ^[0-9]{3,4}$ ]] || ((10#$timeout_ms < 200 || 10#$timeout_ms > 2000)); then
    usage_error "--timeout-ms $timeout_ms: Entra accepts 200 to 2000"
  fi
  timeout_ms=$((10#$timeout_ms))
  # Names go into OData filters, JMESPath queries and JSON: keep quotes out of them.
  local name_re='^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$'
  [[ $display_name =~ $name_re ]] \
    || usage_error "--display-name $display_name: use up to 100 letters, digits, spaces and . _ -"
  if [[ $user_flow == *[\'\"\\\`]* || $user_flow == *[[:cntrl:]]* ]]; then
    usage_error "--user-flow $user_flow: a user flow name without quotes or backslashes"
  fi
  ((! replace || ! detach)) || usage_error "--replace is for attaching, not --detach"
  [[ -z $token_file || -r $token_file ]] || usage_error "--graph-token-file $token_file: cannot read it"
}

# token_permissions prints the permissions of a Graph access token (a JWT):
# the delegated scopes (scp) of a user's token, else the app roles (roles) of
# an app's. The token is not checked here; Graph checks it on every call.
token_permissions() {
  local payload json
  payload=${1#*.}
  payload=${payload%%.*}
  payload=$(tr '_-' '/+' <<<"$payload")
  case $((${#payload} % 4)) in
    2) payload+='==' ;;
    3) payload+='=' ;;
  esac
  json=$(base64 -d <<<"$payload" 2>/dev/null) || return 0
  local ws='[[:space:]]*'
  if [[ $json =~ \"scp\"$ws:$ws\"([^\"]*)\" ]]; then
    printf '%s\n' "${BASH_REMATCH[1]}"
  elif [[ $json =~ \"roles\"$ws:$ws\[([^]]*)\] ]]; then
    local roles=${BASH_REMATCH[1]//\"/}
    printf '%s\n' "${roles//,/ }"
  fi
}

# permissions_preflight stops before the first write unless the Graph token
# holds a permission for every step (graph_needs), naming what is missing and
# how to go on.
permissions_preflight() {
  local token granted alternatives alternative purpose source missing=() lines=() need all=()
  if [[ -n $token_file ]]; then
    token=$(tr -d '[:space:]' <"$token_file")
    token=${token#Bearer}
  elif ((dry_run)); then
    printf '%s\n' "$(cmdline az account get-access-token --resource-type ms-graph --query accessToken --output tsv)" >&3
  else
    token=$(az account get-access-token --resource-type ms-graph --query accessToken --output tsv)
  fi
  if ((! dry_run)); then
    granted=$(token_permissions "$token")
    [[ -n $granted ]] || die "cannot read the permissions (scp or roles) of the Graph token"
  fi
  while IFS='|' read -r alternatives purpose source; do
    [[ " ${all[*]} " == *" ${alternatives%% *} "* ]] || all+=("${alternatives%% *}")
    ((dry_run)) && continue
    need=1
    for alternative in $alternatives; do
      [[ " $granted " == *" $alternative "* ]] && need=0
    done
    if ((need)); then
      missing+=("${alternatives%% *}")
      lines+=("  ${alternatives// / or }: to $purpose (Graph API reference: $source)")
    fi
  done < <(graph_needs)
  if ((dry_run)); then
    note "Stop here unless the token's scp (or roles) holds: ${all[*]}"
    return
  fi
  ((${#missing[@]} == 0)) && return
  {
    printf '%s: nothing was changed: the Graph token lacks permissions these steps need:\n' "${0##*/}"
    printf '%s\n' "${lines[@]}"
    printf '\naz can only get the Graph permissions the Azure CLI app is pre-authorized for, so\n'
    printf "'az login' cannot add these. Get a token that has them, e.g. from Microsoft Graph PowerShell:\n\n"
    printf "  Connect-MgGraph -TenantId %s -Scopes %s\n" "$tenant_id" "$(printf "'%s'," "${all[@]}" | sed 's/,$//')"
    printf '  (Invoke-MgGraphRequest -Method GET -Uri /v1.0/organization -OutputType HttpResponseMessage).RequestMessage.Headers.Authorization.Parameter > graph-token.txt\n\n'
    printf 'then run this again with --graph-token-file graph-token.txt (and delete the file after).\n'
    printf 'Or do the missing steps in the Entra admin center: docs/deploy.md, "Registering with Entra".\n'
  } >&2
  exit 1
}

# preflight checks that az talks to the right tenant, and with the Graph
# permissions the steps need, before anything is written.
preflight() {
  if ((! dry_run)); then
    need_az
    local current
    current=$(az account show --query tenantId --output tsv)
    [[ ${current,,} == "${tenant_id,,}" ]] \
      || die "az is signed in to tenant $current, not $tenant_id: run 'az login --tenant $tenant_id --allow-no-subscriptions'"
  fi
  note "0. Graph permissions"
  permissions_preflight
  if [[ -n $token_file ]]; then
    # az rest sends this header instead of its own token; the file keeps the
    # token out of the process list.
    headers_file=$(mktemp) # global: the trap removes it
    trap 'rm -f "$headers_file"' EXIT
    printf '{"Authorization":"Bearer %s"}' "$(tr -d '[:space:]' <"$token_file" | sed 's/^Bearer//')" >"$headers_file"
    graph_auth=(--headers "@$headers_file")
  fi
}

# --- the registration ----------------------------------------------------------

main() {
  parse_args "$@"
  preflight

  if ((detach)); then
    note "Take invitegate's extensions off the user flow '$user_flow': anyone may sign up again"
    flow_id=$(find_user_flow) # global: attach_path reads it
    detach_event AttributeCollectionStart
    detach_event AttributeCollectionSubmit
    return
  fi

  local start_url="https://$function_host/api/attributeStart"
  local submit_url="https://$function_host/api/attributeSubmit"

  note "1. App registration '$display_name'"
  local found
  found=$(find_app)
  one_row "app registrations named '$display_name'" "$found"
  if ((dry_run)) || [[ -z $found ]]; then
    branch "if there is none:"
    found=$(graph_create find_app $'<objectId>\t<appId>' --method POST --uri "$graph/applications" \
      --body "{\"displayName\":$(json_string "$display_name"),\"signInAudience\":\"AzureADMyOrg\"}" \
      --query '[[id, appId]]' --output tsv)
    app_created=1
  fi
  read -r app_object_id app_id <<<"$found" # globals: the steps read them
  [[ -n $app_id ]] || die "could not read the app registration's IDs from: $found"

  # Entra asks for tokens for this URI, and checks its host against the targetUrl's.
  identifier_uri="api://$function_host/$app_id"
  note "Identifier URI, v2 tokens, and the permission to receive extension calls, merged with what is there"
  update_app

  note "2. Service principal, and admin consent for CustomAuthenticationExtension.Receive.Payload"
  sp_id=$(service_principal "$app_id" '<servicePrincipalId>')
  graph_sp_id=$(graph_read '<graphServicePrincipalId>' --method GET --uri "$graph/servicePrincipals" \
    --uri-parameters "\$filter=appId eq '$graph_app_id'" "\$select=id" --query 'value[0].id' --output tsv)
  [[ -n $graph_sp_id ]] || die "this tenant has no Microsoft Graph service principal (1003022)"
  local granted
  granted=$(find_grant)
  if ((dry_run)) || [[ -z $granted ]]; then
    branch "if not granted yet:"
    graph_create find_grant '' --fresh --method POST --uri "$graph/servicePrincipals/$sp_id/appRoleAssignments" \
      --body "{\"principalId\":\"$sp_id\",\"resourceId\":\"$graph_sp_id\",\"appRoleId\":\"$receive_payload_role\"}" \
      --output none >/dev/null
  fi

  note "3. Service principal of Entra's authentication events app ($events_app_id)"
  service_principal "$events_app_id" '<eventsServicePrincipalId>' >/dev/null

  note "4. Custom authentication extensions (timeout ${timeout_ms} ms, 1 retry)"
  local start_id submit_id
  start_id=$(upsert_extension AttributeCollectionStart "$display_name attributeStart" \
    "invitegate: blocks sign-up without a valid invitation, before the form is shown" \
    "$start_url" '<startExtensionId>')
  submit_id=$(upsert_extension AttributeCollectionSubmit "$display_name attributeSubmit" \
    "invitegate: checks the invitation again when the sign-up form is submitted" \
    "$submit_url" '<submitExtensionId>')

  if [[ -n $user_flow ]]; then
    note "5. The user flow '$user_flow': email read-only, then both extensions attached"
    flow_id=$(find_user_flow) # global: attach_path reads it
    email_read_only
    attach AttributeCollectionStart "$start_id"
    attach AttributeCollectionSubmit "$submit_id"
  else
    note "5. No --user-flow: the extensions are not attached to any user flow yet"
  fi

  if ((set_app_settings)); then
    note "6. Function app settings"
    local sub=()
    if [[ -n $subscription ]]; then sub=(--subscription "$subscription"); fi
    run az functionapp config appsettings set --resource-group "$resource_group" --name "$function_app" \
      "${sub[@]}" --settings "ENTRA_TENANT_ID=$tenant_id" "ENTRA_AUDIENCE=$app_id" --output none
  fi

  printf 'ENTRA_TENANT_ID=%s\n' "$tenant_id"
  printf 'ENTRA_AUDIENCE=%s\n' "$app_id"
}

main "$@"
