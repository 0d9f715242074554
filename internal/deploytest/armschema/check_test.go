package armschema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A small types.json with one of each kind of record.
const sample = `[
 {"$type": "StringType"},
 {"$type": "StringType", "minLength": 3, "maxLength": 5, "pattern": "^[a-z]+$"},
 {"$type": "IntegerType", "minValue": 1, "maxValue": 10},
 {"$type": "BooleanType"},
 {"$type": "StringLiteralType", "value": "A"},
 {"$type": "StringLiteralType", "value": "B"},
 {"$type": "UnionType", "elements": [{"$ref": "#/4"}, {"$ref": "#/5"}]},
 {"$type": "UnionType", "elements": [{"$ref": "#/4"}, {"$ref": "#/5"}, {"$ref": "#/0"}]},
 {"$type": "ArrayType", "itemType": {"$ref": "#/2"}},
 {"$type": "ObjectType", "name": "Tags", "properties": {}, "additionalProperties": {"$ref": "#/0"}},
 {"$type": "ObjectType", "name": "Props", "properties": {
   "short": {"type": {"$ref": "#/1"}},
   "count": {"type": {"$ref": "#/2"}},
   "on": {"type": {"$ref": "#/3"}, "flags": 1},
   "closed": {"type": {"$ref": "#/6"}},
   "open": {"type": {"$ref": "#/7"}},
   "list": {"type": {"$ref": "#/8"}},
   "tags": {"type": {"$ref": "#/9"}},
   "state": {"type": {"$ref": "#/0"}, "flags": 2}
 }},
 {"$type": "StringLiteralType", "value": "x"},
 {"$type": "StringLiteralType", "value": "y"},
 {"$type": "ObjectType", "name": "X", "properties": {"kind": {"type": {"$ref": "#/11"}, "flags": 1}, "xOnly": {"type": {"$ref": "#/3"}}}},
 {"$type": "ObjectType", "name": "Y", "properties": {"kind": {"type": {"$ref": "#/12"}, "flags": 1}}},
 {"$type": "DiscriminatedObjectType", "name": "Variant", "discriminator": "kind", "baseProperties": {"common": {"type": {"$ref": "#/0"}}},
  "elements": {"x": {"$ref": "#/13"}, "y": {"$ref": "#/14"}}},
 {"$type": "ObjectType", "name": "Body", "properties": {
   "name": {"type": {"$ref": "#/0"}, "flags": 9},
   "id": {"type": {"$ref": "#/0"}, "flags": 10},
   "properties": {"type": {"$ref": "#/10"}, "flags": 1},
   "variant": {"type": {"$ref": "#/15"}}
 }},
 {"$type": "ResourceType", "name": "T.Test/things@2024-01-01", "body": {"$ref": "#/16"}},
 {"$type": "StringType", "pattern": "unused"}
]`

func sampleSchema(t *testing.T) (*Types, *Schema) {
	t.Helper()
	types, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	return types, NewSchema(types)
}

func TestCheck(t *testing.T) {
	_, s := sampleSchema(t)
	valid := func() map[string]any {
		return map[string]any{
			"name": "n",
			"properties": map[string]any{
				"short": "abc", "count": int64(10), "on": true, "closed": "B", "open": "A",
				"list": []any{int64(1), int64(2)}, "tags": map[string]any{"k": "v"},
			},
			"variant": map[string]any{"kind": "x", "common": "c", "xOnly": true},
		}
	}
	if v := s.Check("t.test/things@2024-01-01", valid(), nil); len(v) != 0 {
		t.Fatalf("a valid body: %v", v)
	}
	set := func(path string, value any) map[string]any {
		b := valid()
		m := b
		keys := strings.Split(path, ".")
		for _, k := range keys[:len(keys)-1] {
			m = m[k].(map[string]any)
		}
		if value == nil {
			delete(m, keys[len(keys)-1])
		} else {
			m[keys[len(keys)-1]] = value
		}
		return b
	}
	tests := []struct {
		name string
		body map[string]any
		want string
	}{
		{"unknown property", set("properties.shrt", "abc"), "properties.shrt: unknown property of Props"},
		{"read-only", set("properties.state", "ok"), "properties.state: read-only property"},
		{"read-only at the top", set("id", "/x"), "id: read-only property"},
		{"required", set("properties.on", nil), "properties.on: required property of Props is missing"},
		{"required name", set("name", nil), "name: required property of Body is missing"},
		{"closed enum", set("properties.closed", "C"), `string "C", want one of 'A', 'B'`},
		{"open enum", set("properties.open", "C"), `"C" is not one of the known values 'A', 'B'`},
		{"integer above", set("properties.count", int64(11)), "11 is above the maximum 10"},
		{"integer below, in an array", set("properties.list", []any{int64(0)}), "properties.list[0]: 0 is below the minimum 1"},
		{"not an integer", set("properties.count", 1.5), "want an integer"},
		{"too short", set("properties.short", "ab"), "fewer than 3"},
		{"too long", set("properties.short", "abcdef"), "more than 5"},
		{"pattern", set("properties.short", "ABC"), "does not match ^[a-z]+$"},
		{"additional property type", set("properties.tags", map[string]any{"k": int64(1)}), "properties.tags.k: number 1, want a string"},
		{"bool", set("properties.on", "true"), `string "true", want a bool`},
		{"discriminator", set("variant.kind", "z"), `variant.kind: "z" is not one of x, y`},
		{"variant property", set("variant.kind", "y"), "variant.xOnly: unknown property of Y"},
	}
	for _, tt := range tests {
		v := s.Check("T.Test/things@2024-01-01", tt.body, nil)
		found := false
		for _, x := range v {
			found = found || strings.Contains(x.String(), tt.want)
		}
		if !found {
			t.Errorf("%s: want %q, got %v", tt.name, tt.want, v)
		}
	}
	// An opaque value passes any check; a null is left out.
	if v := s.Check("T.Test/things@2024-01-01", set("properties.count", Opaque{Expr: "reference(x)"}), nil); len(v) != 0 {
		t.Errorf("opaque: %v", v)
	}
	if v := s.Check("T.Test/things@2024-01-01", set("properties.short", nil), nil); len(v) != 0 {
		t.Errorf("an optional property left out: %v", v)
	}
	// The allow list lets a named open-enum value through, at its path only.
	allow := []Allowed{{Resource: "T.Test/things@2024-01-01", Path: "properties.open", Value: "C", Reason: "test"}}
	if v := s.Check("T.Test/things@2024-01-01", set("properties.open", "C"), allow); len(v) != 0 {
		t.Errorf("allow-listed: %v", v)
	}
	if v := s.Check("T.Test/things@2024-01-01", set("properties.open", "D"), allow); len(v) == 0 {
		t.Error("a value not allow-listed passed")
	}
	if v := s.Check("T.Test/things@2023-01-01", valid(), nil); len(v) != 1 || !strings.Contains(v[0].Problem, "no schema") {
		t.Errorf("another API version: %v", v)
	}
}

