package deploytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/invitegate/invitegate/internal/deploytest/armeval"
)

// infra/main.json is written by hand from infra/main.bicep. These tests are
// what `az bicep build` would guarantee: the same parameters with the same
// decorators, variables, resources in the same order with the same literal
// values, outputs, and the files main.bicep loads with loadTextContent
// embedded unchanged.

// reporter is what the parity checks report to: a *testing.T, or a
// collector in the tests that prove they can fail.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// readJSONTemplate decodes main.json with numbers as json.Number.
func readJSONTemplate(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "infra", "main.json"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := decodeTemplate(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// decodeTemplate decodes a template with numbers as json.Number.
func decodeTemplate(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tmpl map[string]any
	if err := dec.Decode(&tmpl); err != nil {
		return nil, err
	}
	return tmpl, nil
}

func readBicep(t *testing.T) *bicepFile {
	t.Helper()
	f, err := parseBicep(filepath.Join(repoRoot(t), "infra", "main.bicep"))
	if err != nil {
		t.Fatalf("infra/main.bicep: %v", err)
	}
	return f
}

// TestARMTemplateMatchesBicep compares the declarations of main.bicep and
// main.json: parameters with every decorator, resources in order with type,
// API version and condition, and outputs.
func TestARMTemplateMatchesBicep(t *testing.T) {
	checkDeclarations(t, readBicep(t), readJSONTemplate(t))
}

func checkDeclarations(t reporter, bicep *bicepFile, tmpl map[string]any) {
	t.Helper()
	jsonParams, _ := tmpl["parameters"].(map[string]any)

	var bicepNames []string
	for _, p := range bicep.params {
		bicepNames = append(bicepNames, p.name)
		jp, ok := jsonParams[p.name].(map[string]any)
		if !ok {
			t.Errorf("main.bicep param %s is missing from main.json", p.name)
			continue
		}
		checkParamParity(t, bicep, p, jp)
	}
	var jsonNames []string
	for name := range jsonParams {
		jsonNames = append(jsonNames, name)
	}
	slices.Sort(jsonNames)
	slices.Sort(bicepNames)
	if len(bicepNames) < 10 || !slices.Equal(jsonNames, bicepNames) {
		t.Errorf("parameters: main.json %q, main.bicep %q", jsonNames, bicepNames)
	}

	resources, _ := tmpl["resources"].([]any)
	if len(resources) != len(bicep.resources) {
		t.Errorf("main.json has %d resources, main.bicep %d", len(resources), len(bicep.resources))
		return
	}
	for i, br := range bicep.resources {
		jr, _ := resources[i].(map[string]any)
		_, conditional := jr["condition"]
		if !strings.EqualFold(fmt.Sprint(jr["type"]), br.typ) || jr["apiVersion"] != br.apiVersion || conditional != br.conditional {
			t.Errorf("resource %d: main.json %v@%v (conditional %v), main.bicep %s %s@%s (conditional %v): keep them in the same order",
				i, jr["type"], jr["apiVersion"], conditional, br.symbol, br.typ, br.apiVersion, br.conditional)
		}
	}

	var jsonOutputs []string
	outputs, _ := tmpl["outputs"].(map[string]any)
	for name, o := range outputs {
		jsonOutputs = append(jsonOutputs, name+" "+fmt.Sprint(o.(map[string]any)["type"]))
	}
	slices.Sort(jsonOutputs)
	bicepOutputs := slices.Sorted(slices.Values(bicep.outputs))
	if len(bicepOutputs) == 0 || !slices.Equal(jsonOutputs, bicepOutputs) {
		t.Errorf("outputs differ:\n main.json:  %q\n main.bicep: %q", jsonOutputs, bicepOutputs)
	}
}

func checkParamParity(t reporter, bicep *bicepFile, p *bicepParam, jp map[string]any) {
	t.Helper()
	// @secure() string and object are ARM's securestring and secureobject.
	typ := p.typ
	if _, secure := p.decorators["secure"]; secure {
		if p.decorators["secure"] != "" || (typ != "string" && typ != "object") {
			t.Errorf("param %s: @secure(%s) on %s: only @secure() on a string or object is understood", p.name, p.decorators["secure"], typ)
		}
		typ = "secure" + typ
	}
	if jp["type"] != typ {
		t.Errorf("param %s: main.json type %v, main.bicep %s", p.name, jp["type"], typ)
	}
	// Defaults.
	switch {
	case p.def == nil && jp["defaultValue"] != nil:
		t.Errorf("param %s: main.json has a default, main.bicep none", p.name)
	case p.def != nil && jp["defaultValue"] == nil:
		t.Errorf("param %s: main.bicep has a default, main.json none", p.name)
	case p.def != nil:
		compareValues(t, "param "+p.name+" default", bicep, p.def, jp["defaultValue"])
	}
	// Numeric and length decorators.
	for _, d := range []string{"minValue", "maxValue", "minLength", "maxLength"} {
		arg, inBicep := p.decorators[d]
		jv, inJSON := jp[d]
		switch {
		case inBicep != inJSON:
			t.Errorf("param %s: @%s in main.bicep %v, in main.json %v", p.name, d, inBicep, inJSON)
		case inBicep && fmt.Sprint(jv) != arg:
			t.Errorf("param %s: @%s(%s) in main.bicep, %v in main.json", p.name, d, arg, jv)
		}
	}
	// Allowed values.
	jallowed, _ := jp["allowedValues"].([]any)
	if len(jallowed) != len(p.allowed) {
		t.Errorf("param %s: main.bicep allows %d values, main.json %d", p.name, len(p.allowed), len(jallowed))
	} else {
		for i := range p.allowed {
			compareValues(t, fmt.Sprintf("param %s allowed[%d]", p.name, i), bicep, p.allowed[i], jallowed[i])
		}
	}
	// Description and metadata.
	meta, _ := jp["metadata"].(map[string]any)
	desc, ok := p.decorators["description"]
	if !ok || meta["description"] == nil {
		t.Errorf("param %s: needs a @description in main.bicep and metadata.description in main.json", p.name)
	} else if got := scalar(desc); !got.isLit || got.lit != meta["description"] {
		t.Errorf("param %s: description differs:\n main.bicep: %s\n main.json:  %v", p.name, desc, meta["description"])
	}
	rest := map[string]any{}
	for k, v := range meta {
		if k != "description" {
			rest[k] = v
		}
	}
	switch {
	case p.metadata == nil && len(rest) > 0:
		t.Errorf("param %s: main.json metadata %v has no @metadata in main.bicep", p.name, rest)
	case p.metadata != nil:
		compareValues(t, "param "+p.name+" @metadata", bicep, p.metadata, rest)
	}
	if _, ok := p.decorators["sealed"]; ok {
		t.Errorf("param %s: @sealed is not handled by this test: extend it", p.name)
	}
	for d := range p.decorators {
		if !slices.Contains([]string{"description", "minValue", "maxValue", "minLength", "maxLength", "secure"}, d) {
			t.Errorf("param %s: decorator @%s is not compared by this test: extend it", p.name, d)
		}
	}
}

// TestARMTemplateLiteralsMatchBicep compares every literal value of every
// variable and resource: a value changed in one file only fails here. Where
// main.bicep has an expression, main.json must have an expression that
// names the same parameters, variables and resources.
func TestARMTemplateLiteralsMatchBicep(t *testing.T) {
	checkLiterals(t, readBicep(t), readJSONTemplate(t))
}

func checkLiterals(t reporter, bicep *bicepFile, tmpl map[string]any) {
	t.Helper()
	jsonVars, _ := tmpl["variables"].(map[string]any)
	for name, bv := range bicep.vars {
		jv, ok := jsonVars[name]
		if !ok {
			if bicep.readsResource(bv) {
				continue // Bicep inlines a variable that reads a resource
			}
			t.Errorf("main.bicep var %s is missing from main.json", name)
			continue
		}
		compareValues(t, "var "+name, bicep, bv, jv)
	}
	for name := range jsonVars {
		if _, ok := bicep.vars[name]; !ok {
			t.Errorf("main.json variable %s is not in main.bicep", name)
		}
	}

	resources, _ := tmpl["resources"].([]any)
	compared := 0
	for i, br := range bicep.resources {
		if i >= len(resources) {
			break
		}
		jr, _ := resources[i].(map[string]any)
		body := map[string]any{}
		for k, v := range jr {
			if !templateKeys(k) {
				body[k] = v
			}
		}
		bb := &bicepValue{obj: map[string]*bicepValue{}}
		for k, v := range br.body.obj {
			if !slices.Contains([]string{"name", "parent", "scope", "dependsOn"}, k) {
				bb.obj[k] = v
			}
		}
		compared += compareValues(t, "resource "+br.symbol, bicep, bb, body)
	}
	if compared < 80 {
		t.Errorf("only %d literal values compared: is the Bicep reader missing values?", compared)
	}
}

func templateKeys(k string) bool {
	return slices.Contains([]string{"type", "apiVersion", "name", "dependsOn", "condition", "scope", "copy", "comments"}, k)
}

// compareValues compares a Bicep value with a main.json value and returns
// how many literals it compared.
func compareValues(t reporter, where string, bicep *bicepFile, bv *bicepValue, jv any) int {
	t.Helper()
	js, isString := jv.(string)
	jsonExpr := isString && armeval.IsExpression(js)
	switch {
	case bv.isLit:
		if jsonExpr {
			t.Errorf("%s: main.bicep has the literal %v, main.json the expression %s", where, bv.lit, js)
			return 0
		}
		if !sameLiteral(bv.lit, jv) {
			t.Errorf("%s: main.bicep %#v, main.json %#v", where, bv.lit, jv)
		}
		return 1
	case bv.obj != nil:
		jo, ok := jv.(map[string]any)
		if !ok {
			t.Errorf("%s: main.bicep has an object, main.json %#v", where, jv)
			return 0
		}
		n := 0
		for k, v := range bv.obj {
			jvk, ok := jo[k]
			if !ok {
				t.Errorf("%s.%s: in main.bicep, not in main.json", where, k)
				continue
			}
			n += compareValues(t, where+"."+k, bicep, v, jvk)
		}
		for k := range jo {
			if _, ok := bv.obj[k]; !ok {
				t.Errorf("%s.%s: in main.json, not in main.bicep", where, k)
			}
		}
		return n
	case bv.isArr:
		ja, ok := jv.([]any)
		if !ok || len(ja) != len(bv.arr) {
			t.Errorf("%s: main.bicep has an array of %d, main.json %#v", where, len(bv.arr), jv)
			return 0
		}
		n := 0
		for i := range bv.arr {
			n += compareValues(t, fmt.Sprintf("%s[%d]", where, i), bicep, bv.arr[i], ja[i])
		}
		return n
	}
	// An expression.
	if file, ok := bv.loadTextContent(); ok {
		content, err := os.ReadFile(filepath.Join(bicep.dir, file))
		if err != nil {
			t.Errorf("%s: loadTextContent('%s'): %v", where, file, err)
			return 0
		}
		if !isString || jsonExpr || js != string(content) {
			t.Errorf("%s: main.json does not hold infra/%s as it is (run: go test ./internal/deploytest -run TestEmbeddedFiles -update)", where, file)
		}
		return 1
	}
	if !isString || !jsonExpr {
		t.Errorf("%s: main.bicep has the expression %s, main.json %#v", where, bv.expr, jv)
		return 0
	}
	for _, id := range bicepIdentifiers(bv.expr) {
		var want string
		switch {
		case bicep.param(id) != nil:
			want = "parameters('" + id + "')"
		case bicep.vars[id] != nil && !bicep.readsResource(bicep.vars[id]):
			want = "variables('" + id + "')"
		case bicep.resource(id) != nil:
			want = "'" + bicep.resource(id).typ + "'"
		default:
			continue // a function or property name
		}
		if !strings.Contains(js, want) {
			t.Errorf("%s: main.bicep's %s uses %s, main.json's %s does not (%s)", where, bv.expr, id, js, want)
		}
	}
	return 0
}

func sameLiteral(b, j any) bool {
	switch b := b.(type) {
	case string:
		return b == j
	case bool:
		return b == j
	case int64:
		n, ok := j.(json.Number)
		return ok && n.String() == strconv.FormatInt(b, 10)
	}
	return false
}

func (f *bicepFile) param(name string) *bicepParam {
	for _, p := range f.params {
		if p.name == name {
			return p
		}
	}
	return nil
}

func (f *bicepFile) resource(symbol string) *bicepResource {
	for _, r := range f.resources {
		if r.symbol == symbol {
			return r
		}
	}
	return nil
}

// readsResource reports whether a variable reads a resource (symbol.x),
// which makes Bicep inline it where it is used.
func (f *bicepFile) readsResource(v *bicepValue) bool {
	if v.expr != "" {
		for _, r := range f.resources {
			if regexp.MustCompile(`\b` + r.symbol + `\.`).MatchString(v.expr) {
				return true
			}
		}
		return false
	}
	for _, e := range v.obj {
		if f.readsResource(e) {
			return true
		}
	}
	for _, e := range v.arr {
		if f.readsResource(e) {
			return true
		}
	}
	return false
}

var bicepIdent = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)

// bicepIdentifiers returns the identifiers of an expression outside string
// literals, and inside their ${...} parts.
func bicepIdentifiers(expr string) []string {
	var code strings.Builder
	inString := false
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case inString && c == '\\':
			i++
		case inString && strings.HasPrefix(expr[i:], "${"):
			end := strings.IndexByte(expr[i:], '}')
			if end < 0 {
				end = len(expr) - i
			}
			code.WriteString(" " + expr[i+2:i+end] + " ")
			i += end
		case c == '\'':
			inString = !inString
			code.WriteByte(' ')
		case !inString:
			code.WriteByte(c)
		}
	}
	var ids []string
	src := code.String()
	for _, loc := range bicepIdent.FindAllStringIndex(src, -1) {
		if loc[0] > 0 && src[loc[0]-1] == '.' {
			continue // a property, not a name
		}
		ids = append(ids, src[loc[0]:loc[1]])
	}
	return ids
}

