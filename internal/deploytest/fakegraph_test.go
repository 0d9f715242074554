package deploytest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jmespath/go-jmespath"
)

// The fake Graph is a fake az whose "az rest" serves a small Microsoft Graph
// tenant kept in a JSON file between calls (each az call is a new process). It
// answers the requests register-entra.sh sends the way Graph and az do, as far
// as Microsoft documents them: collections with $filter and paging, creates
// that return the object, PATCH merges, the user flow's custom-extension $ref,
// az's --query (JMESPath) and its json/tsv output, and failures reported as
// "<reason>(<body>)" with exit 1. Faults make chosen calls fail, optionally
// after the change was made (a create that succeeded on the server but failed
// for the client). Every call is recorded, so tests check what was written and
// validate each body against Graph's schema.

// graphState is the fake tenant.
type graphState struct {
	TenantID string
	// Scopes are the delegated permissions (scp) of az's Graph token; with
	// none, Roles are the app permissions (roles) of an app's token.
	Scopes []string
	Roles  []string
	// PageSize is how many items a collection page holds (0: all).
	PageSize int
	// Collections by name: applications, servicePrincipals, appRoleAssignments,
	// customAuthenticationExtensions, authenticationEventsFlows.
	Collections map[string][]map[string]any
	// Bindings are the user flows' custom extensions: "<flowId>/<event>" to extension ID.
	Bindings map[string]string
	Faults   []graphFault
	Requests []graphRequest
	// Other are the az calls that are not az rest, space-joined.
	Other []string
	Seq   int
}

// graphFault makes the first Times calls whose method is Method and whose URL
// path contains Path answer Status. With Commit the fake does the change
// first; with Status 0 it answers success without doing the change.
type graphFault struct {
	Method, Path string
	Status       int
	Times        int
	Commit       bool
	Fired        int
}

// graphRequest is one az rest call as Graph saw it.
type graphRequest struct {
	Method string
	URL    string // with the query string
	Body   string
	Status int
	Header bool // sent with an Authorization header of its own (--graph-token-file)
}

// call is the request's method and path after the version, e.g. "PATCH /applications/x".
func (r graphRequest) call() string {
	u, _ := url.Parse(r.URL)
	path := u.Path
	for _, v := range []string{"/v1.0", "/beta"} {
		path = strings.TrimPrefix(path, v)
	}
	return r.Method + " " + path
}

// writes are the requests that change something.
func (s *graphState) writes() []string {
	var out []string
	for _, r := range s.Requests {
		if r.Method != "GET" {
			out = append(out, r.call())
		}
	}
	return out
}

// fakeGraphAz is the fake az's main when DEPLOYTEST_FAKE_GRAPH names a state file.
func fakeGraphAz(stateFile string, args []string, stdout, stderr io.Writer) int {
	raw, err := os.ReadFile(stateFile)
	if err != nil {
		fmt.Fprintln(stderr, "fake graph:", err)
		return 99
	}
	var s graphState
	if err := json.Unmarshal(raw, &s); err != nil {
		fmt.Fprintln(stderr, "fake graph:", err)
		return 99
	}
	code := s.az(args, stdout, stderr)
	raw, _ = json.MarshalIndent(&s, "", " ")
	if err := os.WriteFile(stateFile, raw, 0o644); err != nil {
		fmt.Fprintln(stderr, "fake graph:", err)
		return 99
	}
	return code
}

// flags reads az's --name value arguments; a flag may take several values.
func flags(args []string) map[string][]string {
	out := map[string][]string{}
	var name string
	for _, a := range args {
		if strings.HasPrefix(a, "--") {
			name = a
			out[name] = append(out[name], []string{}...)
			continue
		}
		if name != "" {
			out[name] = append(out[name], a)
		}
	}
	return out
}

