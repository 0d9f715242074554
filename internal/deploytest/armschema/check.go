package armschema

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Opaque is a value known only at deployment time (the result of
// reference() or listKeys()). It passes any type check: only its place in
// the body is known.
type Opaque struct {
	// Expr is the expression that would produce the value.
	Expr string
}

// Violation is one way a resource body breaks its schema.
type Violation struct {
	Resource string // "Namespace/type@version"
	Path     string // e.g. properties.siteConfig.appSettings[3].name
	Problem  string
}

func (v Violation) String() string { return v.Resource + " " + v.Path + ": " + v.Problem }

// Allowed lets a value of an open enum ("'a' | 'b' | string") through that
// the schema does not list, with the reason it is right anyway.
type Allowed struct {
	Resource string // "Namespace/type@version"
	Path     string // with array indexes written [], e.g. properties.items[].kind
	Value    string
	Reason   string
}

// Schema is a set of types.json files.
type Schema struct {
	files []*Types
}

// NewSchema combines type files; a resource type is looked up in each.
func NewSchema(files ...*Types) *Schema { return &Schema{files: files} }

// Has reports whether the schema describes the resource type
// ("Namespace/type@version").
func (s *Schema) Has(resource string) bool {
	_, _, ok := s.lookup(resource)
	return ok
}

func (s *Schema) lookup(resource string) (*Types, *Record, bool) {
	for _, t := range s.files {
		if r, ok := t.resource(resource); ok {
			return t, r, true
		}
	}
	return nil, nil, false
}

// Check checks a resource body (the resource as PUT to ARM: name, location,
// kind, sku, identity, properties, ...; without the template's own keys
// type, apiVersion, dependsOn, condition and scope) against the schema of
// resource. allowed lists the open-enum values to let through.
func (s *Schema) Check(resource string, body map[string]any, allowed []Allowed) []Violation {
	t, rec, ok := s.lookup(resource)
	if !ok {
		return []Violation{{Resource: resource, Problem: "no schema for this resource type and API version"}}
	}
	c := &checker{types: t, resource: resource, allowed: allowed}
	bodyType, err := t.at(*rec.Body)
	if err != nil {
		return []Violation{{Resource: resource, Problem: err.Error()}}
	}
	c.check("", body, bodyType)
	sort.SliceStable(c.out, func(i, j int) bool { return c.out[i].Path < c.out[j].Path })
	return c.out
}

type checker struct {
	types    *Types
	resource string
	allowed  []Allowed
	out      []Violation
}

func (c *checker) fail(path, format string, args ...any) {
	c.out = append(c.out, Violation{Resource: c.resource, Path: path, Problem: fmt.Sprintf(format, args...)})
}

// check checks v at path against t.
func (c *checker) check(path string, v any, t *Record) {
	if _, ok := v.(Opaque); ok {
		return
	}
	switch t.Kind {
	case "AnyType":
	case "StringType":
		c.checkString(path, v, t)
	case "StringLiteralType":
		want, err := t.literal()
		if err != nil {
			c.fail(path, "schema: %v", err)
			return
		}
		if s, ok := v.(string); !ok || s != want {
			c.fail(path, "%s, want '%s'", describe(v), want)
		}
	case "IntegerType":
		c.checkInt(path, v, t)
	case "BooleanType":
		if _, ok := v.(bool); !ok {
			c.fail(path, "%s, want a bool", describe(v))
		}
	case "ArrayType":
		items, ok := v.([]any)
		if !ok {
			c.fail(path, "%s, want an array", describe(v))
			return
		}
		it, err := c.types.at(*t.ItemType)
		if err != nil {
			c.fail(path, "schema: %v", err)
			return
		}
		for i, item := range items {
			c.check(fmt.Sprintf("%s[%d]", path, i), item, it)
		}
	case "UnionType":
		c.checkUnion(path, v, t)
	case "ObjectType":
		obj, ok := v.(map[string]any)
		if !ok {
			c.fail(path, "%s, want an object (%s)", describe(v), t.Name)
			return
		}
		c.checkObject(path, obj, t.Properties, t.AdditionalProperties, t.Name)
	case "DiscriminatedObjectType":
		c.checkDiscriminated(path, v, t)
	default:
		c.fail(path, "schema type %s is not understood by this checker", t.Kind)
	}
}

func (c *checker) checkString(path string, v any, t *Record) {
	s, ok := v.(string)
	if !ok {
		c.fail(path, "%s, want a string", describe(v))
		return
	}
	n := int64(len([]rune(s)))
	if t.MinLength != nil && n < *t.MinLength {
		c.fail(path, "%q has %d characters, fewer than %d", s, n, *t.MinLength)
	}
	if t.MaxLength != nil && n > *t.MaxLength {
		c.fail(path, "%q has %d characters, more than %d", s, n, *t.MaxLength)
	}
	if t.Pattern != "" {
		re, err := compile(t.Pattern)
		if err != nil {
			c.fail(path, "schema pattern %q: %v", t.Pattern, err)
			return
		}
		if !re.MatchString(s) {
			c.fail(path, "%q does not match %s", s, t.Pattern)
		}
	}
}

func (c *checker) checkInt(path string, v any, t *Record) {
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case int:
		n = int64(x)
	case float64:
		if x != math.Trunc(x) {
			c.fail(path, "%v, want an integer", x)
			return
		}
		n = int64(x)
	default:
		c.fail(path, "%s, want an integer", describe(v))
		return
	}
	if t.MinValue != nil && n < *t.MinValue {
		c.fail(path, "%d is below the minimum %d", n, *t.MinValue)
	}
	if t.MaxValue != nil && n > *t.MaxValue {
		c.fail(path, "%d is above the maximum %d", n, *t.MaxValue)
	}
}