func TestParseRejectsDanglingReferences(t *testing.T) {
	for _, bad := range []string{
		`[{"$type": "ArrayType", "itemType": {"$ref": "#/5"}}]`,
		`[{"$type": "ArrayType", "itemType": {"$ref": "5"}}]`,
		`[{"$type": "ObjectType", "name": "X", "properties": {}, "surprise": 1}]`,
	} {
		if _, err := Parse(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// TestTrim: a trimmed file keeps exactly what the resource reaches, and
// checks bodies the same way as the whole file.
func TestTrim(t *testing.T) {
	types, full := sampleSchema(t)
	trimmed, err := types.Trim([]string{"T.Test/things@2024-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	if len(trimmed.Records) != len(types.Records)-1 {
		t.Errorf("kept %d of %d records, want all but the unused one", len(trimmed.Records), len(types.Records))
	}
	small := NewSchema(trimmed)
	for _, body := range []map[string]any{
		{"name": "n", "properties": map[string]any{"on": true, "open": "Z", "count": int64(0)}},
		{"name": "n", "properties": map[string]any{"on": "no", "closed": "A", "nope": 1}, "variant": map[string]any{"kind": "y"}},
	} {
		a := full.Check("T.Test/things@2024-01-01", body, nil)
		b := small.Check("T.Test/things@2024-01-01", body, nil)
		if len(a) == 0 || len(a) != len(b) {
			t.Errorf("full %v, trimmed %v", a, b)
			continue
		}
		for i := range a {
			if a[i] != b[i] {
				t.Errorf("full %v, trimmed %v", a[i], b[i])
			}
		}
	}
	if _, err := types.Trim([]string{"T.Test/other@2024-01-01"}); err == nil {
		t.Error("trimming to a resource the file lacks succeeded")
	}
}

func TestTestdataFiles(t *testing.T) {
	dir := filepath.Join("..", "testdata", "spec")
	s, files, err := LoadSchema(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		for _, r := range f.Resources {
			n++
			if !s.Has(r) {
				t.Errorf("%s is declared but not found", r)
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d resource types in testdata/spec", n)
	}
	stack, err := ReadStackFile(filepath.Join(dir, "flex-custom.stack.json"))
	if err != nil {
		t.Fatal(err)
	}
	offer, err := ParseFlexOffer(stack.Stack)
	if err != nil {
		t.Fatal(err)
	}
	want := FlexOffer{Runtime: "custom", Version: "1.0", MemoryMB: []int{512, 2048, 4096}, DefaultMemoryMB: 2048,
		LowestMaxInstances: 40, HighestMaxInstances: 1000, DefaultMaxInstances: 100}
	if offer.Runtime != want.Runtime || offer.Version != want.Version || len(offer.MemoryMB) != 3 ||
		offer.DefaultMemoryMB != want.DefaultMemoryMB || offer.LowestMaxInstances != 40 || offer.HighestMaxInstances != 1000 {
		t.Errorf("the stack record reads as %+v, want %+v", offer, want)
	}
	// A file whose header is stripped is refused.
	raw, err := os.ReadFile(filepath.Join(dir, "microsoft.insights-2020-02-02.types.json"))
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "x.types.json")
	os.WriteFile(bad, []byte(strings.Replace(string(raw), `"commit"`, `"comit"`, 1)), 0o644)
	if _, _, err := ReadTypesFile(bad); err == nil {
		t.Error("a file without a commit in its header was accepted")
	}
}
