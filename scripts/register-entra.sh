#!/usr/bin/env bash
# register-entra.sh registers invitegate with an Entra External ID tenant, through
# Microsoft Graph v1.0 (az rest), so that Entra calls the function app during sign-up:
#
#   1. the extension's app registration (found by display name, else created):
#      identifier URI api://<function-host>/<appId>, v2 access tokens, and the
#      Graph application permission CustomAuthenticationExtension.Receive.Payload
#   2. its service principal, and admin consent for that permission (an app role
#      assignment); without it sign-ups fail with 1003021
#   3. a service principal for Entra's caller app (99045fe1-…), if the tenant has none
#   4. two custom authentication extensions, created or updated: OnAttributeCollectionStart
#      and OnAttributeCollectionSubmit, pointing at the two function URLs
#   5. with --user-flow: both attached to that sign-up user flow
#   6. prints ENTRA_TENANT_ID and ENTRA_AUDIENCE; with --set-app-settings, sets
#      them on the function app
#
# --detach --user-flow NAME does only the reverse of step 5: it takes both
# extensions off the user flow, which then lets anyone sign up again.
#
# Every step looks before it writes, so running it again changes nothing that is
# already right. --dry-run prints the plan instead: every command with its body,
# with <placeholders> for the values that would come from Graph.
# Every Graph call is in main() at the bottom, in the order it runs.
set -euo pipefail

