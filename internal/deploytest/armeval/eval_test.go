package armeval

import (
	"regexp"
	"strings"
	"testing"

	"github.com/invitegate/invitegate/internal/deploytest/armschema"
)

var ctx = Context{SubscriptionID: "sub", TenantID: "ten", ResourceGroup: "rg", Location: "westeurope"}

// eval evaluates one expression in a template with parameters p (string)
// and n (int, default 3) and the variable v.
func eval(t *testing.T, expr string) (any, error) {
	t.Helper()
	tmpl := `{"parameters": {"p": {"type": "string", "defaultValue": "x"}, "n": {"type": "int", "defaultValue": 3}},
	"variables": {"v": {"a": [1, "[parameters('p')]"]}, "out": ` + quote(expr) + `}, "resources": []}`
	res, err := Evaluate([]byte(tmpl), ctx, nil)
	if err != nil {
		return nil, err
	}
	return res.Variables["out"], nil
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func TestFunctions(t *testing.T) {
	tests := []struct {
		expr string
		want any
	}{
		{"[format('{0}-{1}', parameters('p'), 7)]", "x-7"},
		{"[concat('a', parameters('p'), 'b')]", "axb"},
		{"[length(concat(createArray(1), createArray(2, 3)))]", int64(3)},
		{"[resourceId('A.B/c/d', 'n1', 'n2')]", "/subscriptions/sub/resourceGroups/rg/providers/A.B/c/n1/d/n2"},
		{"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'id')]", "/subscriptions/sub/providers/Microsoft.Authorization/roleDefinitions/id"},
		{"[if(equals(parameters('p'), 'x'), 'yes', parameters('missing'))]", "yes"}, // the other branch is not evaluated
		{"[div(parameters('n'), 2)]", int64(1)},
		{"[greater(parameters('n'), 2)]", true},
		{"[not(empty(createArray()))]", false},
		{"[toLower('AbC')]", "abc"},
		{"[variables('v').a[1]]", "x"},
		{"[createObject('k', true()).k]", true},
		{"[environment().suffixes.storage]", "core.windows.net"},
		{"[resourceGroup().location]", "westeurope"},
		{"[[literal]", "[literal]"},
		{"[union(createObject('a', 1), createObject('b', 2)).b]", int64(2)},
		{"['it''s']", "it's"},
	}
	for _, tt := range tests {
		got, err := eval(t, tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s = %#v, want %#v", tt.expr, got, tt.want)
		}
	}
	if s, _ := eval(t, "[uniqueString(resourceGroup().id, 'a')]"); !regexp.MustCompile(`^[a-z2-7]{13}$`).MatchString(s.(string)) {
		t.Errorf("uniqueString = %q, want 13 characters of a-z and 2-7", s)
	}
	if s, _ := eval(t, "[guid('a', 'b')]"); !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(s.(string)) {
		t.Errorf("guid = %q", s)
	}
	if v, _ := eval(t, "[reference(resourceId('A.B/c', 'n')).x.y]"); v != (armschema.Opaque{Expr: "reference(/subscriptions/sub/resourceGroups/rg/providers/A.B/c/n).x.y"}) {
		t.Errorf("reference() = %#v, want an opaque value", v)
	}
	if v, _ := eval(t, "[format('k={0}', listKeys(resourceId('A.B/c', 'n'), '1').keys[0].value)]"); v == nil {
		t.Error("format() over an opaque value")
	} else if _, ok := v.(armschema.Opaque); !ok {
		t.Errorf("format() over an opaque value = %#v, want opaque", v)
	}
}

func TestErrors(t *testing.T) {
	for expr, want := range map[string]string{
		"[parameters('nope')]":        "not declared",
		"[variables('nope')]":         "not declared",
		"[frobnicate()]":              "not supported",
		"[format('{1}', 'a')]":        "has no argument",
		"[concat('a']":                "want ')'",
		"['open]":                     "unterminated",
		"[parameters('p') extra]":     "unexpected",
		"[if(parameters('p'), 1, 2)]": "want a bool",
		"[variables('v').nope]":       "no property nope",
	} {
		_, err := eval(t, expr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", expr, err, want)
		}
	}
}

func TestParameters(t *testing.T) {
	tmpl := []byte(`{"parameters": {
		"n": {"type": "int", "minValue": 40, "maxValue": 1000, "defaultValue": 100},
		"s": {"type": "string", "allowedValues": ["a", "b"], "defaultValue": "a"},
		"l": {"type": "string", "minLength": 3, "maxLength": 5, "defaultValue": "[resourceGroup().name]"}
	}, "resources": []}`)
	for _, tt := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"n": int64(39)}, "outside [40, 1000]"},
		{map[string]any{"n": int64(1001)}, "outside [40, 1000]"},
		{map[string]any{"s": "c"}, "not one of the allowed values"},
		{map[string]any{"s": "A"}, "not one of the allowed values"},
		{map[string]any{"l": "toolong"}, "outside [3, 5]"},
		{map[string]any{"n": "40"}, "not an integer"},
		{map[string]any{"x": "1"}, "not declared"},
		{nil, "outside [3, 5]"}, // the default "rg" is too short
	} {
		params := map[string]any{"l": "abc"}
		for k, v := range tt.params {
			params[k] = v
		}
		if tt.params == nil {
			params = nil
		}
		_, err := Evaluate(tmpl, ctx, params)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.params, err, tt.want)
		}
	}
	res, err := Evaluate(tmpl, ctx, map[string]any{"n": int64(40), "s": "b", "l": "abc"})
	if err != nil || res.Parameters["n"] != int64(40) || res.Parameters["s"] != "b" {
		t.Errorf("valid parameters: %v %v", res, err)
	}
}

