package deploytest

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/invitegate/invitegate/internal/deploytest/armeval"
)

// infra/main.json is written by hand from infra/main.bicep (no Bicep CLI was
// available), so these tests check what a compiler would have: that it is a
// well-formed ARM template whose expressions parse and refer to declared names,
// and that it declares what main.bicep declares. They also pin the settings the
// deployment promises (TLS, no public blobs, least-privilege roles, ...).

type armTemplate struct {
	Schema         string                  `json:"$schema"`
	ContentVersion string                  `json:"contentVersion"`
	Metadata       map[string]any          `json:"metadata"`
	Parameters     map[string]armParameter `json:"parameters"`
	Variables      map[string]any          `json:"variables"`
	Resources      []map[string]any        `json:"resources"`
	Outputs        map[string]armOutput    `json:"outputs"`
}

type armParameter struct {
	Type          string         `json:"type"`
	DefaultValue  any            `json:"defaultValue"`
	AllowedValues []any          `json:"allowedValues"`
	MinLength     *int           `json:"minLength"`
	MaxLength     *int           `json:"maxLength"`
	MinValue      *int           `json:"minValue"`
	MaxValue      *int           `json:"maxValue"`
	Metadata      map[string]any `json:"metadata"`
}

type armOutput struct {
	Type     string         `json:"type"`
	Value    any            `json:"value"`
	Metadata map[string]any `json:"metadata"`
}