usage() {
	cat <<'USAGE'
Usage: scripts/register-entra.sh --tenant-id TENANT_ID --function-host HOST
                                 [--user-flow NAME] [--display-name NAME] [--timeout-ms MS]
                                 [--set-app-settings --resource-group RG --app NAME
                                  [--subscription SUBSCRIPTION]]
                                 [--dry-run]
       scripts/register-entra.sh --tenant-id TENANT_ID --user-flow NAME --detach [--dry-run]

  --tenant-id ID        directory ID of the Entra External ID tenant; az must be
                        signed in to it (az login --tenant ID --allow-no-subscriptions)
                                                                     env ENTRA_TENANT_ID
  --function-host HOST  the function app's host, e.g. PREFIX-func.azurewebsites.net
                                                                     env INVITEGATE_FUNCTION_HOST
  --user-flow NAME      sign-up user flow to attach the extensions to; leave it out
                        until the function app answers          env INVITEGATE_USER_FLOW
  --display-name NAME   app registration name, and prefix of the extensions' names
                        (default invitegate-extension)           env INVITEGATE_EXTENSION_NAME
  --timeout-ms MS       how long Entra waits for each call, 200-2000 (default 1000)
                                                                     env INVITEGATE_TIMEOUT_MS
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
# Graph finds what it has just created only after a moment: writes are tried
# up to this many times (see execute).
graph_attempts=8
graph_app_id=00000003-0000-0000-c000-000000000000 # Microsoft Graph
# Graph's application permission CustomAuthenticationExtension.Receive.Payload.
receive_payload_role=214e810f-fda8-4fd7-a475-29461495eb00
# Entra's "Azure AD authentication events" app, which calls the extensions.
events_app_id=99045fe1-7639-4a75-9d4a-577b6ca3810f

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

# find_or_create_service_principal prints the object ID of an app's service principal.
find_or_create_service_principal() {
	local app_id=$1 placeholder=$2 found
	found=$(query '' az rest --method GET --uri "$graph/servicePrincipals" \
		--uri-parameters "\$filter=appId eq '$app_id'" "\$select=id" \
		--query 'value[].id' --output tsv)
	one_row "service principals for $app_id" "$found"
	if ((dry_run)) || [[ -z $found ]]; then
		branch "if there is none:"
		found=$(attempts=$graph_attempts query "$placeholder" az rest --method POST --uri "$graph/servicePrincipals" \
			--body "{\"appId\":\"$app_id\"}" --query id --output tsv)
	fi
	printf '%s\n' "$found"
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

# upsert_extension creates or updates the extension named NAME and prints its ID.
upsert_extension() {
	local event=$1 name=$2 description=$3 url=$4 placeholder=$5 body found
	body=$(extension_body "$event" "$name" "$description" "$url")
	found=$(query '' az rest --method GET --uri "$graph/identity/customAuthenticationExtensions" \
		--query "value[?displayName=='$name'].id" --output tsv)
	one_row "custom authentication extensions named '$name'" "$found"
	if ((dry_run)) || [[ -z $found ]]; then
		branch "if there is none:"
		found=$(attempts=$graph_attempts query "$placeholder" az rest --method POST --uri "$graph/identity/customAuthenticationExtensions" \
			--body "$body" --query id --output tsv)
		((dry_run)) || { printf '%s\n' "$found"; return; }
		branch "if there is one:"
	fi
	attempts=$graph_attempts run az rest --method PATCH --uri "$graph/identity/customAuthenticationExtensions/$found" \
		--body "$body" --output none
	printf '%s\n' "$found"
}

# find_user_flow prints the ID of the user flow named $user_flow.
find_user_flow() {
	local found
	found=$(query '<userFlowId>' az rest --method GET --uri "$graph/identity/authenticationEventsFlows" \
		--query "value[?displayName=='$user_flow'].id" --output tsv)
	[[ -n $found ]] || die "no user flow named '$user_flow' in tenant $tenant_id"
	one_row "user flows named '$user_flow'" "$found"
	printf '%s\n' "$found"
}

# --- configuration -------------------------------------------------------------

tenant_id=${ENTRA_TENANT_ID:-}
function_host=${INVITEGATE_FUNCTION_HOST:-}
user_flow=${INVITEGATE_USER_FLOW:-}
display_name=${INVITEGATE_EXTENSION_NAME:-invitegate-extension}
timeout_ms=${INVITEGATE_TIMEOUT_MS:-1000}
set_app_settings=0
detach=0
identifier_uri= # api://<function host>/<appId>, set once the appId is known
resource_group=${AZURE_RESOURCE_GROUP:-}
function_app=${INVITEGATE_FUNCTION_APP:-}
subscription=${AZURE_SUBSCRIPTION_ID:-}
retry_delay=${INVITEGATE_RETRY_DELAY:-15}
dry_run=0
if [[ ${INVITEGATE_DRY_RUN:-} == 1 ]]; then dry_run=1; fi

parse_args() {
	while (($# > 0)); do
		case $1 in
		--tenant-id | --function-host | --user-flow | --display-name | --timeout-ms | --resource-group | --app | --subscription)
			(($# >= 2)) || usage_error "$1 needs a value"
			case $1 in
			--tenant-id) tenant_id=$2 ;;
			--function-host) function_host=$2 ;;
			--user-flow) user_flow=$2 ;;
			--display-name) display_name=$2 ;;
			--timeout-ms) timeout_ms=$2 ;;
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
	[[ $detach == 1 || ($function_host =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$ && $function_host == *.*) ]] ||
		usage_error "--function-host $function_host: expected a host name such as invgate-func.azurewebsites.net (no https://, no path)"
	if ! [[ $timeout_ms =~ ^[0-9]{3,4}$ ]] || ((10#$timeout_ms < 200 || 10#$timeout_ms > 2000)); then
		usage_error "--timeout-ms $timeout_ms: Entra accepts 200 to 2000"
	fi
	timeout_ms=$((10#$timeout_ms))
	# Names go into OData filters, JMESPath queries and JSON: keep quotes out of them.
	local name_re='^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$'
	[[ $display_name =~ $name_re ]] ||
		usage_error "--display-name $display_name: use up to 100 letters, digits, spaces and . _ -"
	if [[ $user_flow == *[\'\"\\]* || $user_flow == *[[:cntrl:]]* ]]; then
		usage_error "--user-flow $user_flow: a user flow name without quotes or backslashes"
	fi
}

# preflight checks that az talks to the right tenant before anything is written.
preflight() {
	need_az
	local current
	current=$(az account show --query tenantId --output tsv)
	[[ ${current,,} == "${tenant_id,,}" ]] ||
		die "az is signed in to tenant $current, not $tenant_id: run 'az login --tenant $tenant_id --allow-no-subscriptions'"
}

# --- the registration ----------------------------------------------------------

main() {
	parse_args "$@"
	((dry_run)) || preflight

	if ((detach)); then
		note "Take invitegate's extensions off the user flow '$user_flow': anyone may sign up again"
		local flow_id
		flow_id=$(find_user_flow)
		# Body UNCONFIRMED: null is how Graph clears a property on PATCH; if this
		# tenant rejects it, use the portal (docs/deploy.md, "Rolling back").
		attempts=$graph_attempts run az rest --method PATCH --uri "$graph/identity/authenticationEventsFlows/$flow_id" \
			--body '{"@odata.type":"#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow","onAttributeCollectionStart":null,"onAttributeCollectionSubmit":null}' \
			--output none
		return
	fi

	local start_url="https://$function_host/api/attributeStart"
	local submit_url="https://$function_host/api/attributeSubmit"

	note "1. App registration '$display_name'"
	local found app_object_id app_id
	found=$(query '' az rest --method GET --uri "$graph/applications" \
		--uri-parameters "\$filter=displayName eq '$display_name'" "\$select=id,appId" \
		--query 'value[].[id, appId]' --output tsv)
	one_row "app registrations named '$display_name'" "$found"
	if ((dry_run)) || [[ -z $found ]]; then
		branch "if there is none:"
		found=$(attempts=$graph_attempts query $'<objectId>\t<appId>' az rest --method POST --uri "$graph/applications" \
			--body "{\"displayName\":$(json_string "$display_name"),\"signInAudience\":\"AzureADMyOrg\"}" \
			--query '[[id, appId]]' --output tsv)
	fi
	read -r app_object_id app_id <<<"$found"
	[[ -n $app_id ]] || die "could not read the app registration's IDs from: $found"

	# Entra asks for tokens for this URI, and checks its host against the targetUrl's.
	identifier_uri="api://$function_host/$app_id" # global: extension_body uses it
	note "Identifier URI, v2 tokens, and the permission to receive extension calls"
	attempts=$graph_attempts run az rest --method PATCH --uri "$graph/applications/$app_object_id" \
		--body "{\"identifierUris\":[$(json_string "$identifier_uri")],\"api\":{\"requestedAccessTokenVersion\":2},\"requiredResourceAccess\":[{\"resourceAppId\":\"$graph_app_id\",\"resourceAccess\":[{\"id\":\"$receive_payload_role\",\"type\":\"Role\"}]}]}" \
		--output none

	note "2. Service principal, and admin consent for CustomAuthenticationExtension.Receive.Payload"
	local sp_id graph_sp_id granted
	sp_id=$(find_or_create_service_principal "$app_id" '<servicePrincipalId>')
	graph_sp_id=$(query '<graphServicePrincipalId>' az rest --method GET --uri "$graph/servicePrincipals" \
		--uri-parameters "\$filter=appId eq '$graph_app_id'" "\$select=id" \
		--query 'value[0].id' --output tsv)
	[[ -n $graph_sp_id ]] || die "this tenant has no Microsoft Graph service principal (1003022)"
	granted=$(query '' az rest --method GET --uri "$graph/servicePrincipals/$sp_id/appRoleAssignments" \
		--query "value[?resourceId=='$graph_sp_id' && appRoleId=='$receive_payload_role'].id" --output tsv)
	if ((dry_run)) || [[ -z $granted ]]; then
		branch "if not granted yet:"
		attempts=$graph_attempts run az rest --method POST --uri "$graph/servicePrincipals/$sp_id/appRoleAssignments" \
			--body "{\"principalId\":\"$sp_id\",\"resourceId\":\"$graph_sp_id\",\"appRoleId\":\"$receive_payload_role\"}" \
			--output none
	fi

	note "3. Service principal of Entra's authentication events app ($events_app_id)"
	find_or_create_service_principal "$events_app_id" '<eventsServicePrincipalId>' >/dev/null

	note "4. Custom authentication extensions (timeout ${timeout_ms} ms, 1 retry)"
	local start_id submit_id
	start_id=$(upsert_extension AttributeCollectionStart "$display_name attributeStart" \
		"invitegate: blocks sign-up without a valid invitation, before the form is shown" \
		"$start_url" '<startExtensionId>')
	submit_id=$(upsert_extension AttributeCollectionSubmit "$display_name attributeSubmit" \
		"invitegate: checks the invitation again when the sign-up form is submitted" \
		"$submit_url" '<submitExtensionId>')

	if [[ -n $user_flow ]]; then
		note "5. Attach both to the user flow '$user_flow'"
		local flow_id
		flow_id=$(find_user_flow)
		attempts=$graph_attempts run az rest --method PATCH --uri "$graph/identity/authenticationEventsFlows/$flow_id" \
			--body "{\"@odata.type\":\"#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow\",\"onAttributeCollectionStart\":{\"@odata.type\":\"#microsoft.graph.onAttributeCollectionStartCustomExtensionHandler\",\"customExtension\":{\"id\":\"$start_id\"}},\"onAttributeCollectionSubmit\":{\"@odata.type\":\"#microsoft.graph.onAttributeCollectionSubmitCustomExtensionHandler\",\"customExtension\":{\"id\":\"$submit_id\"}}}" \
			--output none
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
