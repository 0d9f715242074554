package deploytest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRegisterPlans reads register-entra.sh's dry-run plans for what matters
// most, so that an -update cannot quietly bless a broken one.
func TestRegisterPlans(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", name+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	const beta = "https://graph.microsoft.com/beta/identity/authenticationEventsFlows/<userFlowId>/microsoft.graph.externalUsersSelfServiceSignUpEventsFlow/"
	register := read("register-entra")
	for _, want := range []string{
		// The preflight comes first, before any Graph call.
		"# 0. Graph permissions\naz account get-access-token --resource-type ms-graph --query accessToken --output tsv\n" +
			"# Stop here unless the token's scp (or roles) holds: Application.ReadWrite.All AppRoleAssignment.ReadWrite.All CustomAuthenticationExtension.ReadWrite.All EventListener.ReadWrite.All\n",
		`"identifierUris":["api://` + host + `/<appId>"]`,
		`"api":{"requestedAccessTokenVersion":2}`,
		`"resourceAccess":[{"id":"214e810f-fda8-4fd7-a475-29461495eb00","type":"Role"}]`,
		`"appRoleId":"214e810f-fda8-4fd7-a475-29461495eb00"`,
		`"@odata.type":"#microsoft.graph.onAttributeCollectionStartCustomExtension"`,
		`"@odata.type":"#microsoft.graph.onAttributeCollectionSubmitCustomExtension"`,
		`"targetUrl":"https://` + host + `/api/attributeStart"`,
		`"targetUrl":"https://` + host + `/api/attributeSubmit"`,
		`"@odata.type":"#microsoft.graph.azureAdTokenAuthentication","resourceId":"api://` + host + `/<appId>"`,
		`"clientConfiguration":{"timeoutInMilliseconds":1000,"maximumRetries":1}`,
		`$filter=isOf('microsoft.graph.onAttributeCollectionStartCustomExtension')`,
		`@odata.nextLink`,
		// The read-only email step, read back.
		`inputs[].merge(@, attribute==` + "`\"email\"` && `{\"editable\": false}`",
		`"onAttributeCollection":{"@odata.type":"#microsoft.graph.onAttributeCollectionExternalUsersSelfServiceSignUp"`,
		// The documented attach form, read back.
		"az rest --method PUT --uri '" + beta + "onAttributeCollectionStart/microsoft.graph.onAttributeCollectionStartCustomExtensionHandler/customExtension/$ref' --body '{\"@odata.id\":\"https://graph.microsoft.com/beta/identity/customAuthenticationExtensions/<startExtensionId>\"}' --output none\n" +
			"az rest --method GET --uri '" + beta + "onAttributeCollectionStart/microsoft.graph.onAttributeCollectionStartCustomExtensionHandler/customExtension'",
		"az rest --method PUT --uri '" + beta + "onAttributeCollectionSubmit/microsoft.graph.onAttributeCollectionSubmitCustomExtensionHandler/customExtension/$ref' --body '{\"@odata.id\":\"https://graph.microsoft.com/beta/identity/customAuthenticationExtensions/<submitExtensionId>\"}' --output none\n" +
			"az rest --method GET --uri '" + beta + "onAttributeCollectionSubmit/microsoft.graph.onAttributeCollectionSubmitCustomExtensionHandler/customExtension'",
		"ENTRA_TENANT_ID=" + tenantID + "\nENTRA_AUDIENCE=<appId>\n",
	} {
		if !strings.Contains(register, want) {
			t.Errorf("register-entra plan lacks %s", want)
		}
	}
	if i, j := strings.Index(register, "editable"), strings.Index(register, "--method PUT"); i < 0 || j < i {
		t.Error("the email field must be made read-only before the extensions are attached")
	}
	// Every JSON body in the plans is valid JSON.
	for _, name := range []string{"register-entra", "register-entra-no-flow", "register-entra-detach"} {
		for _, req := range planRequests(t, read(name)) {
			if req.Body != "" && !json.Valid([]byte(req.Body)) {
				t.Errorf("%s: invalid JSON body: %s", name, req.Body)
			}
		}
	}
	detach := read("register-entra-detach")
	if strings.Count(detach, "--method DELETE") != 2 || strings.Contains(detach, "POST") ||
		strings.Contains(detach, "PATCH") || strings.Contains(detach, "PUT") ||
		!strings.Contains(detach, "holds: EventListener.ReadWrite.All\n") {
		t.Errorf("--detach must only take the two extensions off the user flow:\n%s", detach)
	}
	noFlow := read("register-entra-no-flow")
	if strings.Contains(noFlow, "authenticationEventsFlows") || strings.Contains(noFlow, "appsettings") ||
		strings.Contains(noFlow, "EventListener") {
		t.Error("without --user-flow and --set-app-settings the plan must not touch a user flow or the app settings")
	}
	if !strings.Contains(noFlow, `"timeoutInMilliseconds":1500`) {
		t.Error("--timeout-ms 1500 is not in the extensions' bodies")
	}
}

