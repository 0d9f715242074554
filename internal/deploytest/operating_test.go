package deploytest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/bench"
	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/tablestore"
	"github.com/invitegate/invitegate/internal/testutil/azurite"
	"github.com/invitegate/invitegate/internal/testutil/fixtures"
	"github.com/invitegate/invitegate/internal/testutil/handlerproc"
)

// The workbook and the alerts read the handler's JSON log lines out of
// Application Insights (traces.message, parsed with parse_json). These
// tests read every field access out of the queries and check it against
// log lines that the real handler binary wrote while it answered real
// requests, so that a renamed field, message or value fails here instead
// of silently emptying a chart or muting an alert.

// pendingFields are fields the queries read that the handler does not write
// yet, with who adds them. A pending field that appears fails the test, so
// the entry gets removed and the field checked like any other.
var pendingFields = map[string]string{}

// pendingDuplicates are keys the handler writes twice in one line today.
// parse_json's handling of a repeated key is not documented, so no query
// reads them; the entry fails the test once the duplicate is gone.
var pendingDuplicates = map[string]string{}

// logLine is one line the handler wrote.
type logLine struct {
	stream string // stdout or stderr
	raw    string
	fields map[string]any
	dups   []string // keys that occur more than once
}

func (l logLine) message() string { s, _ := l.fields["message"].(string); return s }

// parseLogLines reads JSON lines, noting repeated keys.
func parseLogLines(stream, text string) (lines []logLine, notJSON []string) {
	for _, raw := range strings.Split(text, "\n") {
		if strings.TrimSpace(raw) == "" {
			continue
		}
		l := logLine{stream: stream, raw: raw, fields: map[string]any{}}
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			notJSON = append(notJSON, raw)
			continue
		}
		ok := true
		for dec.More() {
			tok, err := dec.Token()
			key, isKey := tok.(string)
			if err != nil || !isKey {
				ok = false
				break
			}
			var v any
			if err := dec.Decode(&v); err != nil {
				ok = false
				break
			}
			if _, seen := l.fields[key]; seen {
				l.dups = append(l.dups, key)
			}
			l.fields[key] = v
		}
		if !ok {
			notJSON = append(notJSON, raw)
			continue
		}
		lines = append(lines, l)
	}
	return lines, notJSON
}

// jsonType names the JSON type of a decoded value.
func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	case []any:
		return "array"
	}
	return "object"
}

// conversions are the KQL functions a query must read a log field through,
// and the JSON type each expects.
var conversions = map[string]string{
	"tostring": "string", "todouble": "number", "toreal": "number", "tolong": "number", "toint": "number", "tobool": "bool",
}

var (
	kqlComment  = regexp.MustCompile(`(?m)//.*$`)
	kqlAccess   = regexp.MustCompile(`\blog\.([A-Za-z_]\w*)`)
	kqlTyped    = regexp.MustCompile(`\b(tostring|todouble|toreal|tolong|toint|tobool)\(\s*log\.([A-Za-z_]\w*)\s*\)`)
	kqlAlias    = regexp.MustCompile(`\b([A-Za-z_]\w*)\s*=\s*(tostring|todouble|toreal|tolong|toint|tobool)\(\s*log\.([A-Za-z_]\w*)\s*\)`)
	kqlCompare  = regexp.MustCompile(`(\b[A-Za-z_]\w*|\b(?:tostring|tolong|toint|todouble)\(\s*log\.[A-Za-z_]\w*\s*\))\s*(==|!=|startswith)\s*("[^"]*"|\d+)`)
	kqlIn       = regexp.MustCompile(`(\b[A-Za-z_]\w*)\s+in\s*\(([^)]*)\)`)
	kqlInnerLog = regexp.MustCompile(`log\.([A-Za-z_]\w*)`)
)

// queryUse is what a query reads from the log lines.
type queryUse struct {
	kinds  []kind            // the lines it selects, by message
	fields map[string]string // field → JSON type
	values []fieldValue      // values it compares fields with
}

