package deploytest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/invitegate/invitegate/internal/deploytest/armeval"
	"github.com/invitegate/invitegate/internal/deploytest/armschema"
)

// infra/main.json is evaluated for every plan and option, and each resource
// it would send is checked against the resource schemas Azure publishes for
// those exact API versions (bicep-types-az, trimmed into testdata/spec by
// ./specgen with their provenance). The schemas are read from testdata, so
// these tests never skip.

var deployCtx = armeval.Context{
	SubscriptionID: "33333333-3333-3333-3333-333333333333",
	TenantID:       "44444444-4444-4444-4444-444444444444",
	ResourceGroup:  "rg-invitegate",
	Location:       "westeurope",
}

// schemaAllowed lists the open-enum values the template uses that the
// schemas do not list, with why each is right. Empty today; the mutation
// test proves the mechanism.
var schemaAllowed []armschema.Allowed

func loadSchema(t *testing.T) *armschema.Schema {
	t.Helper()
	s, files, err := armschema.LoadSchema(filepath.Join("testdata", "spec"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Provenance.Repository != "Azure/bicep-types-az" || len(f.Provenance.Commit) != 40 || len(f.Provenance.SHA256) != 64 {
			t.Errorf("%s: provenance %+v", f.Provenance.Path, f.Provenance)
		}
	}
	return s
}

func readMainJSON(t *testing.T) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "infra", "main.json"))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// deployment is one set of parameters to evaluate the template with.
type deployment struct {
	name   string
	params map[string]any
}

// deployments are the plans and options the template offers: both plans,
// with and without always-ready instances, issuer and alert email, every
// allowed memory size, each bounded parameter at its bounds, name
// prefixes and table names at the edges of their patterns, and the
// handler's settings (log hash key, email issuers, sign-up window) on both
// plans.
func deployments() []deployment {
	base := func() map[string]any {
		return map[string]any{
			"namePrefix":    "invgate",
			"entraTenantId": "11111111-1111-1111-1111-111111111111",
			"entraAudience": "22222222-2222-2222-2222-222222222222",
		}
	}
	with := func(kv ...any) map[string]any {
		p := base()
		for i := 0; i < len(kv); i += 2 {
			p[kv[i].(string)] = kv[i+1]
		}
		return p
	}
	var out []deployment
	for _, plan := range []string{"flex", "premium"} {
		for _, ready := range []int64{0, 1} {
			for _, authority := range []string{"", "https://login.contoso.example/11111111-1111-1111-1111-111111111111/v2.0"} {
				for _, email := range []string{"", "ops@example.org"} {
					out = append(out, deployment{
						fmt.Sprintf("%s ready=%d authority=%v email=%v", plan, ready, authority != "", email != ""),
						with("plan", plan, "alwaysReadyInstances", ready, "entraAuthority", authority, "alertEmail", email),
					})
				}
			}
		}
	}
	for _, mem := range []int64{512, 2048, 4096} {
		out = append(out, deployment{fmt.Sprintf("flex memory %d", mem), with("instanceMemoryMB", mem)})
	}
	for _, n := range []int64{40, 1000} {
		out = append(out, deployment{fmt.Sprintf("flex max instances %d", n), with("maximumInstanceCount", n, "alwaysReadyInstances", int64(20))})
	}
	for _, n := range []int64{1, 100} {
		out = append(out, deployment{fmt.Sprintf("premium max workers %d", n), with("plan", "premium", "maximumElasticWorkerCount", n)})
	}
	for _, ms := range []int64{200, 2000} {
		out = append(out, deployment{fmt.Sprintf("timeout %d ms", ms), with("entraTimeoutMs", ms)})
	}
	for _, prefix := range prefixEdges {
		out = append(out, deployment{"prefix " + prefix, with("namePrefix", prefix)})
		out = append(out, deployment{"premium prefix " + prefix, with("namePrefix", prefix, "plan", "premium")})
	}
	for _, table := range []string{"abc", "A" + strings.Repeat("b1", 31), "Invitations2"} {
		out = append(out, deployment{"table " + table, with("invitationsTable", table)})
	}
	// The handler's settings: with and without a log hash key (a key, or a
	// Key Vault reference), every kind of issuer list, the window's bounds.
	for _, plan := range []string{"flex", "premium"} {
		for _, key := range []string{"", strings.Repeat("0f", 32), "@Microsoft.KeyVault(SecretUri=https://kv-invgate.vault.azure.net/secrets/log-hash-key/)"} {
			out = append(out, deployment{fmt.Sprintf("%s logHashKey=%v", plan, len(key)), with("plan", plan, "logHashKey", key)})
		}
		for _, issuers := range []string{"none", "google.com,facebook.com", "https://login.partner.example/tenant/v2.0"} {
			out = append(out, deployment{plan + " emailIssuers " + issuers, with("plan", plan, "emailIssuers", issuers)})
		}
		for _, window := range []string{"1m", "24h", "1h30m"} {
			out = append(out, deployment{plan + " signupWindow " + window, with("plan", plan, "signupWindow", window)})
		}
	}
	return out
}