const (
	otherFlowID   = "f0000000-0000-4000-8000-000000000001"
	invitedFlowID = "f0000000-0000-4000-8000-000000000002"
)

var registerArgs = []string{"--tenant-id", tenantID, "--function-host", host, "--user-flow", "Invited sign-up",
	"--set-app-settings", "--resource-group", "rg-invitegate", "--app", "invgate-func"}

// registered checks what a successful registration left in the tenant, and
// returns the app registration.
func registered(t *testing.T, r result, g *graphState) map[string]any {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	checkGraphRequests(t, g.Requests)
	apps := g.Collections["applications"]
	if len(apps) != 1 {
		t.Fatalf("%d app registrations, want 1", len(apps))
	}
	app := apps[0]
	appID := app["appId"].(string)
	if want := "ENTRA_TENANT_ID=" + tenantID + "\nENTRA_AUDIENCE=" + appID + "\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	uris := app["identifierUris"].([]any)
	if len(uris) == 0 || uris[0] != "api://"+host+"/"+appID {
		t.Errorf("identifierUris = %v, want api://%s/%s first", uris, host, appID)
	}
	if v := app["api"].(map[string]any)["requestedAccessTokenVersion"]; v != 2.0 {
		t.Errorf("requestedAccessTokenVersion = %v", v)
	}
	var sp, events map[string]any
	for _, s := range g.Collections["servicePrincipals"] {
		switch s["appId"] {
		case appID:
			sp = s
		case "99045fe1-7639-4a75-9d4a-577b6ca3810f":
			events = s
		}
	}
	if sp == nil || events == nil || len(g.Collections["servicePrincipals"]) != 3 {
		t.Fatalf("service principals: %v", g.Collections["servicePrincipals"])
	}
	grants := g.Collections["appRoleAssignments"]
	if len(grants) != 1 || grants[0]["principalId"] != sp["id"] || grants[0]["appRoleId"] != "214e810f-fda8-4fd7-a475-29461495eb00" {
		t.Errorf("app role assignments: %v", grants)
	}
	exts := g.Collections["customAuthenticationExtensions"]
	if len(exts) != 2 {
		t.Fatalf("%d custom authentication extensions, want 2: %v", len(exts), exts)
	}
	for _, e := range exts {
		event := strings.TrimSuffix(strings.TrimPrefix(e["@odata.type"].(string), "#microsoft.graph.on"), "CustomExtension")
		if got := g.Bindings[invitedFlowID+"/"+event]; got != e["id"] {
			t.Errorf("On%s of the user flow is %q, want %v", event, got, e["id"])
		}
		if rid := e["authenticationConfiguration"].(map[string]any)["resourceId"]; rid != uris[0] {
			t.Errorf("resourceId %v, want %v", rid, uris[0])
		}
	}
	// The email input is read-only, and nothing else on the page changed.
	for _, id := range []string{invitedFlowID, otherFlowID} {
		flow := g.find("authenticationEventsFlows", "id", id)
		want := sampleFlow(id, flow["displayName"].(string))["onAttributeCollection"]
		if id == invitedFlowID {
			want.(map[string]any)["attributeCollectionPage"].(map[string]any)["views"].([]any)[0].(map[string]any)["inputs"].([]any)[0].(map[string]any)["editable"] = false
		}
		if got, w := mustJSON(flow["onAttributeCollection"]), mustJSON(want); got != w {
			t.Errorf("flow %s onAttributeCollection:\n got  %s\n want %s", id, got, w)
		}
	}
	if len(g.Bindings) != 2 {
		t.Errorf("bindings: %v (the other user flow must stay as it was)", g.Bindings)
	}
	return app
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestRegisterAgainstGraph runs register-entra.sh for real against the fake
// Graph: what it writes, what it refuses, and what it does when Graph fails.
func TestRegisterAgainstGraph(t *testing.T) {
	script := "scripts/register-entra.sh"

	t.Run("empty tenant: creates everything, then a second run only updates", func(t *testing.T) {
		r, g := runAgainstGraph(t, newTenant(), script, registerArgs...)
		app := registered(t, r, g)
		appObject := app["id"].(string)
		wantWrites := []string{
			"POST /applications", "PATCH /applications/" + appObject, "POST /servicePrincipals",
			"POST /servicePrincipals/" + g.Collections["servicePrincipals"][1]["id"].(string) + "/appRoleAssignments",
			"POST /servicePrincipals", "POST /identity/customAuthenticationExtensions", "POST /identity/customAuthenticationExtensions",
			"PATCH /identity/authenticationEventsFlows/" + invitedFlowID,
			"PUT /identity/authenticationEventsFlows/" + invitedFlowID + "/microsoft.graph.externalUsersSelfServiceSignUpEventsFlow/onAttributeCollectionStart/microsoft.graph.onAttributeCollectionStartCustomExtensionHandler/customExtension/$ref",
			"PUT /identity/authenticationEventsFlows/" + invitedFlowID + "/microsoft.graph.externalUsersSelfServiceSignUpEventsFlow/onAttributeCollectionSubmit/microsoft.graph.onAttributeCollectionSubmitCustomExtensionHandler/customExtension/$ref",
		}
		if got := g.writes(); !slices.Equal(got, wantWrites) {
			t.Errorf("writes:\n%s", lineDiff(strings.Join(wantWrites, "\n"), strings.Join(got, "\n")))
		}
		if want := []string{"functionapp config appsettings set --resource-group rg-invitegate --name invgate-func --settings ENTRA_TENANT_ID=" +
			tenantID + " ENTRA_AUDIENCE=" + app["appId"].(string)}; !slices.Equal(g.Other, want) {
			t.Errorf("other az calls: %q", g.Other)
		}

		g.Requests = nil
		r, g = runAgainstGraph(t, g, script, registerArgs...)
		registered(t, r, g)
		exts := g.Collections["customAuthenticationExtensions"]
		want := []string{"PATCH /identity/customAuthenticationExtensions/" + exts[0]["id"].(string),
			"PATCH /identity/customAuthenticationExtensions/" + exts[1]["id"].(string)}
		if got := g.writes(); !slices.Equal(got, want) {
			t.Errorf("second run wrote %q, want only %q", got, want)
		}
		if !strings.Contains(r.stderr, "read-only already") || !strings.Contains(r.stderr, "attached already") {
			t.Errorf("second run should say what was right already:\n%s", r.stderr)
		}
	})

	t.Run("missing scope: stops before any call to Graph, and says how to go on", func(t *testing.T) {
		tenant := newTenant()
		tenant.Scopes = slices.DeleteFunc(tenant.Scopes, func(s string) bool {
			return s == "EventListener.ReadWrite.All" || s == "CustomAuthenticationExtension.ReadWrite.All"
		})
		r, g := runAgainstGraph(t, tenant, script, registerArgs...)
		if r.code != 1 || r.stdout != "" {
			t.Errorf("exit %d, stdout %q: want 1 and nothing", r.code, r.stdout)
		}
		if len(g.Requests) != 0 || len(g.Other) != 0 {
			t.Errorf("it called Graph or az although the token lacks permissions: %v %v", g.Requests, g.Other)
		}
		for _, want := range []string{"nothing was changed", "CustomAuthenticationExtension.ReadWrite.All: to find, create and update",
			"EventListener.ReadWrite.All: to make the user flow's email read-only",
			"Connect-MgGraph -TenantId " + tenantID + " -Scopes 'Application.ReadWrite.All','AppRoleAssignment.ReadWrite.All','CustomAuthenticationExtension.ReadWrite.All','EventListener.ReadWrite.All'",
			"--graph-token-file"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
	})

	t.Run("missing scope only for the user flow: without --user-flow it goes on", func(t *testing.T) {
		tenant := newTenant()
		tenant.Scopes = slices.DeleteFunc(tenant.Scopes, func(s string) bool { return s == "EventListener.ReadWrite.All" })
		r, g := runAgainstGraph(t, tenant, script, "--tenant-id", tenantID, "--function-host", host)
		if r.code != 0 || len(g.Collections["customAuthenticationExtensions"]) != 2 || len(g.Bindings) != 0 {
			t.Errorf("exit %d, bindings %v\nstderr:\n%s", r.code, g.Bindings, r.stderr)
		}
		checkGraphRequests(t, g.Requests)
	})

	t.Run("a token from --graph-token-file replaces az's", func(t *testing.T) {
		tenant := newTenant()
		scopes := tenant.Scopes
		tenant.Scopes = []string{"Directory.AccessAsUser.All"}
		token := filepath.Join(t.TempDir(), "graph-token.txt")
		if err := os.WriteFile(token, []byte(fakeJWT(map[string]any{"scp": strings.Join(scopes, " ")})+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r, g := runAgainstGraph(t, tenant, script, append(slices.Clone(registerArgs), "--graph-token-file", token)...)
		registered(t, r, g)
		for _, req := range g.Requests {
			if !req.Header {
				t.Errorf("%s was sent without the token's Authorization header", req.call())
			}
		}
	})

	t.Run("an app's token (roles) is read too", func(t *testing.T) {
		tenant := newTenant()
		tenant.Roles, tenant.Scopes = tenant.Scopes, nil
		r, g := runAgainstGraph(t, tenant, script, registerArgs...)
		registered(t, r, g)
	})

	t.Run("500 on creates that succeeded: looks again, no duplicates", func(t *testing.T) {
		tenant := newTenant()
		for _, p := range []string{"/applications", "/servicePrincipals", "/appRoleAssignments", "/identity/customAuthenticationExtensions"} {
			tenant.Faults = append(tenant.Faults, graphFault{Method: "POST", Path: p, Status: 500, Times: 1, Commit: true})
		}
		r, g := runAgainstGraph(t, tenant, script, registerArgs...)
		registered(t, r, g) // exactly one of each
		var posts int
		for _, req := range g.Requests {
			if req.Method == "POST" {
				posts++
			}
		}
		if posts != 6 {
			t.Errorf("%d POSTs, want 6: each create sent once, its 500 answered by looking again", posts)
		}
	})

	t.Run("500 on a create that failed: looks again, then sends it again", func(t *testing.T) {
		tenant := newTenant()
		tenant.Faults = []graphFault{{Method: "POST", Path: "/identity/customAuthenticationExtensions", Status: 503, Times: 2}}
		r, g := runAgainstGraph(t, tenant, script, registerArgs...)
		registered(t, r, g)
	})

	t.Run("429 and a 404 right after a create are retried", func(t *testing.T) {
		tenant := newTenant()
		tenant.Faults = []graphFault{
			{Method: "GET", Path: "/applications/00000001-", Status: 404, Times: 2}, // the app just created, not replicated yet
			{Method: "PATCH", Path: "/applications/", Status: 429, Times: 2},
			{Method: "POST", Path: "/appRoleAssignments", Status: 404, Times: 1}, // its service principal, not replicated yet
		}
		r, g := runAgainstGraph(t, tenant, script, registerArgs...)
		registered(t, r, g)
	})

	t.Run("400, 401 and 403 are not retried", func(t *testing.T) {
		for _, status := range []int{400, 401, 403} {
			tenant := newTenant()
			tenant.Faults = []graphFault{{Method: "POST", Path: "/identity/customAuthenticationExtensions", Status: status, Times: 9}}
			r, g := runAgainstGraph(t, tenant, script, registerArgs...)
			var posts int
			for _, req := range g.Requests {
				if req.call() == "POST /identity/customAuthenticationExtensions" {
					posts++
				}
			}
			if r.code != 1 || posts != 1 || !strings.Contains(r.stderr, reasons[status]+"(") {
				t.Errorf("%d: exit %d after %d POSTs, want 1 after 1\nstderr:\n%s", status, r.code, posts, r.stderr)
			}
		}
	})

	t.Run("another extension on the flow: refused unless --replace", func(t *testing.T) {
		tenant := newTenant()
		foreign := map[string]any{"@odata.type": "#microsoft.graph.onAttributeCollectionStartCustomExtension",
			"id": "eeeeeeee-0000-4000-8000-000000000001", "displayName": "Loyalty prefill"}
		tenant.Collections["customAuthenticationExtensions"] = []map[string]any{foreign}
		tenant.Bindings = map[string]string{invitedFlowID + "/AttributeCollectionStart": foreign["id"].(string)}
		r, g := runAgainstGraph(t, tenant, script, registerArgs...)
		if r.code != 1 || !strings.Contains(r.stderr, "another extension on OnAttributeCollectionStart: eeeeeeee-0000-4000-8000-000000000001 Loyalty prefill") ||
			!strings.Contains(r.stderr, "--replace") {
			t.Errorf("exit %d, want 1 and the foreign extension named\nstderr:\n%s", r.code, r.stderr)
		}
		for _, w := range g.writes() {
			if strings.HasPrefix(w, "PUT ") {
				t.Errorf("%s although another extension was there", w)
			}
		}
		if g.Bindings[invitedFlowID+"/AttributeCollectionStart"] != foreign["id"] {
			t.Error("the foreign extension was replaced")
		}

		g.Requests = nil
		r, g = runAgainstGraph(t, g, script, append(slices.Clone(registerArgs), "--replace")...)
		if r.code != 0 {
			t.Fatalf("--replace: exit %d\nstderr:\n%s", r.code, r.stderr)
		}
		checkGraphRequests(t, g.Requests)
		if g.Bindings[invitedFlowID+"/AttributeCollectionStart"] == foreign["id"] {
			t.Error("--replace left the foreign extension")
		}
	})

	t.Run("a flow that does not read back bound: fails", func(t *testing.T) {
		tenant := newTenant()
		tenant.Faults = []graphFault{{Method: "PUT", Path: "onAttributeCollectionSubmit", Status: 0, Times: 1}}
		r, g := runAgainstGraph(t, tenant, script, registerArgs...)
		if r.code != 1 || !strings.Contains(r.stderr, "did not read back with invitegate's extension on OnAttributeCollectionSubmit") {
			t.Errorf("exit %d\nstderr:\n%s", r.code, r.stderr)
		}
		if len(g.Other) != 0 || r.stdout != "" {
			t.Errorf("it went on: %v %q", g.Other, r.stdout)
		}
	})

	t.Run("an email field that does not read back read-only: fails before attaching", func(t *testing.T) {
		tenant := newTenant()
		tenant.Faults = []graphFault{{Method: "PATCH", Path: "/authenticationEventsFlows/", Status: 0, Times: 1}}
		r, g := runAgainstGraph(t, tenant, script, registerArgs...)
		if r.code != 1 || !strings.Contains(r.stderr, "did not read back with a read-only email field") || len(g.Bindings) != 0 {
			t.Errorf("exit %d, bindings %v\nstderr:\n%s", r.code, g.Bindings, r.stderr)
		}
	})

	t.Run("a flow without an email input: fails before attaching", func(t *testing.T) {
		tenant := newTenant()
		flow := tenant.find("authenticationEventsFlows", "id", invitedFlowID)
		view := flow["onAttributeCollection"].(map[string]any)["attributeCollectionPage"].(map[string]any)["views"].([]any)[0].(map[string]any)
		view["inputs"] = view["inputs"].([]any)[1:]
		r, g := runAgainstGraph(t, tenant, script, registerArgs...)
		if r.code != 1 || !strings.Contains(r.stderr, "has no email input") || len(g.Bindings) != 0 {
			t.Errorf("exit %d, bindings %v\nstderr:\n%s", r.code, g.Bindings, r.stderr)
		}
	})

	t.Run("an app with other URIs and permissions: merged, not replaced", func(t *testing.T) {
		tenant := newTenant()
		const otherAPI = "00000002-0000-0000-c000-000000000000"
		tenant.Collections["applications"] = []map[string]any{{
			"id": "a0000000-0000-4000-8000-000000000001", "appId": "a0000000-0000-4000-8000-000000000002",
			"displayName":    "invitegate-extension",
			"identifierUris": []any{"api://old-func.azurewebsites.net/a0000000-0000-4000-8000-000000000002"},
			"requiredResourceAccess": []any{map[string]any{"resourceAppId": otherAPI,
				"resourceAccess": []any{map[string]any{"id": "311a71cc-e848-46a1-bdf8-97ff7156d8e6", "type": "Scope"}}}},
			"api": map[string]any{"requestedAccessTokenVersion": 2.0},
		}}
		r, g := runAgainstGraph(t, tenant, script, registerArgs...)
		app := registered(t, r, g)
		if uris := app["identifierUris"].([]any); len(uris) != 2 || uris[1] != "api://old-func.azurewebsites.net/a0000000-0000-4000-8000-000000000002" {
			t.Errorf("identifierUris = %v: the old one must be kept after ours", uris)
		}
		rra := mustJSON(app["requiredResourceAccess"])
		if !strings.Contains(rra, otherAPI) || !strings.Contains(rra, "214e810f-fda8-4fd7-a475-29461495eb00") {
			t.Errorf("requiredResourceAccess = %s: both APIs must be there", rra)
		}
		for _, want := range []string{"Keeping the app's other identifier URIs", "already requests permissions of 1 API(s)"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
		if b := g.Requests[slices.IndexFunc(g.Requests, func(q graphRequest) bool { return q.Method == "PATCH" })].Body; strings.Contains(b, "requiredResourceAccess") || strings.Contains(b, `"api"`) {
			t.Errorf("the PATCH overwrote what was right or merged elsewhere: %s", b)
		}
	})

	t.Run("two apps with the name: stops before any write", func(t *testing.T) {
		tenant := newTenant()
		for i := range 2 {
			tenant.Collections["applications"] = append(tenant.Collections["applications"], map[string]any{
				"id": "a000000" + string(rune('1'+i)) + "-0000-4000-8000-000000000001", "appId": "b000000" + string(rune('1'+i)) + "-0000-4000-8000-000000000001",
				"displayName": "invitegate-extension"})
		}
		r, g := runAgainstGraph(t, tenant, script, registerArgs...)
		if r.code != 1 || !strings.Contains(r.stderr, "found 2 app registrations named 'invitegate-extension'") || len(g.writes()) != 0 {
			t.Errorf("exit %d, writes %v\nstderr:\n%s", r.code, g.writes(), r.stderr)
		}
	})

	t.Run("unknown user flow: stops before touching a flow", func(t *testing.T) {
		r, g := runAgainstGraph(t, newTenant(), script, "--tenant-id", tenantID, "--function-host", host, "--user-flow", "Nope")
		if r.code != 1 || !strings.Contains(r.stderr, "no user flow named 'Nope'") || len(g.Bindings) != 0 {
			t.Errorf("exit %d\nstderr:\n%s", r.code, r.stderr)
		}
	})

	t.Run("detach: takes invitegate's extensions off, leaves others, reads back", func(t *testing.T) {
		r, g := runAgainstGraph(t, newTenant(), script, registerArgs...)
		registered(t, r, g)
		// Someone replaced the submit extension by hand.
		foreign := map[string]any{"@odata.type": "#microsoft.graph.onAttributeCollectionSubmitCustomExtension",
			"id": "eeeeeeee-0000-4000-8000-000000000002", "displayName": "Fraud check"}
		g.Collections["customAuthenticationExtensions"] = append(g.Collections["customAuthenticationExtensions"], foreign)
		g.Bindings[invitedFlowID+"/AttributeCollectionSubmit"] = foreign["id"].(string)
		g.Requests = nil
		r, g = runAgainstGraph(t, g, script, "--tenant-id", tenantID, "--user-flow", "Invited sign-up", "--detach")
		if r.code != 0 {
			t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
		}
		checkGraphRequests(t, g.Requests)
		want := map[string]string{invitedFlowID + "/AttributeCollectionSubmit": foreign["id"].(string)}
		if mustJSON(g.Bindings) != mustJSON(want) {
			t.Errorf("bindings after detach: %v, want %v", g.Bindings, want)
		}
		if !strings.Contains(r.stderr, "Fraud check is not invitegate's; left alone") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
	})

	t.Run("detach that does not read back: fails", func(t *testing.T) {
		r, g := runAgainstGraph(t, newTenant(), script, registerArgs...)
		registered(t, r, g)
		g.Faults = []graphFault{{Method: "DELETE", Path: "onAttributeCollectionStart", Status: 0, Times: 1}}
		r, _ = runAgainstGraph(t, g, script, "--tenant-id", tenantID, "--user-flow", "Invited sign-up", "--detach")
		if r.code != 1 || !strings.Contains(r.stderr, "still reads back with an extension on OnAttributeCollectionStart") {
			t.Errorf("exit %d\nstderr:\n%s", r.code, r.stderr)
		}
	})
}

// TestRegisterUsageErrors: the options this script added are checked before
// anything runs.
func TestRegisterUsageErrors(t *testing.T) {
	tools := toolsDir(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--tenant-id", tenantID, "--user-flow", "F", "--detach", "--replace"}, "--replace is for attaching"},
		{[]string{"--tenant-id", tenantID, "--function-host", host, "--graph-token-file", "/nonexistent/token"}, "cannot read it"},
		{[]string{"--tenant-id", tenantID, "--function-host", host, "--user-flow", "a`b"}, "without quotes"},
		{[]string{"--tenant-id", tenantID, "--function-host", host, "--graph-token-file"}, "--graph-token-file needs a value"},
	} {
		r := runScript(t, scriptEnv(tools), "scripts/register-entra.sh", tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) || r.stdout != "" {
			t.Errorf("%q: exit %d, want 2 and %q\nstderr:\n%s", tt.args, r.code, tt.want, r.stderr)
		}
	}
}