type kind struct {
	message string
	prefix  bool
}

func (k kind) matches(msg string) bool {
	if k.prefix {
		return strings.HasPrefix(msg, k.message)
	}
	return msg == k.message
}

type fieldValue struct {
	field string
	value string // a string, or digits for a number
}

// analyzeQuery reads a query's field accesses; problems are the ways it
// breaks the conventions that make it checkable.
func analyzeQuery(q string) (u queryUse, problems []string) {
	code := kqlComment.ReplaceAllString(q, "")
	u.fields = map[string]string{}
	if strings.Contains(code, "log[") {
		problems = append(problems, "reads a field as log[...]: write log.field")
	}
	accesses := kqlAccess.FindAllStringSubmatch(code, -1)
	typed := kqlTyped.FindAllStringSubmatch(code, -1)
	if len(accesses) != len(typed) {
		problems = append(problems, "reads a log field without converting it (tostring, todouble, tolong, tobool), so its type cannot be checked")
	}
	for _, m := range typed {
		want := conversions[m[1]]
		if prev, ok := u.fields[m[2]]; ok && prev != want {
			problems = append(problems, fmt.Sprintf("reads %s both as %s and as %s", m[2], prev, want))
		}
		u.fields[m[2]] = want
	}
	alias := map[string]string{}
	for _, m := range kqlAlias.FindAllStringSubmatch(code, -1) {
		alias[m[1]] = m[3]
	}
	if alias["msg"] != "message" {
		problems = append(problems, "does not name the log message: extend msg = tostring(log.message)")
	}
	field := func(lhs string) string {
		if f, ok := alias[lhs]; ok {
			return f
		}
		if m := kqlInnerLog.FindStringSubmatch(lhs); m != nil {
			return m[1]
		}
		return ""
	}
	for _, m := range kqlCompare.FindAllStringSubmatch(code, -1) {
		f := field(m[1])
		if f == "" {
			continue
		}
		v := strings.Trim(m[3], `"`)
		if f == "message" && m[2] != "!=" {
			u.kinds = append(u.kinds, kind{message: v, prefix: m[2] == "startswith"})
		}
		if m[2] != "startswith" {
			u.values = append(u.values, fieldValue{f, v})
		}
	}
	for _, m := range kqlIn.FindAllStringSubmatch(code, -1) {
		f := field(m[1])
		if f == "" {
			continue
		}
		for _, v := range strings.Split(m[2], ",") {
			v = strings.Trim(strings.TrimSpace(v), `"`)
			u.values = append(u.values, fieldValue{f, v})
			if f == "message" {
				u.kinds = append(u.kinds, kind{message: v})
			}
		}
	}
	if len(u.kinds) == 0 {
		problems = append(problems, `selects no log line by its message (where msg == "...")`)
	}
	if !strings.HasPrefix(strings.TrimSpace(code), "traces\n| where customDimensions.Category == \"Host.Function.Console\"\n| extend log = parse_json(message)") {
		problems = append(problems, "does not start with the traces of the handler's console (see the other queries)")
	}
	return u, problems
}

func allQueries(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "infra", "queries", "*.kql"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		out[filepath.Base(f)] = readQuery(t, filepath.Base(f))
	}
	var listed []string
	for _, d := range dashboards {
		listed = append(listed, d.file)
	}
	listed = append(listed, alertQueries...)
	sort.Strings(listed)
	var found []string
	for f := range out {
		found = append(found, f)
	}
	sort.Strings(found)
	if strings.Join(found, " ") != strings.Join(listed, " ") {
		t.Errorf("infra/queries holds %v; the workbook and the alerts use %v", found, listed)
	}
	return out
}