// prefixEdges are name prefixes at the edges of the namePrefix pattern.
var prefixEdges = []string{"abc", "a-b", "0-9", "a--b", strings.Repeat("z", 40), "a" + strings.Repeat("-", 38) + "z", "123"}

func evaluate(t *testing.T, raw []byte, d deployment) *armeval.Result {
	t.Helper()
	res, err := armeval.Evaluate(raw, deployCtx, d.params)
	if err != nil {
		t.Fatalf("%s: %v", d.name, err)
	}
	return res
}

// checkAgainstSchemas evaluates a template for every deployment and checks
// each resource it would deploy; it returns the violations and how many
// resource bodies it checked.
func checkAgainstSchemas(t *testing.T, raw []byte, schema *armschema.Schema, allowed []armschema.Allowed, ds []deployment) ([]string, int) {
	t.Helper()
	var out []string
	checked := 0
	for _, d := range ds {
		res, err := armeval.Evaluate(raw, deployCtx, d.params)
		if err != nil {
			out = append(out, d.name+": "+err.Error())
			continue
		}
		for _, r := range res.Resources {
			if !r.Deployed {
				continue
			}
			checked++
			for _, v := range schema.Check(r.Type+"@"+r.APIVersion, r.Body, allowed) {
				out = append(out, d.name+": "+v.String())
			}
		}
	}
	return out, checked
}