func TestResources(t *testing.T) {
	tmpl := []byte(`{"parameters": {"on": {"type": "bool", "defaultValue": false}}, "resources": [
		{"condition": "[parameters('on')]", "type": "A.B/c", "apiVersion": "2020-01-01", "name": "one", "properties": {"x": 1}},
		{"type": "A.B/c/d", "apiVersion": "2020-01-01", "name": "[format('{0}/{1}', 'one', 'two')]",
		 "dependsOn": ["[resourceId('A.B/c', 'one')]"],
		 "properties": {"key": "[listKeys(resourceId('A.B/c', 'one'), '2020-01-01').k]"}},
		{"type": "Microsoft.Authorization/roleAssignments", "apiVersion": "2022-04-01", "scope": "A.B/c/one", "name": "g", "properties": {}}
	]}`)
	res, err := Evaluate(tmpl, ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Resources[0].Deployed || !res.Resources[1].Deployed {
		t.Error("conditions not applied")
	}
	child := res.Resources[1]
	if child.Name != "one/two" || child.Body["name"] != "two" || child.Body["type"] != nil || child.Body["dependsOn"] != nil {
		t.Errorf("child resource: name %q, body %v", child.Name, child.Body)
	}
	if len(child.Reads) != 1 || child.Reads[0] != "/subscriptions/sub/resourceGroups/rg/providers/A.B/c/one" {
		t.Errorf("reads = %v", child.Reads)
	}
	if id := child.ID(ctx); id != "/subscriptions/sub/resourceGroups/rg/providers/A.B/c/one/d/two" {
		t.Errorf("ID = %s", id)
	}
	if id := res.Resources[2].ID(ctx); id != "/subscriptions/sub/resourceGroups/rg/providers/A.B/c/one/providers/Microsoft.Authorization/roleAssignments/g" {
		t.Errorf("extension resource ID = %s", id)
	}
}

func TestCalls(t *testing.T) {
	calls, err := Calls("[concat(parameters('a'), if(true(), 'x', variables('b')))]")
	var got []string
	for _, c := range calls {
		got = append(got, c.Name)
	}
	if err != nil || strings.Join(got, " ") != "concat parameters if true variables" {
		t.Errorf("Calls = %v, %v", calls, err)
	}
	if a := calls[1].Args; len(a) != 1 || !a[0].Literal || a[0].Value != "a" {
		t.Errorf("parameters('a') args = %+v", a)
	}
	if a := calls[2].Args; len(a) != 3 || a[0].Literal || !a[1].Literal || a[1].Value != "x" {
		t.Errorf("if() args = %+v", a)
	}
}