// TestQueriesAreCheckable: every query follows the conventions that let the
// next test check it, and the checker itself notices each kind of slip.
func TestQueriesAreCheckable(t *testing.T) {
	for name, q := range allQueries(t) {
		if _, problems := analyzeQuery(q); len(problems) > 0 {
			t.Errorf("%s: %s", name, strings.Join(problems, "; "))
		}
	}
	base := "traces\n| where customDimensions.Category == \"Host.Function.Console\"\n| extend log = parse_json(message)\n| extend msg = tostring(log.message)\n"
	for _, tt := range []struct{ query, want string }{
		{base + `| where msg == "decision"` + "\n| summarize avg(log.latency)", "without converting it"},
		{base + `| where msg == "decision"` + "\n| summarize x = todouble(log[\"latency\"])", "log[...]"},
		{base + "| summarize count()", "selects no log line"},
		{"traces\n| extend log = parse_json(message)\n| extend msg = tostring(log.message)\n| where msg == \"decision\"", "does not start with"},
		{base + `| where msg == "decision"` + "\n| extend a = tostring(log.latency), b = todouble(log.latency)", "both as string and as number"},
	} {
		if _, problems := analyzeQuery(tt.query); !strings.Contains(strings.Join(problems, "; "), tt.want) {
			t.Errorf("the lint missed %q in:\n%s\ngot %q", tt.want, tt.query, problems)
		}
	}
}