func TestARMTemplateAgainstSchemas(t *testing.T) {
	schema := loadSchema(t)
	raw := readMainJSON(t)
	ds := deployments()
	violations, checked := checkAgainstSchemas(t, raw, schema, schemaAllowed, ds)
	for _, v := range violations {
		t.Error(v)
	}
	// Every resource type of the template has a schema, and every body was checked.
	res := evaluate(t, raw, ds[0])
	for _, r := range res.Resources {
		if !schema.Has(r.Type + "@" + r.APIVersion) {
			t.Errorf("no schema for %s@%s in testdata/spec: add its file to specgen and run it", r.Type, r.APIVersion)
		}
	}
	if want := len(ds) * (len(res.Resources) - 1); checked < want {
		t.Errorf("checked %d resource bodies, want at least %d", checked, want)
	}
	t.Logf("%d deployments, %d resource bodies checked against %d schema files", len(ds), checked, len(mustGlob(t, "testdata/spec/*.types.json")))
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestARMTemplateDependencies: what a resource reads at deployment time
// (reference, listKeys) and every dependsOn entry name a resource of the
// template, and a resource depends on what it reads.
func TestARMTemplateDependencies(t *testing.T) {
	raw := readMainJSON(t)
	for _, d := range deployments()[:16] {
		res := evaluate(t, raw, d)
		ids := map[string]bool{}
		for _, r := range res.Resources {
			ids[strings.ToLower(r.ID(deployCtx))] = true
		}
		for _, r := range res.Resources {
			deps := map[string]bool{}
			for _, dep := range r.DependsOn {
				if !ids[strings.ToLower(dep)] {
					t.Errorf("%s: %s %s depends on %s, which the template does not declare", d.name, r.Type, r.Name, dep)
				}
				deps[strings.ToLower(dep)] = true
			}
			for _, read := range r.Reads {
				if !ids[strings.ToLower(read)] {
					t.Errorf("%s: %s %s reads %s, which the template does not declare", d.name, r.Type, r.Name, read)
				} else if !deps[strings.ToLower(read)] {
					t.Errorf("%s: %s %s reads %s at deployment time but does not depend on it", d.name, r.Type, r.Name, read)
				}
			}
		}
	}
}

// TestARMSchemaChecksCanFail applies one mistake at a time to main.json and
// requires the schema check to report it. Each edit must apply exactly once.
func TestARMSchemaChecksCanFail(t *testing.T) {
	schema := loadSchema(t)
	raw := string(readMainJSON(t))
	flexOnly := []deployment{deployments()[0]}
	premiumOnly := []deployment{}
	for _, d := range deployments() {
		if d.params["plan"] == "premium" {
			premiumOnly = append(premiumOnly, d)
			break
		}
	}
	tests := []struct {
		name     string
		old, new string
		params   map[string]any // extra parameters, when the mistake is in a value
		want     string
	}{
		{name: "misspelt property", old: `"httpsOnly": true`, new: `"httpsOnyl": true`,
			want: "properties.httpsOnyl: unknown property of SiteProperties"},
		{name: "read-only property written", old: `"httpsOnly": true`, new: `"httpsOnly": true, "defaultHostName": "x.azurewebsites.net"`,
			want: "properties.defaultHostName: read-only property"},
		{name: "missing required property", old: `"Application_Type": "web",`, new: ``,
			want: "properties.Application_Type: required property"},
		{name: "closed enum", old: `"type": "SystemAssigned"
      },`, new: `"type": "SystemAssignedIdentity"
      },`, want: `identity.type: string "SystemAssignedIdentity", want one of`},
		{name: "open enum value not known", old: `"minimumTlsVersion": "TLS1_2",
        "supportsHttpsTrafficOnly": true,
        "allowBlobPublicAccess": false,
        "allowSharedKeyAccess": false,`, new: `"minimumTlsVersion": "TLS1_4",
        "supportsHttpsTrafficOnly": true,
        "allowBlobPublicAccess": false,
        "allowSharedKeyAccess": false,`, want: `properties.minimumTlsVersion: "TLS1_4" is not one of the known values`},
		{name: "literal", old: `'{0}/{1}', variables('functionAppName'), 'scm')`, new: `'{0}/{1}', variables('functionAppName'), 'scn')`,
			want: `name: "scn" is not one of ftp, scm`},
		{name: "wrong type", old: `"allowBlobPublicAccess": false,
        "allowSharedKeyAccess": false,`, new: `"allowBlobPublicAccess": "false",
        "allowSharedKeyAccess": false,`, want: `properties.allowBlobPublicAccess: string "false", want a bool`},
		{name: "string too long", old: `"groupShortName": "invitegate"`, new: `"groupShortName": "invitegate-operators"`,
			want: "properties.groupShortName: \"invitegate-operators\" has 20 characters, more than 12"},
		{name: "name against its pattern", old: `"invitationsStorageName": "[format('stinv{0}', variables('token'))]"`,
			new: `"invitationsStorageName": "[format('stInv_{0}', variables('token'))]"`, want: "does not match ^[a-z0-9]+$"},
		{name: "table name against its pattern", params: map[string]any{"invitationsTable": "in-vitations"},
			want: `name: "in-vitations" does not match ^[A-Za-z][A-Za-z0-9]{2,62}$`},
		{name: "required discriminated property", old: `"properties": {
        "allow": false
      },
      "dependsOn": [
        "[resourceId('Microsoft.Web/sites', variables('functionAppName'))]"
      ]
    },
    {
      "type": "Microsoft.Web/sites/basicPublishingCredentialsPolicies",`, new: `"properties": {},
      "dependsOn": [
        "[resourceId('Microsoft.Web/sites', variables('functionAppName'))]"
      ]
    },
    {
      "type": "Microsoft.Web/sites/basicPublishingCredentialsPolicies",`, want: "properties.allow: required property"},
		{name: "integer out of range", old: `"ftpsState": "Disabled",`, new: `"ftpsState": "Disabled", "minimumElasticInstanceCount": 25,`,
			want: "properties.siteConfig.minimumElasticInstanceCount: 25 is above the maximum 20"},
		{name: "misspelt nested path", old: `"scaleAndConcurrency": {`, new: `"scaleAndConcurency": {`,
			want: "properties.functionAppConfig.scaleAndConcurency: unknown property of FunctionAppConfig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := raw
			if tt.old != "" {
				if n := strings.Count(src, tt.old); n != 1 {
					t.Fatalf("the edit applies %d times to main.json, want once: update the mutation", n)
				}
				src = strings.Replace(src, tt.old, tt.new, 1)
			}
			ds := flexOnly
			if tt.params != nil {
				d := deployment{name: "mutated", params: map[string]any{}}
				for k, v := range flexOnly[0].params {
					d.params[k] = v
				}
				for k, v := range tt.params {
					d.params[k] = v
				}
				ds = []deployment{d}
			}
			violations, _ := checkAgainstSchemas(t, []byte(src), schema, schemaAllowed, append(ds, premiumOnly...))
			for _, v := range violations {
				if strings.Contains(v, tt.want) {
					t.Logf("caught: %s", v)
					return
				}
			}
			t.Errorf("the schema check missed it; want a violation containing %q, got:\n%s", tt.want, strings.Join(violations, "\n"))
		})
	}

	// An allow-listed open-enum value passes, and only that value.
	src := strings.Replace(raw, `"minimumTlsVersion": "TLS1_2",
        "supportsHttpsTrafficOnly": true,
        "allowBlobPublicAccess": false,
        "allowSharedKeyAccess": false,`, `"minimumTlsVersion": "TLS1_4",
        "supportsHttpsTrafficOnly": true,
        "allowBlobPublicAccess": false,
        "allowSharedKeyAccess": false,`, 1)
	allow := []armschema.Allowed{{Resource: "Microsoft.Storage/storageAccounts@2023-05-01", Path: "properties.minimumTlsVersion", Value: "TLS1_4", Reason: "test"}}
	if v, _ := checkAgainstSchemas(t, []byte(src), schema, allow, flexOnly); len(v) != 0 {
		t.Errorf("an allow-listed open-enum value was refused: %v", v)
	}
}

