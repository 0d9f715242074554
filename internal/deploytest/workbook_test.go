package deploytest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The operator's queries live once, in infra/queries/*.kql. The workbook
// (infra/workbook.json, which main.bicep loads and main.json embeds) is
// generated from them, and docs/operating.md quotes them.

// dashboard is one chart or table of the workbook.
type dashboard struct {
	file, title, visualization string
}

// dashboards are the workbook's items, in order.
var dashboards = []dashboard{
	{"decisions.kql", "Answers per result (continue, prefill, modify, block:<reason>, unavailable)", "timechart"},
	{"unavailable-rate.kql", "Unavailable answers (% of sign-up answers)", "timechart"},
	{"latency.kql", "Decision time in the handler (ms): p50, p95, p99", "timechart"},
	{"unauthorized-by-check.kql", "Requests refused with 401, per failed check", "timechart"},
	{"handler-restarts.kql", "Handler starts per instance (more than one: restarts)", "table"},
	{"blocked-domains.kql", "Top blocked domains (masked addresses only)", "table"},
}

// alertQueries are the queries of the four alert rules.
var alertQueries = []string{"alert-unavailable.kql", "alert-unauthorized.kql", "alert-latency.kql", "alert-restarts.kql"}

var renderLine = regexp.MustCompile(`(?m)^\| render \w+\n?`)

func readQuery(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "infra", "queries", file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// workbookJSON builds infra/workbook.json from the queries.
func workbookJSON(t *testing.T) []byte {
	t.Helper()
	type item struct {
		Type    int            `json:"type"`
		Content map[string]any `json:"content"`
		Name    string         `json:"name"`
	}
	items := []item{
		{Type: 1, Name: "intro", Content: map[string]any{"json": "## invitegate: sign-up decisions\n" +
			"Read from the handler's log lines (Application Insights `traces`, category `Host.Function.Console`). " +
			"What each chart means and what to do: docs/operating.md in the invitegate repository."}},
		{Type: 9, Name: "parameters", Content: map[string]any{
			"version": "KqlParameterItem/1.0",
			"parameters": []map[string]any{{
				"id":         "d0b0c6a1-6f43-4a8e-9a55-3f2b2e7c1a01",
				"version":    "KqlParameterItem/1.0",
				"name":       "TimeRange",
				"label":      "Time range",
				"type":       4,
				"isRequired": true,
				"value":      map[string]any{"durationMs": 86400000},
				"typeSettings": map[string]any{
					"selectableValues": []map[string]any{
						{"durationMs": 3600000}, {"durationMs": 14400000}, {"durationMs": 86400000},
						{"durationMs": 604800000}, {"durationMs": 2592000000},
					},
					"allowCustom": true,
				},
			}},
			"style":        "pills",
			"queryType":    0,
			"resourceType": "microsoft.insights/components",
		}},
	}
	for _, d := range dashboards {
		items = append(items, item{Type: 3, Name: strings.TrimSuffix(d.file, ".kql"), Content: map[string]any{
			"version":                  "KqlItem/1.0",
			"query":                    renderLine.ReplaceAllString(readQuery(t, d.file), ""),
			"size":                     0,
			"title":                    d.title,
			"timeContextFromParameter": "TimeRange",
			"queryType":                0,
			"resourceType":             "microsoft.insights/components",
			"visualization":            d.visualization,
		}})
	}
	wb := map[string]any{
		"version": "Notebook/1.0",
		"items":   items,
		"$schema": "https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json",
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(wb); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestWorkbookIsGenerated checks that infra/workbook.json is what the
// queries make; -update writes it.
func TestWorkbookIsGenerated(t *testing.T) {
	want := workbookJSON(t)
	path := filepath.Join(repoRoot(t), "infra", "workbook.json")
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("infra/workbook.json is not generated from infra/queries (run: go test ./internal/deploytest -run 'TestWorkbookIsGenerated|TestEmbeddedFiles' -update)")
	}
	var wb struct {
		Version string `json:"version"`
		Items   []struct {
			Type    int            `json:"type"`
			Name    string         `json:"name"`
			Content map[string]any `json:"content"`
		} `json:"items"`
	}
	if err := json.Unmarshal(got, &wb); err != nil {
		t.Fatal(err)
	}
	if wb.Version != "Notebook/1.0" {
		t.Errorf("workbook version %q", wb.Version)
	}
	names := map[string]bool{}
	queries := 0
	for _, it := range wb.Items {
		if names[it.Name] {
			t.Errorf("workbook item name %q twice", it.Name)
		}
		names[it.Name] = true
		if it.Type == 3 {
			queries++
			if it.Content["timeContextFromParameter"] != "TimeRange" || it.Content["query"] == "" {
				t.Errorf("workbook item %s: no query or no time range", it.Name)
			}
		}
	}
	if queries != len(dashboards) {
		t.Errorf("%d query items, want %d", queries, len(dashboards))
	}
}