// TestQueriesReadRealLogLines checks every field, message and value the
// queries read against the lines the handler wrote.
func TestQueriesReadRealLogLines(t *testing.T) {
	lines := realLogLines(t)
	checkQueriesAgainst(t, allQueries(t), lines)

	// What the lines must never hold: a raw address.
	masked := regexp.MustCompile(`^[^@]\*\*\*@[^@]+$`)
	for _, l := range lines {
		for _, raw := range []string{operatorInvited, operatorStranger, operatorExpired, operatorRevoked, "amy" + operatorDomain} {
			if strings.Contains(l.raw, raw) {
				t.Errorf("a log line holds the raw address %s: %s", raw, l.raw)
			}
		}
		if e, ok := l.fields["email"].(string); ok && !masked.MatchString(e) {
			t.Errorf("email %q is not masked: %s", e, l.raw)
		}
	}
	// Repeated keys.
	for _, l := range lines {
		for _, d := range l.dups {
			if _, pending := pendingDuplicates[d]; !pending {
				t.Errorf("the key %q occurs twice in: %s", d, l.raw)
			}
		}
	}
	for key, why := range pendingDuplicates {
		repeated := false
		for _, l := range lines {
			repeated = repeated || contains(l.dups, key)
		}
		if !repeated {
			t.Errorf("no line repeats %q any more: delete it from pendingDuplicates (%s)", key, why)
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// checkQueriesAgainst is the core of TestQueriesReadRealLogLines, kept apart
// so that TestQueryCheckCanFail can run it on changed queries.
func checkQueriesAgainst(t reporter, queries map[string]string, lines []logLine) {
	t.Helper()
	names := make([]string, 0, len(queries))
	for n := range queries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		u, _ := analyzeQuery(queries[name])
		var selected []logLine
		for _, k := range u.kinds {
			n := 0
			for _, l := range lines {
				if k.matches(l.message()) {
					selected = append(selected, l)
					n++
				}
			}
			if n == 0 {
				t.Errorf("%s selects lines with message %q, which the handler did not write", name, k.message)
			}
		}
		for field, typ := range u.fields {
			if field == "message" {
				continue
			}
			present := 0
			for _, l := range selected {
				v, ok := l.fields[field]
				if !ok {
					continue
				}
				present++
				if got := jsonType(v); got != typ {
					t.Errorf("%s reads %s as a %s; the handler wrote %s in: %s", name, field, typ, got, l.raw)
				}
				if contains(l.dups, field) {
					t.Errorf("%s reads %s, which occurs twice in: %s", name, field, l.raw)
				}
			}
			why, pending := pendingFields[field]
			switch {
			case present == 0 && pending:
				// Not written yet; logged so the gap stays visible.
				if tl, ok := t.(interface{ Logf(string, ...any) }); ok {
					tl.Logf("%s reads %s, not written yet: %s", name, field, why)
				}
			case present == 0:
				t.Errorf("%s reads the field %q, which no line it selects carries", name, field)
			case pending:
				t.Errorf("the handler now writes %q: delete it from pendingFields", field)
			}
		}
		for _, fv := range u.values {
			if _, pending := pendingFields[fv.field]; pending {
				continue
			}
			found := false
			for _, l := range selected {
				v, ok := l.fields[fv.field]
				if ok && (fmt.Sprint(v) == fv.value) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s compares %s with %q, a value no line it selects carries", name, fv.field, fv.value)
			}
		}
	}
}

// TestQueryCheckCanFail renames, retypes and misspells what the queries
// read, and requires the check to notice each.
func TestQueryCheckCanFail(t *testing.T) {
	lines := []logLine{}
	for _, raw := range []string{
		`{"level":"info","event":"OnAttributeCollectionStart","outcome":"not_invited","action":"showBlockPage","email":"a***@example.org","latency":1.5,"message":"decision"}`,
		`{"level":"warn","status":401,"outcome":"rejected","message":"request not authenticated"}`,
	} {
		l, bad := parseLogLines("stdout", raw)
		if len(bad) > 0 {
			t.Fatal(bad)
		}
		lines = append(lines, l...)
	}
	base := "traces\n| where customDimensions.Category == \"Host.Function.Console\"\n| extend log = parse_json(message)\n| extend msg = tostring(log.message)\n"
	for _, tt := range []struct{ query, want string }{
		{base + `| where msg == "decided"`, `message "decided", which the handler did not write`},
		{base + `| where msg == "decision"` + "\n| summarize percentile(todouble(log.latency_ms), 95)", `"latency_ms", which no line it selects carries`},
		{base + `| where msg == "decision"` + "\n| summarize by tostring(log.latency)", "reads latency as a string; the handler wrote number"},
		{base + `| where msg == "decision"` + "\n| where tostring(log.outcome) == \"not-invited\"", `compares outcome with "not-invited"`},
		{base + `| where msg == "request not authenticated"` + "\n| where tolong(log.status) == 403", `compares status with "403"`},
		{base + `| where msg == "decision"` + "\n| extend outcome = tostring(log.outcome)\n| where outcome in (\"expired\")", `compares outcome with "expired"`},
	} {
		c := &collector{}
		checkQueriesAgainst(c, map[string]string{"mutated.kql": tt.query}, lines)
		if !strings.Contains(strings.Join(c.errs, "\n"), tt.want) {
			t.Errorf("the check missed %q in:\n%s\ngot: %q", tt.want, tt.query, c.errs)
		}
	}
}

// The people of the operating test's invitation table.
const (
	operatorInvited  = "jo.bloggs@example.org" // prefill and set values: prefill, then modify
	operatorDomain   = "@partner.example"      // a domain invitation with no values: continue
	operatorExpired  = "gone@example.org"
	operatorRevoked  = "withdrawn@example.org"
	operatorStranger = "someone@elsewhere.example"
)

// realLogLines runs the handler binary against a private Azurite and a
// local Entra tenant, sends it one request of each kind the queries count
// (every answer, a 401, the store paused until the gate sheds load), stops
// it, and returns what it wrote on stdout and stderr.
func realLogLines(t *testing.T) []logLine {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the handler against Azurite")
	}
	bin := filepath.Join(t.TempDir(), "handler")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/invitegate/invitegate/cmd/handler").CombinedOutput(); err != nil {
		t.Fatalf("building the handler: %v\n%s", err, out)
	}
	az := azurite.Start(t)
	store, err := tablestore.Open(tablestore.Settings{Connection: az.ConnectionString(), Table: "operating"}, tablestore.Options{Retries: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := store.Init(ctx); err != nil {
		t.Fatal(err)
	}
	for _, inv := range []invite.Invitation{
		{Key: invite.Key{Subject: operatorInvited, App: invite.AnyApp}, Status: invite.StatusPending,
			Prefill: map[string]string{"givenName": "Jo"}, Set: map[string]string{"companyName": "Example Ltd"}},
		{Key: invite.Key{Subject: operatorDomain, App: invite.AnyApp}, Status: invite.StatusPending},
		{Key: invite.Key{Subject: operatorExpired, App: invite.AnyApp}, Status: invite.StatusPending, Expires: time.Now().Add(-time.Hour)},
		{Key: invite.Key{Subject: operatorRevoked, App: invite.AnyApp}, Status: invite.StatusRevoked},
	} {
		if err := store.Put(ctx, inv); err != nil {
			t.Fatal(err)
		}
	}

	tenant, err := bench.StartTenant()
	if err != nil {
		t.Fatal(err)
	}
	defer tenant.Close()
	// The tenant's keys endpoint is down while the handler starts: the
	// first request is refused with 503 (keys_unavailable) until the
	// background retry loads the keys.
	tenant.SetDown(true)
	// The longest store timeout the handler takes, so that the requests sent
	// while the store is paused overlap even on a busy machine.
	env := append([]string{"INVITATIONS_CONNECTION=" + az.ConnectionString(), "INVITATIONS_TABLE=operating",
		"INVITE_LOG_LEVEL=info", "INVITE_STORE_TIMEOUT=1900ms"}, tenant.Env()...)
	h, err := handlerproc.Start(bin, handlerproc.Options{Env: env, KeepLogs: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Kill()
	if _, err := h.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	token, err := tenant.Token(0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512}}
	post := func(path, token string, body []byte) int {
		status, resp, err := bench.Post(ctx, client, h.URL+path, token, body)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		_ = resp
		return status
	}
	if s := post(bench.StartPath, token, bench.SignUpBody(false, operatorStranger, "keys-down")); s != http.StatusServiceUnavailable {
		t.Fatalf("with the keys endpoint down at start, a request answered %d, want 503", s)
	}
	tenant.SetDown(false)
	// The signing keys load in the background: wait for a 200.
	deadline := time.Now().Add(60 * time.Second)
	for post(bench.StartPath, token, bench.SignUpBody(false, operatorStranger, "warm-up")) != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("the handler did not accept the tenant's token within 60 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i, r := range []struct {
		submit bool
		email  string
	}{
		{false, operatorInvited}, {true, operatorInvited}, // prefill, modify
		{false, "amy" + operatorDomain}, {true, "amy" + operatorDomain}, // continue, continue
		{false, operatorStranger}, {false, operatorExpired}, {false, operatorRevoked}, // blocks
	} {
		if s := post(pathFor(r.submit), token, bench.SignUpBody(r.submit, r.email, fmt.Sprintf("corr-%d", i))); s != http.StatusOK {
			t.Fatalf("sign-up %d answered %d", i, s)
		}
	}
	if s := post(bench.StartPath, token, fixtures.Request(t, "start-no-email.json")); s != http.StatusOK {
		t.Fatalf("the no-email sign-up answered %d", s)
	}
	if s := post(bench.StartPath, "", bench.SignUpBody(false, operatorStranger, "no-token")); s != http.StatusUnauthorized {
		t.Fatalf("a request without a token answered %d, want 401", s)
	}
	// The store stops answering: sign-ups get the unavailable page after
	// the store timeout, and past the in-flight bound (256) at once.
	az.Pause()
	var wg sync.WaitGroup
	for i := 0; i < 400; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			bench.Post(ctx, client, h.URL+bench.StartPath, token, bench.SignUpBody(false, operatorStranger, fmt.Sprintf("paused-%d", i)))
		}(i)
	}
	wg.Wait()
	az.Resume()
	if _, err := h.Stop(); err != nil {
		t.Logf("stopping the handler: %v", err)
	}

	out, bad := parseLogLines("stdout", h.Logs())
	errLines, badErr := parseLogLines("stderr", h.Stderr())
	for _, b := range append(bad, badErr...) {
		t.Errorf("a line the queries cannot parse as JSON: %s", b)
	}
	lines := append(out, errLines...)
	kinds := map[string]int{}
	for _, l := range lines {
		kinds[l.message()]++
	}
	t.Logf("%d log lines: %v", len(lines), kinds)
	return lines
}

func pathFor(submit bool) string {
	if submit {
		return bench.SubmitPath
	}
	return bench.StartPath
}

// TestOperatingDocsQuoteTheQueries: docs/operating.md shows each dashboard
// and alert query exactly as the workbook and the template use it, and the
// README has the Operating section.
func TestOperatingDocsQuoteTheQueries(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "operating.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```kusto\n(.*?)```").FindAllSubmatch(doc, -1)
	quoted := map[string]bool{}
	for _, b := range blocks {
		quoted[string(b[1])] = true
	}
	for name, q := range allQueries(t) {
		if !quoted[q] {
			t.Errorf("docs/operating.md does not quote infra/queries/%s as it is (in a ```kusto block)", name)
		}
	}
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := regexp.MustCompile(`(?s)\n## Operating\n(.*?)(\n## |\z)`).FindSubmatch(readme)
	if section == nil {
		t.Fatal("README.md has no \"## Operating\" section")
	}
	for _, want := range []string{"unavailable", "401", "p95", "restart", "docs/operating.md"} {
		if !bytes.Contains(bytes.ToLower(section[1]), []byte(strings.ToLower(want))) {
			t.Errorf("README's Operating section does not mention %q", want)
		}
	}
}