// TestARMTemplateLeastPrivilege pins, on the evaluated template, what the
// deployment promises about identities, keys and publishing.
func TestARMTemplateLeastPrivilege(t *testing.T) {
	raw := readMainJSON(t)
	for _, d := range []deployment{deployments()[0], deployments()[8]} { // flex, premium
		res := evaluate(t, raw, d)
		byType := map[string][]armeval.Resource{}
		for _, r := range res.Resources {
			if r.Deployed {
				byType[strings.ToLower(r.Type)] = append(byType[strings.ToLower(r.Type)], r)
			}
		}
		get := func(r armeval.Resource, path string) any {
			var v any = r.Body
			for _, k := range strings.Split(path, ".") {
				m, _ := v.(map[string]any)
				v = m[k]
			}
			return v
		}
		plan := d.params["plan"]
		if plan == nil {
			plan = "flex"
		}
		t.Run(fmt.Sprint(plan), func(t *testing.T) {
			appi := byType["microsoft.insights/components"][0]
			if get(appi, "properties.DisableLocalAuth") != true {
				t.Error("Application Insights accepts its key: DisableLocalAuth must be true")
			}
			site := byType["microsoft.web/sites"][0]
			settings := map[string]any{}
			for _, s := range get(site, "properties.siteConfig.appSettings").([]any) {
				m := s.(map[string]any)
				settings[m["name"].(string)] = m["value"]
			}
			if settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] != "Authorization=AAD" {
				t.Errorf("APPLICATIONINSIGHTS_AUTHENTICATION_STRING = %v, want Authorization=AAD (system-assigned identity)", settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"])
			}
			if _, ok := settings["WEBSITE_CONTENTSHARE"]; ok {
				t.Error("WEBSITE_CONTENTSHARE is set: the Functions app settings reference recommends leaving it to the platform in templates")
			}
			policies := map[string]any{}
			for _, p := range byType["microsoft.web/sites/basicpublishingcredentialspolicies"] {
				policies[p.Body["name"].(string)] = get(p, "properties.allow")
			}
			if policies["scm"] != false || policies["ftp"] != false || len(policies) != 2 {
				t.Errorf("basic publishing credentials = %v, want scm and ftp both disallowed", policies)
			}
			farm := byType["microsoft.web/serverfarms"][0]
			if plan == "premium" {
				if n, ok := get(farm, "properties.maximumElasticWorkerCount").(int64); !ok || n < 1 {
					t.Errorf("Premium plan: maximumElasticWorkerCount = %v, want it set", get(farm, "properties.maximumElasticWorkerCount"))
				}
			}
			var scopes []string
			for _, r := range byType["microsoft.authorization/roleassignments"] {
				scopes = append(scopes, r.Scope)
			}
			want := []string{
				"Microsoft.Insights/components/invgate-appi",
				"Microsoft.Storage/storageAccounts/" + res.Variables["hostStorageName"].(string),
				"Microsoft.Storage/storageAccounts/" + res.Variables["invitationsStorageName"].(string) + "/tableServices/default/tables/invitations",
			}
			slices.Sort(scopes)
			if !slices.Equal(scopes, want) {
				t.Errorf("role assignment scopes %q, want %q", scopes, want)
			}
		})
	}
}