func (s *graphState) az(args []string, stdout, stderr io.Writer) int {
	joined := strings.Join(args, " ")
	f := flags(args)
	first := func(name string) string {
		if v := f[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	switch {
	case strings.HasPrefix(joined, "account show"):
		return azOutput(map[string]any{"tenantId": s.TenantID, "name": "fake"}, first("--query"), first("--output"), stdout, stderr)
	case strings.HasPrefix(joined, "account get-access-token"):
		claims := map[string]any{"tid": s.TenantID}
		if len(s.Scopes) > 0 {
			claims["scp"] = strings.Join(s.Scopes, " ")
		} else {
			claims["roles"] = s.Roles
		}
		return azOutput(map[string]any{"accessToken": fakeJWT(claims)}, first("--query"), first("--output"), stdout, stderr)
	case strings.HasPrefix(joined, "rest "):
		return s.rest(f, first, stdout, stderr)
	case strings.HasPrefix(joined, "ad app permission add"):
		s.Other = append(s.Other, joined)
		app := s.find("applications", "appId", first("--id"))
		if app == nil {
			fmt.Fprintln(stderr, "ERROR: app not found")
			return 1
		}
		role, _, _ := strings.Cut(first("--api-permissions"), "=")
		rra, _ := app["requiredResourceAccess"].([]any)
		for _, e := range rra {
			entry := e.(map[string]any)
			if entry["resourceAppId"] == first("--api") {
				entry["resourceAccess"] = append(entry["resourceAccess"].([]any), map[string]any{"id": role, "type": "Role"})
				return 0
			}
		}
		app["requiredResourceAccess"] = append(rra, map[string]any{"resourceAppId": first("--api"),
			"resourceAccess": []any{map[string]any{"id": role, "type": "Role"}}})
		return 0
	case strings.HasPrefix(joined, "functionapp config appsettings set"):
		s.Other = append(s.Other, strings.TrimSuffix(joined, " --output none"))
		return 0
	}
	fmt.Fprintf(stderr, "fake graph: no such az command: az %s\n", joined)
	return 97
}

// fakeJWT makes an unsigned token with these claims (the script only reads them).
func fakeJWT(claims map[string]any) string {
	enc := base64.RawURLEncoding
	payload, _ := json.Marshal(claims)
	return enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc.EncodeToString(payload) + ".sig"
}

// graphError is a failed response: the status and Graph's error code.
type graphError struct {
	status int
	code   string
	msg    string
}

var reasons = map[int]string{400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
	405: "Method Not Allowed", 409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error",
	503: "Service Unavailable"}

func (s *graphState) rest(f map[string][]string, first func(string) string, stdout, stderr io.Writer) int {
	method := strings.ToUpper(first("--method"))
	u, err := url.Parse(first("--uri"))
	if err != nil || u.Host != "graph.microsoft.com" {
		fmt.Fprintf(stderr, "fake graph: not a Graph URL: %s\n", first("--uri"))
		return 98
	}
	q := u.Query()
	for _, p := range f["--uri-parameters"] {
		k, v, _ := strings.Cut(p, "=")
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	body := first("--body")
	req := graphRequest{Method: method, URL: u.String(), Body: body}
	for _, h := range f["--headers"] {
		if strings.HasPrefix(h, "@") {
			raw, err := os.ReadFile(h[1:])
			if err == nil && bytes.Contains(raw, []byte(`"Authorization":"Bearer `)) {
				req.Header = true
			}
		}
	}
	path := u.Path
	for _, v := range []string{"/v1.0/", "/beta/"} {
		path = strings.TrimPrefix(path, v)
	}

	var fault *graphFault
	for i := range s.Faults {
		ft := &s.Faults[i]
		if ft.Method == method && strings.Contains(u.Path, ft.Path) && ft.Fired < ft.Times {
			ft.Fired++
			fault = ft
			break
		}
	}
	var out any
	var gerr *graphError
	if fault == nil || fault.Commit {
		out, gerr = s.serve(method, path, u, body)
	}
	if fault != nil && fault.Status != 0 {
		gerr = &graphError{fault.Status, "fakeFault", "injected by the test"}
	}
	if gerr != nil {
		req.Status = gerr.status
		s.Requests = append(s.Requests, req)
		errBody, _ := json.Marshal(map[string]any{"error": map[string]any{"code": gerr.code, "message": gerr.msg}})
		fmt.Fprintf(stderr, "ERROR: %s(%s)\n", reasons[gerr.status], errBody)
		return 1
	}
	req.Status = 200
	s.Requests = append(s.Requests, req)
	return azOutput(out, first("--query"), first("--output"), stdout, stderr)
}

// azOutput applies --query and prints in the --output format, as az does
// (knack: output.py; a null result prints nothing).
func azOutput(result any, query, format string, stdout, stderr io.Writer) int {
	if query != "" && result != nil {
		r, err := jmespath.Search(query, result)
		if err != nil {
			fmt.Fprintf(stderr, "ERROR: argument --query: invalid jmespath_type value: %q: %v\n", query, err)
			return 2
		}
		result = r
	}
	if result == nil || format == "none" {
		return 0
	}
	if format == "tsv" {
		fmt.Fprint(stdout, tsv(result))
		return 0
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(result)
	fmt.Fprint(stdout, b.String())
	return 0
}

// tsv formats like knack's _TsvOutput: a list is one row per item, a row's
// values are tab-separated, a nested list prints its length, a nested object
// nothing, null "None", and booleans are capitalized inside rows.
func tsv(v any) string {
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	var b strings.Builder
	for _, item := range items {
		switch x := item.(type) {
		case []any:
			for i, c := range x {
				if i > 0 {
					b.WriteByte('\t')
				}
				b.WriteString(tsvValue(c))
			}
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for i, k := range keys {
				if i > 0 {
					b.WriteByte('\t')
				}
				b.WriteString(tsvValue(x[k]))
			}
		case bool:
			b.WriteString(strconv.FormatBool(x))
		default:
			b.WriteString(tsvValue(x))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func tsvValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case []any:
		return strconv.Itoa(len(x))
	case map[string]any:
		return ""
	case bool:
		if x {
			return "True"
		}
		return "False"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// well-known first-party apps that have no application object in the tenant.
var firstPartyApps = []string{"00000003-0000-0000-c000-000000000000", "99045fe1-7639-4a75-9d4a-577b6ca3810f"}

var handlerPath = regexp.MustCompile(`^identity/authenticationEventsFlows/([^/]+)/microsoft\.graph\.externalUsersSelfServiceSignUpEventsFlow/on(AttributeCollectionStart|AttributeCollectionSubmit)/microsoft\.graph\.on(AttributeCollectionStart|AttributeCollectionSubmit)CustomExtensionHandler/customExtension(/\$ref)?$`)

// serve answers one request: the response body (nil for 204) or an error.
func (s *graphState) serve(method, path string, u *url.URL, body string) (any, *graphError) {
	var in map[string]any
	if body != "" {
		if err := json.Unmarshal([]byte(body), &in); err != nil {
			return nil, &graphError{400, "BadRequest", "Unable to read JSON request payload: " + err.Error()}
		}
	}
	if m := handlerPath.FindStringSubmatch(path); m != nil {
		return s.serveHandler(method, m[1], m[2], m[3], m[4] != "", in)
	}
	segs := strings.Split(path, "/")
	coll := segs[0]
	if coll == "identity" && len(segs) > 1 {
		segs = segs[1:]
		coll = segs[0]
	}
	if !slices.Contains([]string{"applications", "servicePrincipals", "customAuthenticationExtensions", "authenticationEventsFlows"}, coll) {
		return nil, &graphError{400, "BadRequest", "Resource not found for the segment '" + coll + "'."}
	}
	switch {
	case len(segs) == 1 && method == "GET":
		return s.list(coll, u, func(map[string]any) bool { return true })
	case len(segs) == 1 && method == "POST":
		return s.create(coll, in, nil)
	case len(segs) == 2 && method == "GET":
		obj := s.find(coll, "id", segs[1])
		if obj == nil {
			return nil, notFound(segs[1])
		}
		return obj, nil
	case len(segs) == 2 && method == "PATCH":
		obj := s.find(coll, "id", segs[1])
		if obj == nil {
			return nil, notFound(segs[1])
		}
		if (coll == "customAuthenticationExtensions" || coll == "authenticationEventsFlows") && in["@odata.type"] != obj["@odata.type"] {
			return nil, &graphError{400, "BadRequest", "the @odata.type of the object is required and must match"}
		}
		for k, v := range in {
			obj[k] = v
		}
		return nil, nil
	case len(segs) == 3 && coll == "servicePrincipals" && segs[2] == "appRoleAssignments":
		if s.find("servicePrincipals", "id", segs[1]) == nil {
			return nil, notFound(segs[1])
		}
		if method == "GET" {
			return s.list("appRoleAssignments", u, func(o map[string]any) bool { return o["principalId"] == segs[1] })
		}
		if method == "POST" {
			if in["principalId"] != segs[1] || s.find("servicePrincipals", "id", fmt.Sprint(in["resourceId"])) == nil {
				return nil, &graphError{400, "Request_BadRequest", "invalid principalId or resourceId"}
			}
			return s.create("appRoleAssignments", in, nil)
		}
	}
	return nil, &graphError{405, "MethodNotAllowed", method + " " + path}
}

func notFound(id string) *graphError {
	return &graphError{404, "Request_ResourceNotFound", "Resource '" + id + "' does not exist or one of its queried reference-property objects are not present."}
}

func (s *graphState) find(coll, key, value string) map[string]any {
	for _, o := range s.Collections[coll] {
		if o[key] == value {
			return o
		}
	}
	return nil
}

var (
	eqFilter   = regexp.MustCompile(`^(displayName|appId) eq '([^']*)'$`)
	isOfFilter = regexp.MustCompile(`^isOf\('microsoft\.graph\.([A-Za-z]+)'\)$`)
)

// list answers a GET of a collection: $filter, then one page of PageSize
// items and an @odata.nextLink to the rest.
func (s *graphState) list(coll string, u *url.URL, keep func(map[string]any) bool) (any, *graphError) {
	q := u.Query()
	filter := q.Get("$filter")
	var items []any
	for _, o := range s.Collections[coll] {
		if !keep(o) {
			continue
		}
		switch m, t := eqFilter.FindStringSubmatch(filter), isOfFilter.FindStringSubmatch(filter); {
		case filter == "":
		case m != nil:
			if o[m[1]] != m[2] {
				continue
			}
		case t != nil:
			if o["@odata.type"] != "#microsoft.graph."+t[1] {
				continue
			}
		default:
			return nil, &graphError{400, "BadRequest", "Invalid filter clause: " + filter}
		}
		items = append(items, o)
	}
	skip, _ := strconv.Atoi(q.Get("$skiptoken"))
	items = items[min(skip, len(items)):]
	out := map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#" + coll}
	if s.PageSize > 0 && len(items) > s.PageSize {
		items = items[:s.PageSize]
		q.Set("$skiptoken", strconv.Itoa(skip+s.PageSize))
		next := *u
		next.RawQuery = q.Encode()
		out["@odata.nextLink"] = next.String()
	}
	if items == nil {
		items = []any{}
	}
	out["value"] = items
	return out, nil
}

// create adds an object with a new ID (and appId, for an application).
func (s *graphState) create(coll string, in map[string]any, _ any) (any, *graphError) {
	switch coll {
	case "servicePrincipals":
		appID, _ := in["appId"].(string)
		if s.find("applications", "appId", appID) == nil && !slices.Contains(firstPartyApps, appID) {
			return nil, &graphError{400, "Request_BadRequest", "The appId '" + appID + "' of the service principal does not reference a valid application object."}
		}
		if s.find("servicePrincipals", "appId", appID) != nil {
			return nil, &graphError{409, "Request_MultipleObjectsWithSameKeyValue", "The service principal for this app already exists."}
		}
	case "customAuthenticationExtensions":
		if _, ok := in["@odata.type"].(string); !ok {
			return nil, &graphError{400, "BadRequest", "customAuthenticationExtension is abstract: @odata.type is required"}
		}
	case "applications", "appRoleAssignments":
	default:
		return nil, &graphError{405, "MethodNotAllowed", "POST " + coll}
	}
	obj := map[string]any{}
	for k, v := range in {
		obj[k] = v
	}
	s.Seq++
	obj["id"] = fmt.Sprintf("%08x-0000-4000-8000-%012x", s.Seq, s.Seq)
	if coll == "applications" {
		s.Seq++
		obj["appId"] = fmt.Sprintf("%08x-0000-4000-8000-%012x", s.Seq, s.Seq)
		for k, v := range map[string]any{"identifierUris": []any{}, "requiredResourceAccess": []any{},
			"api": map[string]any{"requestedAccessTokenVersion": nil}} {
			if _, ok := obj[k]; !ok {
				obj[k] = v
			}
		}
	}
	if s.Collections == nil {
		s.Collections = map[string][]map[string]any{}
	}
	s.Collections[coll] = append(s.Collections[coll], obj)
	return obj, nil
}

// serveHandler answers the user flow's custom extension for an event: GET it,
// PUT or DELETE its $ref.
func (s *graphState) serveHandler(method, flowID, event, castEvent string, ref bool, in map[string]any) (any, *graphError) {
	flow := s.find("authenticationEventsFlows", "id", flowID)
	if flow == nil {
		return nil, notFound(flowID)
	}
	if event != castEvent {
		return nil, &graphError{400, "BadRequest", "the handler cast does not match the event"}
	}
	if s.Bindings == nil {
		s.Bindings = map[string]string{}
	}
	key := flowID + "/" + event
	handler := "on" + event
	switch {
	case method == "GET" && !ref:
		id, ok := s.Bindings[key]
		if !ok && flow[handler] == nil {
			// No handler of that type to cast to (what Graph answers here is
			// not documented; the script takes 400 and 404 alike before attaching).
			return nil, &graphError{400, "BadRequest", "Invalid cast: the handler is null"}
		}
		if !ok {
			return nil, notFound("customExtension")
		}
		return s.find("customAuthenticationExtensions", "id", id), nil
	case method == "PUT" && ref:
		ref, _ := in["@odata.id"].(string)
		const prefix = "https://graph.microsoft.com/beta/identity/customAuthenticationExtensions/"
		ext := s.find("customAuthenticationExtensions", "id", strings.TrimPrefix(ref, prefix))
		if !strings.HasPrefix(ref, prefix) || ext == nil {
			return nil, &graphError{400, "BadRequest", "Invalid @odata.id: " + ref}
		}
		if ext["@odata.type"] != "#microsoft.graph.on"+event+"CustomExtension" {
			return nil, &graphError{400, "BadRequest", "the extension is not an on" + event + "CustomExtension"}
		}
		s.Bindings[key] = ext["id"].(string)
		flow[handler] = map[string]any{"@odata.type": "#microsoft.graph.on" + event + "CustomExtensionHandler", "configuration": nil}
		return nil, nil
	case method == "DELETE" && ref:
		if _, ok := s.Bindings[key]; !ok {
			return nil, notFound("customExtension")
		}
		delete(s.Bindings, key)
		return nil, nil
	}
	return nil, &graphError{405, "MethodNotAllowed", method}
}

// sampleFlow is a sign-up user flow as Graph returns it: the attribute
// collection page has the email input, editable, and two more.
func sampleFlow(id, name string) map[string]any {
	input := func(attr, label string) map[string]any {
		return map[string]any{"attribute": attr, "label": label, "inputType": "text", "defaultValue": nil,
			"hidden": false, "editable": true, "writeToDirectory": true, "required": true, "validationRegEx": "^.*$", "options": []any{}}
	}
	return map[string]any{
		"@odata.type": "#microsoft.graph.externalUsersSelfServiceSignUpEventsFlow",
		"id":          id, "displayName": name, "description": nil,
		"onAttributeCollection": map[string]any{
			"@odata.type": "#microsoft.graph.onAttributeCollectionExternalUsersSelfServiceSignUp",
			"attributeCollectionPage": map[string]any{"views": []any{map[string]any{
				"title": nil, "description": nil,
				"inputs": []any{input("email", "Email Address"), input("displayName", "Display Name"), input("city", "City")},
			}}},
		},
		"onAttributeCollectionStart":  nil,
		"onAttributeCollectionSubmit": nil,
	}
}

// newTenant is an external tenant with Graph's service principal and a
// sign-up user flow, and az signed in with the Azure CLI's usual Graph
// scopes plus the two that attaching needs.
func newTenant() *graphState {
	return &graphState{
		TenantID: tenantID,
		Scopes: []string{"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "AuditLog.Read.All",
			"CustomAuthenticationExtension.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All",
			"Directory.AccessAsUser.All", "EventListener.ReadWrite.All", "Group.ReadWrite.All", "User.ReadWrite.All"},
		PageSize: 1,
		Collections: map[string][]map[string]any{
			"servicePrincipals": {{"id": "99999999-0000-4000-8000-000000000003", "appId": "00000003-0000-0000-c000-000000000000", "displayName": "Microsoft Graph"}},
			"authenticationEventsFlows": {
				sampleFlow("f0000000-0000-4000-8000-000000000001", "Partners sign-up"),
				sampleFlow("f0000000-0000-4000-8000-000000000002", "Invited sign-up"),
			},
		},
	}
}

// runAgainstGraph runs a script with the fake Graph as its az, checks every
// request it recorded against Graph's schema, and returns the tenant as the
// run left it.
func runAgainstGraph(t *testing.T, tenant *graphState, script string, args ...string) (result, *graphState) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	wrapper := fmt.Sprintf("#!/bin/sh\nexec %q \"$@\"\n", self)
	if err := os.WriteFile(filepath.Join(bin, "az"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	stateFile := filepath.Join(dir, "tenant.json")
	raw, _ := json.Marshal(tenant)
	if err := os.WriteFile(stateFile, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	path := bin + string(os.PathListSeparator) + toolsDir(t)
	r := runScript(t, scriptEnv(path, "DEPLOYTEST_FAKE_GRAPH="+stateFile, "GORACE=atexit_sleep_ms=0",
		"INVITEGATE_RETRY_DELAY=0"), script, args...)
	raw, err = os.ReadFile(stateFile)
	if err != nil {
		t.Fatal(err)
	}
	var after graphState
	if err := json.Unmarshal(raw, &after); err != nil {
		t.Fatal(err)
	}
	// Every request Graph saw, in any scenario, matches Graph's schema.
	for _, e := range checkRequests(trimmedSchema(t), after.Requests, false) {
		t.Error(e)
	}
	return r, &after
}