// TestAlertQueriesMatchRules: each alert rule's measure column is what its
// query computes, and its threshold unit matches.
func TestAlertQueriesMatchRules(t *testing.T) {
	raw := readMainJSON(t)
	res := evaluate(t, raw, deployments()[0])
	rules := 0
	for _, r := range res.Resources {
		if !strings.EqualFold(r.Type, "Microsoft.Insights/scheduledQueryRules") {
			continue
		}
		rules++
		props := r.Body["properties"].(map[string]any)
		cond := props["criteria"].(map[string]any)["allOf"].([]any)[0].(map[string]any)
		q, _ := cond["query"].(string)
		col, _ := cond["metricMeasureColumn"].(string)
		if !regexp.MustCompile(`summarize ` + regexp.QuoteMeta(col) + ` =`).MatchString(q) {
			t.Errorf("%s: the rule measures %q, which its query does not compute as the last summarize", r.Name, col)
		}
		last := q[strings.LastIndex(q, "| summarize"):]
		if strings.Contains(last, " by ") {
			t.Errorf("%s: the query ends in a summarize by: the rule would aggregate rows it does not declare as dimensions", r.Name)
		}
		if scopes, _ := props["scopes"].([]any); len(scopes) != 1 || !strings.Contains(fmt.Sprint(scopes[0]), "Microsoft.Insights/components") {
			t.Errorf("%s: scopes %v, want the Application Insights resource", r.Name, scopes)
		}
		groups, _ := props["actions"].(map[string]any)["actionGroups"].([]any)
		if len(groups) != 1 || !strings.Contains(fmt.Sprint(groups[0]), "Microsoft.Insights/actionGroups") {
			t.Errorf("%s: action groups %v, want the template's", r.Name, groups)
		}
	}
	if rules != len(alertQueries) {
		t.Errorf("%d alert rules, want %d", rules, len(alertQueries))
	}
	// The latency alert fires at half of Entra's timeout.
	for _, ms := range []int64{200, 1000, 2000} {
		d := deployments()[0]
		p := map[string]any{}
		for k, v := range d.params {
			p[k] = v
		}
		p["entraTimeoutMs"] = ms
		res := evaluate(t, raw, deployment{"timeout", p})
		for _, r := range res.Resources {
			if strings.HasSuffix(r.Name, "-latency") {
				cond := r.Body["properties"].(map[string]any)["criteria"].(map[string]any)["allOf"].([]any)[0].(map[string]any)
				if cond["threshold"] != ms/2 {
					t.Errorf("entraTimeoutMs %d: latency threshold %v, want %d", ms, cond["threshold"], ms/2)
				}
			}
		}
	}
}
