package deploytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// collector is a reporter that keeps what it is told.
type collector struct{ errs []string }

func (c *collector) Helper() {}

func (c *collector) Errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

// TestParityChecksCanFail changes one of the two template files at a time,
// the way a fix made in one file only would, and requires the parity checks
// to notice. Each edit must apply exactly once, so that a mutation cannot go
// stale unnoticed.
func TestParityChecksCanFail(t *testing.T) {
	root := repoRoot(t)
	bicepSrc, err := os.ReadFile(filepath.Join(root, "infra", "main.bicep"))
	if err != nil {
		t.Fatal(err)
	}
	jsonSrc, err := os.ReadFile(filepath.Join(root, "infra", "main.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		file     string // "bicep" or "json"
		old, new string
		want     string // in one of the reported errors
	}{
		{"maxValue in main.json only", "json", `"minValue": 40,`, `"minValue": 1,`, "@minValue(40) in main.bicep, 1 in main.json"},
		{"minLength in main.bicep only", "bicep", "@minLength(3)\n@maxLength(63)", "@minLength(1)\n@maxLength(63)", "@minLength(1) in main.bicep, 3 in main.json"},
		{"allowed value", "json", "        512,\n", "        1024,\n", "allowed[0]"},
		{"name pattern dropped", "json", `"pattern": "^[A-Za-z][A-Za-z0-9]{2,62}$",`, ``, "param invitationsTable @metadata.pattern: in main.bicep, not in main.json"},
		{"default", "bicep", "param alwaysReadyInstances int = 1", "param alwaysReadyInstances int = 2", "param alwaysReadyInstances default: main.bicep 2"},
		{"description", "json", "Flex only: the most instances the app may scale out to. Flex Consumption takes 40 to 1000.", "Flex only: up to 1000.", "description differs"},
		{"storage literal", "json", `"minimumTlsVersion": "TLS1_2",
        "supportsHttpsTrafficOnly": true,
        "allowBlobPublicAccess": false,
        "allowSharedKeyAccess": false,`, `"minimumTlsVersion": "TLS1_1",
        "supportsHttpsTrafficOnly": true,
        "allowBlobPublicAccess": false,
        "allowSharedKeyAccess": false,`, `main.bicep "TLS1_2", main.json "TLS1_1"`},
		{"property only in main.json", "json", `"DisableLocalAuth": true`, `"DisableLocalAuth": true,
        "SamplingPercentage": 50`, "properties.SamplingPercentage: in main.json, not in main.bicep"},
		{"alert threshold", "bicep", "threshold: 10", "threshold: 20", "main.bicep 20, main.json"},
		{"expression names another parameter", "json", `"[if(variables('isFlex'), null(), parameters('maximumElasticWorkerCount'))]"`, `"[if(variables('isFlex'), null(), 20)]"`, "uses maximumElasticWorkerCount"},
		{"literal became an expression", "json", `"retentionInDays": 30`, `"retentionInDays": "[parameters('alwaysReadyInstances')]"`, "main.bicep has the literal 30, main.json the expression"},
		{"embedded query edited", "json", `Alert: requests refused with 401 in the window`, `Alert: 401s`, "alert-unauthorized.kql as it is"},
		{"secure dropped in main.bicep", "bicep", "@secure()\nparam logHashKey string", "param logHashKey string", "param logHashKey: main.json type securestring, main.bicep string"},
		{"secure dropped in main.json", "json", `"type": "securestring"`, `"type": "string"`, "param logHashKey: main.json type string, main.bicep securestring"},
		{"resource order", "bicep", "resource hostRole 'Microsoft.Authorization/roleAssignments@2022-04-01'", "resource hostRole 'Microsoft.Authorization/roleAssignments@2020-04-01-preview'", "keep them in the same order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, j := string(bicepSrc), string(jsonSrc)
			src := &j
			if tt.file == "bicep" {
				src = &b
			}
			if n := strings.Count(*src, tt.old); n != 1 {
				t.Fatalf("the edit applies %d times to main.%s, want once: update the mutation", n, tt.file)
			}
			*src = strings.Replace(*src, tt.old, tt.new, 1)
			bicep, err := parseBicepText(b, filepath.Join(root, "infra"))
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader([]byte(j)))
			dec.UseNumber()
			var tmpl map[string]any
			if err := dec.Decode(&tmpl); err != nil {
				t.Fatal(err)
			}
			c := &collector{}
			checkDeclarations(c, bicep, tmpl)
			checkLiterals(c, bicep, tmpl)
			for _, e := range c.errs {
				if strings.Contains(e, tt.want) {
					t.Logf("caught: %s", e)
					return
				}
			}
			t.Errorf("the parity checks missed the change; want an error containing %q, got:\n%s", tt.want, strings.Join(c.errs, "\n"))
		})
	}
}