// TestEmbeddedFiles checks that main.json embeds, unchanged, every file
// main.bicep loads with loadTextContent; -update rewrites those strings in
// main.json from the files.
func TestEmbeddedFiles(t *testing.T) {
	if *update {
		// The workbook is generated from the queries: refresh it first.
		if err := os.WriteFile(filepath.Join(repoRoot(t), "infra", "workbook.json"), workbookJSON(t), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bicep := readBicep(t)
	path := filepath.Join(repoRoot(t), "infra", "main.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := readJSONTemplate(t)
	resources, _ := tmpl["resources"].([]any)
	found := 0
	for i, br := range bicep.resources {
		walkBicep(br.body, func(where []string, v *bicepValue) {
			file, ok := v.loadTextContent()
			if !ok {
				return
			}
			found++
			content, err := os.ReadFile(filepath.Join(bicep.dir, file))
			if err != nil {
				t.Fatal(err)
			}
			var jv any = resources[i]
			for _, k := range where {
				switch x := jv.(type) {
				case map[string]any:
					jv = x[k]
				case []any:
					n, _ := strconv.Atoi(k)
					if n < len(x) {
						jv = x[n]
					}
				}
			}
			current, _ := jv.(string)
			if current == string(content) {
				return
			}
			if !*update {
				t.Errorf("resource %s %s: main.json does not embed infra/%s as it is (run with -update)", br.symbol, strings.Join(where, "."), file)
				return
			}
			oldEnc, newEnc := jsonString(current), jsonString(string(content))
			if bytes.Count(raw, oldEnc) != 1 {
				t.Fatalf("resource %s %s: the current value occurs %d times in main.json; edit it by hand", br.symbol, strings.Join(where, "."), bytes.Count(raw, oldEnc))
			}
			raw = bytes.Replace(raw, oldEnc, newEnc, 1)
		})
	}
	if found < 5 {
		t.Errorf("found %d loadTextContent calls in main.bicep, want the workbook and four alert queries", found)
	}
	if *update {
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func walkBicep(v *bicepValue, fn func(where []string, v *bicepValue)) {
	var walk func(where []string, v *bicepValue)
	walk = func(where []string, v *bicepValue) {
		fn(where, v)
		for _, k := range v.objKeys {
			walk(append(slices.Clone(where), k), v.obj[k])
		}
		for i, e := range v.arr {
			walk(append(slices.Clone(where), strconv.Itoa(i)), e)
		}
	}
	walk(nil, v)
}