// checkUnion accepts v when it is one of the union's members. A union of
// string literals with a plain string member is an open enum: another
// string passes only if allowed says so.
func (c *checker) checkUnion(path string, v any, t *Record) {
	refs, err := t.unionElements()
	if err != nil {
		c.fail(path, "schema: %v", err)
		return
	}
	var literals []string
	open := false
	var others []*Record
	for _, ref := range refs {
		m, err := c.types.at(ref)
		if err != nil {
			c.fail(path, "schema: %v", err)
			return
		}
		switch {
		case m.Kind == "StringLiteralType":
			lit, err := m.literal()
			if err != nil {
				c.fail(path, "schema: %v", err)
				return
			}
			literals = append(literals, lit)
		case m.Kind == "StringType" && m.Pattern == "" && m.MinLength == nil && m.MaxLength == nil:
			open = true
		default:
			others = append(others, m)
		}
	}
	if s, ok := v.(string); ok {
		for _, lit := range literals {
			if s == lit {
				return
			}
		}
		if open {
			for _, a := range c.allowed {
				if strings.EqualFold(a.Resource, c.resource) && a.Path == generalize(path) && a.Value == s {
					return
				}
			}
			c.fail(path, "%q is not one of the known values '%s' (an open enum: allow-list it with a reason if it is right)", s, strings.Join(literals, "', '"))
			return
		}
	}
	// Any other member (an object, a constrained string, ...) that takes v.
	for _, m := range others {
		probe := &checker{types: c.types, resource: c.resource, allowed: c.allowed}
		probe.check(path, v, m)
		if len(probe.out) == 0 {
			return
		}
	}
	if len(literals) > 0 {
		c.fail(path, "%s, want one of '%s'", describe(v), strings.Join(literals, "', '"))
		return
	}
	c.fail(path, "%s matches no member of the union", describe(v))
}

func (c *checker) checkDiscriminated(path string, v any, t *Record) {
	obj, ok := v.(map[string]any)
	if !ok {
		c.fail(path, "%s, want an object (%s)", describe(v), t.Name)
		return
	}
	variants, err := t.discriminatedElements()
	if err != nil {
		c.fail(path, "schema: %v", err)
		return
	}
	d, ok := obj[t.Discriminator].(string)
	if !ok {
		c.fail(join(path, t.Discriminator), "the discriminator is %s, want one of %s", describe(obj[t.Discriminator]), keys(variants))
		return
	}
	ref, ok := variants[d]
	if !ok {
		c.fail(join(path, t.Discriminator), "%q is not one of %s", d, keys(variants))
		return
	}
	variant, err := c.types.at(ref)
	if err != nil {
		c.fail(path, "schema: %v", err)
		return
	}
	props := map[string]Property{}
	for k, p := range t.BaseProperties {
		props[k] = p
	}
	for k, p := range variant.Properties {
		props[k] = p
	}
	c.checkObject(path, obj, props, variant.AdditionalProperties, variant.Name)
}

func (c *checker) checkObject(path string, obj map[string]any, props map[string]Property, additional *Ref, name string) {
	for _, k := range sortedKeys(obj) {
		v := obj[k]
		if v == nil {
			continue // ARM leaves a null property out of the request
		}
		p, ok := props[k]
		if !ok {
			if additional != nil {
				at, err := c.types.at(*additional)
				if err != nil {
					c.fail(join(path, k), "schema: %v", err)
					continue
				}
				c.check(join(path, k), v, at)
				continue
			}
			c.fail(join(path, k), "unknown property of %s (known: %s)", name, keys(props))
			continue
		}
		if p.Flags&FlagReadOnly != 0 {
			c.fail(join(path, k), "read-only property of %s is written", name)
			continue
		}
		pt, err := c.types.at(p.Type)
		if err != nil {
			c.fail(join(path, k), "schema: %v", err)
			continue
		}
		c.check(join(path, k), v, pt)
	}
	for _, k := range sortedKeys(props) {
		if props[k].Flags&FlagRequired != 0 && obj[k] == nil {
			c.fail(join(path, k), "required property of %s is missing", name)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var index = regexp.MustCompile(`\[\d+\]`)

// generalize writes every array index of a path as [].
func generalize(path string) string { return index.ReplaceAllString(path, "[]") }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func keys[V any](m map[string]V) string { return strings.Join(sortedKeys(m), ", ") }

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", x)
	case bool:
		return fmt.Sprintf("bool %v", x)
	case int, int64, float64:
		return fmt.Sprintf("number %v", x)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

var patterns sync.Map // string → *regexp.Regexp

// compile compiles a schema pattern. Schemas are written for .NET regular
// expressions; the ones used here are also valid RE2.
func compile(pattern string) (*regexp.Regexp, error) {
	if re, ok := patterns.Load(pattern); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	patterns.Store(pattern, re)
	return re, nil
}