// TestNamePrefixProducesValidNames: every prefix the namePrefix pattern
// accepts yields names every resource takes (the schema patterns checked in
// TestARMTemplateAgainstSchemas, plus the App Service rule below), and
// deploy.sh checks the same pattern.
func TestNamePrefixProducesValidNames(t *testing.T) {
	tmpl := readJSONTemplate(t)
	params := tmpl["parameters"].(map[string]any)
	meta := params["namePrefix"].(map[string]any)["metadata"].(map[string]any)
	pattern, _ := meta["pattern"].(string)
	re := regexp.MustCompile(pattern)
	for _, p := range prefixEdges {
		if !re.MatchString(p) {
			t.Errorf("edge case %q does not match the namePrefix pattern %s", p, pattern)
		}
	}
	for _, bad := range []string{"ab", "-ab", "ab-", "Abc", "a_b", strings.Repeat("a", 41)} {
		if re.MatchString(bad) {
			t.Errorf("the namePrefix pattern %s accepts %q", pattern, bad)
		}
	}
	// Microsoft.Web/sites names: 2-60 characters of letters, digits and
	// hyphens, not starting or ending with a hyphen (Azure resource naming
	// rules; the schema has no pattern for them).
	site := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,58}[A-Za-z0-9]$`)
	raw := readMainJSON(t)
	for _, p := range prefixEdges {
		res := evaluate(t, raw, deployment{"prefix " + p, map[string]any{"namePrefix": p, "entraTenantId": "x", "entraAudience": "y"}})
		for _, r := range res.Resources {
			if strings.EqualFold(r.Type, "Microsoft.Web/sites") || strings.EqualFold(r.Type, "Microsoft.Web/serverfarms") {
				if !site.MatchString(r.Name) {
					t.Errorf("prefix %q: %s name %q breaks the App Service naming rule", p, r.Type, r.Name)
				}
			}
		}
	}
	deploy, err := os.ReadFile(filepath.Join(repoRoot(t), "scripts", "deploy.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(deploy), "[[ $name =~ "+pattern+" ]]") {
		t.Errorf("scripts/deploy.sh does not check --name against the template's pattern %s", pattern)
	}
}