// loadTemplate decodes infra/main.json strictly (no property ARM does not
// know at the top or in parameters and outputs) and reads infra/main.bicep.
func loadTemplate(t *testing.T) (armTemplate, string) {
	t.Helper()
	root := repoRoot(t)
	raw, err := os.ReadFile(filepath.Join(root, "infra", "main.json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	var tmpl armTemplate
	if err := dec.Decode(&tmpl); err != nil {
		t.Fatalf("infra/main.json: %v", err)
	}
	bicep, err := os.ReadFile(filepath.Join(root, "infra", "main.bicep"))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl, string(bicep)
}

func TestARMTemplateIsWellFormed(t *testing.T) {
	tmpl, _ := loadTemplate(t)
	if tmpl.Schema != "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#" {
		t.Errorf("$schema = %q, want the 2019-04-01 resource-group deployment schema", tmpl.Schema)
	}
	if tmpl.ContentVersion == "" {
		t.Error("contentVersion is missing")
	}
	for name, p := range tmpl.Parameters {
		if !slices.Contains([]string{"string", "int", "bool", "object", "array", "securestring"}, p.Type) {
			t.Errorf("parameter %s: type %q", name, p.Type)
		}
		if d, _ := p.Metadata["description"].(string); d == "" {
			t.Errorf("parameter %s has no description", name)
		}
	}
	apiVersion := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(-preview)?$`)
	for i, r := range tmpl.Resources {
		typ, _ := r["type"].(string)
		if strings.Count(typ, "/") < 1 {
			t.Errorf("resource %d: type %q is not Namespace/type", i, typ)
		}
		if v, _ := r["apiVersion"].(string); !apiVersion.MatchString(v) {
			t.Errorf("resource %d (%s): apiVersion %q", i, typ, v)
		}
		if n, _ := r["name"].(string); n == "" {
			t.Errorf("resource %d (%s): no name", i, typ)
		}
	}

	// Every expression parses, calls known functions, and names declared
	// parameters and variables; every parameter and variable is used.
	used := map[string]map[string]bool{"parameters": {}, "variables": {}}
	declared := map[string]map[string]bool{"parameters": {}, "variables": {}}
	for name := range tmpl.Parameters {
		declared["parameters"][name] = true
	}
	for name := range tmpl.Variables {
		declared["variables"][name] = true
	}
	var raw map[string]any
	js, err := os.ReadFile(filepath.Join(repoRoot(t), "infra", "main.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &raw); err != nil {
		t.Fatal(err)
	}
	expressions := 0
	walkStrings(raw, "", func(where, s string) {
		if !strings.HasPrefix(s, "[") || strings.HasPrefix(s, "[[") || !strings.HasSuffix(s, "]") {
			return
		}
		expressions++
		calls, err := armeval.Calls(s)
		if err != nil {
			t.Errorf("%s: %v\n  %s", where, err, s)
			return
		}
		for _, c := range calls {
			if !armFunctions[c.Name] {
				t.Errorf("%s: unknown function %s()", where, c.Name)
			}
			if c.Name == "parameters" || c.Name == "variables" {
				if len(c.Args) != 1 || !c.Args[0].Literal {
					t.Errorf("%s: %s() needs one string literal", where, c.Name)
					continue
				}
				ref := c.Args[0].Value
				if !declared[c.Name][ref] {
					t.Errorf("%s: %s('%s') is not declared", where, c.Name, ref)
				}
				used[c.Name][ref] = true
			}
			if c.Name == "format" && len(c.Args) > 0 && c.Args[0].Literal {
				for _, m := range regexp.MustCompile(`\{(\d+)\}`).FindAllStringSubmatch(c.Args[0].Value, -1) {
					if i, _ := strconv.Atoi(m[1]); i >= len(c.Args)-1 {
						t.Errorf("%s: format('%s') uses {%d} with only %d arguments", where, c.Args[0].Value, i, len(c.Args)-1)
					}
				}
			}
		}
	})
	if expressions < 50 {
		t.Errorf("only %d expressions found: is the walk broken?", expressions)
	}
	for kind, names := range declared {
		for name := range names {
			if !used[kind][name] {
				t.Errorf("%s %q is declared but never used", kind, name)
			}
		}
	}
}

// TestARMTemplateSettings pins what the deployment promises.
func TestARMTemplateSettings(t *testing.T) {
	tmpl, _ := loadTemplate(t)
	byType := map[string][]map[string]any{}
	for _, r := range tmpl.Resources {
		typ, _ := r["type"].(string)
		byType[strings.ToLower(typ)] = append(byType[strings.ToLower(typ)], r)
	}
	prop := func(r map[string]any, path ...string) any {
		var v any = r
		for _, p := range path {
			m, _ := v.(map[string]any)
			v = m[p]
		}
		return v
	}

	accounts := byType["microsoft.storage/storageaccounts"]
	if len(accounts) != 2 {
		t.Fatalf("%d storage accounts, want 2 (invitations, host)", len(accounts))
	}
	for _, a := range accounts {
		for key, want := range map[string]any{"minimumTlsVersion": "TLS1_2", "supportsHttpsTrafficOnly": true, "allowBlobPublicAccess": false} {
			if got := prop(a, "properties", key); got != want {
				t.Errorf("storage %v: %s = %v, want %v", a["name"], key, got, want)
			}
		}
	}
	invitations := findResource(t, accounts, "invitationsStorageName")
	if got := prop(invitations, "properties", "allowSharedKeyAccess"); got != false {
		t.Errorf("invitations storage: allowSharedKeyAccess = %v, want false (Entra ID only)", got)
	}
	tables := byType["microsoft.storage/storageaccounts/tableservices/tables"]
	if len(tables) != 1 || !strings.Contains(tables[0]["name"].(string), "parameters('invitationsTable')") {
		t.Errorf("want one table named by parameters('invitationsTable'), got %v", tables)
	}

	sites := byType["microsoft.web/sites"]
	if len(sites) != 1 {
		t.Fatalf("%d sites, want 1", len(sites))
	}
	site := sites[0]
	for path, want := range map[string]any{
		"kind":                                "functionapp,linux",
		"identity.type":                       "SystemAssigned",
		"properties.httpsOnly":                true,
		"properties.siteConfig.minTlsVersion": "1.2",
		"properties.siteConfig.ftpsState":     "Disabled",
	} {
		if got := prop(site, strings.Split(path, ".")...); got != want {
			t.Errorf("site %s = %v, want %v", path, got, want)
		}
	}
	settings, _ := prop(site, "properties", "siteConfig", "appSettings").(string)
	handlerSettings, _ := json.Marshal(tmpl.Variables["handlerAppSettings"])
	all := settings + string(handlerSettings)
	for _, name := range []string{
		"APPLICATIONINSIGHTS_CONNECTION_STRING", "AzureWebJobsStorage__accountName",
		"INVITATIONS_TABLE", "INVITATIONS_TABLE_SERVICE_URL",
		"ENTRA_AUTH", "ENTRA_TENANT_ID", "ENTRA_AUDIENCE",
	} {
		if !strings.Contains(all, `'`+name+`'`) && !strings.Contains(all, `"`+name+`"`) {
			t.Errorf("app setting %s is not set", name)
		}
	}
	for _, secret := range []string{"INVITATIONS_CONNECTION", "AccountKey"} {
		if strings.Contains(string(handlerSettings), secret) {
			t.Errorf("the handler's settings contain %s: it must reach the table with its managed identity", secret)
		}
	}

	flex, _ := json.Marshal(tmpl.Variables["flexFunctionAppConfig"])
	for _, want := range []string{`'name', 'http'`, `"name":"custom"`, `"type":"SystemAssignedIdentity"`} {
		if !strings.Contains(string(flex), want) {
			t.Errorf("flexFunctionAppConfig lacks %s: %s", want, flex)
		}
	}
	plans := byType["microsoft.web/serverfarms"]
	if len(plans) != 1 || !strings.Contains(plans[0]["sku"].(string), "'FC1', 'tier', 'FlexConsumption'") ||
		!strings.Contains(plans[0]["sku"].(string), "'EP1', 'tier', 'ElasticPremium'") {
		t.Errorf("the plan must be FC1 (flex) or EP1 (premium): %v", plans)
	}

	// The app's identity gets exactly three roles, each on one resource:
	// table data on the invitations table (not the account), blob data on
	// the host account, and telemetry publishing on Application Insights.
	roles := byType["microsoft.authorization/roleassignments"]
	grants := map[string]string{}
	for _, r := range roles {
		def, _ := prop(r, "properties", "roleDefinitionId").(string)
		scope, _ := r["scope"].(string)
		grants[def] = scope
		if p, _ := prop(r, "properties", "principalId").(string); !strings.Contains(p, ".identity.principalId") {
			t.Errorf("role %s is not granted to the site's identity: %s", def, p)
		}
	}
	role := func(v string) string {
		return "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', variables('" + v + "'))]"
	}
	want := map[string]string{
		role("storageTableDataContributor"): "[format('Microsoft.Storage/storageAccounts/{0}/tableServices/{1}/tables/{2}', variables('invitationsStorageName'), 'default', parameters('invitationsTable'))]",
		role("storageBlobDataOwner"):        "[format('Microsoft.Storage/storageAccounts/{0}', variables('hostStorageName'))]",
		role("monitoringMetricsPublisher"):  "[format('Microsoft.Insights/components/{0}', variables('appInsightsName'))]",
	}
	if len(grants) != len(want) || len(roles) != len(want) {
		t.Errorf("role assignments = %v, want exactly %v", grants, want)
	}
	for def, scope := range want {
		if grants[def] != scope {
			t.Errorf("%s is scoped to %q, want %q", def, grants[def], scope)
		}
	}
	for v, id := range map[string]string{
		"storageTableDataContributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
		"storageBlobDataOwner":        "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
		"monitoringMetricsPublisher":  "3913510d-42f4-4e42-8a64-420c390055eb",
	} {
		if tmpl.Variables[v] != id {
			t.Errorf("variable %s = %v, want the built-in role %s", v, tmpl.Variables[v], id)
		}
	}

	for name, suffix := range map[string]string{"attributeStartUrl": "/api/attributeStart'", "attributeSubmitUrl": "/api/attributeSubmit'"} {
		v, _ := tmpl.Outputs[name].Value.(string)
		if !strings.Contains(v, "'https://{0}"+suffix) || !strings.Contains(v, ".defaultHostName") {
			t.Errorf("output %s = %s, want https://<defaultHostName>%s", name, v, strings.TrimSuffix(suffix, "'"))
		}
	}
}

func findResource(t *testing.T, rs []map[string]any, nameVar string) map[string]any {
	t.Helper()
	for _, r := range rs {
		if r["name"] == "[variables('"+nameVar+"')]" {
			return r
		}
	}
	t.Fatalf("no resource named variables('%s')", nameVar)
	return nil
}

// walkStrings calls fn for every string in a decoded JSON value, with its path.
func walkStrings(v any, where string, fn func(where, s string)) {
	switch v := v.(type) {
	case string:
		fn(where, v)
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			walkStrings(v[k], where+"."+k, fn)
		}
	case []any:
		for i, e := range v {
			walkStrings(e, fmt.Sprintf("%s[%d]", where, i), fn)
		}
	}
}

// armFunctions are the template functions main.json may call.
var armFunctions = map[string]bool{
	"concat": true, "createArray": true, "createObject": true, "empty": true, "environment": true,
	"equals": true, "format": true, "greater": true, "guid": true, "if": true, "listKeys": true,
	"not": true, "null": true, "parameters": true, "reference": true, "resourceGroup": true,
	"resourceId": true, "subscription": true, "subscriptionResourceId": true, "toLower": true,
	"uniqueString": true, "variables": true, "union": true, "and": true, "or": true, "length": true,
	"take": true, "replace": true, "string": true, "int": true, "bool": true, "contains": true,
	"div": true, "true": true, "false": true,
}
