// Package armschema reads the resource schemas Azure publishes for Bicep
// (the bicep-types-az "types.json" files) and checks ARM resource bodies
// against them: unknown properties, read-only properties that are written,
// missing required ones, enum and literal values, integer ranges, and string
// lengths and patterns.
//
// A types.json is a JSON array of type records that point at each other with
// {"$ref": "#/N"}. A ResourceType record names "Namespace/type@apiVersion"
// and points at the ObjectType of the resource body.
package armschema

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Property flags, as bicep-types writes them.
const (
	FlagRequired           = 1
	FlagReadOnly           = 2
	FlagWriteOnly          = 4
	FlagDeployTimeConstant = 8
)

// Ref points at a record of the same file: {"$ref": "#/N"}.
type Ref struct {
	Ref string `json:"$ref"`
}

// Index returns N of "#/N".
func (r Ref) Index() (int, error) {
	n, ok := strings.CutPrefix(r.Ref, "#/")
	if !ok {
		return 0, fmt.Errorf("reference %q is not #/N", r.Ref)
	}
	return strconv.Atoi(n)
}

// Property is one property of an ObjectType.
type Property struct {
	Type        Ref    `json:"type"`
	Flags       int    `json:"flags,omitempty"`
	Description string `json:"description,omitempty"`
}

// Record is one type record. Which fields are set depends on Kind
// ("$type"): ResourceType, ObjectType, DiscriminatedObjectType, UnionType,
// StringLiteralType, StringType, IntegerType, BooleanType, ArrayType,
// AnyType, ResourceFunctionType.
type Record struct {
	Kind string `json:"$type"`
	Name string `json:"name,omitempty"`

	// ResourceType
	Body           *Ref `json:"body,omitempty"`
	ReadableScopes *int `json:"readableScopes,omitempty"`
	WritableScopes *int `json:"writableScopes,omitempty"`

	// ObjectType
	Properties           map[string]Property `json:"properties,omitempty"`
	AdditionalProperties *Ref                `json:"additionalProperties,omitempty"`

	// DiscriminatedObjectType
	Discriminator  string              `json:"discriminator,omitempty"`
	BaseProperties map[string]Property `json:"baseProperties,omitempty"`

	// UnionType (a list) and DiscriminatedObjectType (a map)
	Elements json.RawMessage `json:"elements,omitempty"`

	// ArrayType
	ItemType *Ref `json:"itemType,omitempty"`

	// StringLiteralType
	Value json.RawMessage `json:"value,omitempty"`

	// StringType
	MinLength *int64 `json:"minLength,omitempty"`
	MaxLength *int64 `json:"maxLength,omitempty"`
	Pattern   string `json:"pattern,omitempty"`
	Sensitive bool   `json:"sensitive,omitempty"`

	// IntegerType
	MinValue *int64 `json:"minValue,omitempty"`
	MaxValue *int64 `json:"maxValue,omitempty"`

	// ResourceFunctionType (listKeys and the like): kept as read, not checked.
	ResourceType json.RawMessage `json:"resourceType,omitempty"`
	APIVersion   json.RawMessage `json:"apiVersion,omitempty"`
	Output       *Ref            `json:"output,omitempty"`
	Input        *Ref            `json:"input,omitempty"`
}

// unionElements returns the members of a UnionType.
func (r *Record) unionElements() ([]Ref, error) {
	var refs []Ref
	if err := json.Unmarshal(r.Elements, &refs); err != nil {
		return nil, fmt.Errorf("UnionType elements: %v", err)
	}
	return refs, nil
}

// discriminatedElements returns the variants of a DiscriminatedObjectType.
func (r *Record) discriminatedElements() (map[string]Ref, error) {
	var refs map[string]Ref
	if err := json.Unmarshal(r.Elements, &refs); err != nil {
		return nil, fmt.Errorf("DiscriminatedObjectType elements: %v", err)
	}
	return refs, nil
}

// literal returns the value of a StringLiteralType.
func (r *Record) literal() (string, error) {
	var s string
	if err := json.Unmarshal(r.Value, &s); err != nil {
		return "", fmt.Errorf("StringLiteralType value: %v", err)
	}
	return s, nil
}

// Types is one types.json: the records, in their file order.
type Types struct {
	Records []Record
}

// Parse reads a types.json array.
func Parse(r io.Reader) (*Types, error) {
	var recs []Record
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&recs); err != nil {
		return nil, fmt.Errorf("reading bicep types: %v", err)
	}
	t := &Types{Records: recs}
	if err := t.validate(); err != nil {
		return nil, err
	}
	return t, nil
}

// validate checks that every reference points at a record.
func (t *Types) validate() error {
	for i := range t.Records {
		if err := t.eachRef(i, func(ref *Ref) error {
			_, err := t.at(*ref)
			return err
		}); err != nil {
			return fmt.Errorf("record %d (%s %s): %v", i, t.Records[i].Kind, t.Records[i].Name, err)
		}
	}
	return nil
}

// eachRef calls fn with a pointer to every reference record i holds, so fn
// may rewrite it.
func (t *Types) eachRef(i int, fn func(*Ref) error) error {
	r := &t.Records[i]
	for _, ref := range []*Ref{r.Body, r.AdditionalProperties, r.ItemType, r.Output, r.Input} {
		if ref != nil {
			if err := fn(ref); err != nil {
				return err
			}
		}
	}
	for _, props := range []map[string]Property{r.Properties, r.BaseProperties} {
		for name, p := range props {
			if err := fn(&p.Type); err != nil {
				return err
			}
			props[name] = p
		}
	}
	switch r.Kind {
	case "UnionType":
		refs, err := r.unionElements()
		if err != nil {
			return err
		}
		for j := range refs {
			if err := fn(&refs[j]); err != nil {
				return err
			}
		}
		r.Elements, _ = json.Marshal(refs)
	case "DiscriminatedObjectType":
		refs, err := r.discriminatedElements()
		if err != nil {
			return err
		}
		for k, ref := range refs {
			if err := fn(&ref); err != nil {
				return err
			}
			refs[k] = ref
		}
		r.Elements, _ = json.Marshal(refs)
	}
	return nil
}

// at returns the record a reference points at.
func (t *Types) at(ref Ref) (*Record, error) {
	i, err := ref.Index()
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(t.Records) {
		return nil, fmt.Errorf("reference %s is outside the %d records", ref.Ref, len(t.Records))
	}
	return &t.Records[i], nil
}

// Resources returns the names ("Namespace/type@version") of the resource
// types the file declares, sorted.
func (t *Types) Resources() []string {
	var names []string
	for _, r := range t.Records {
		if r.Kind == "ResourceType" {
			names = append(names, r.Name)
		}
	}
	sort.Strings(names)
	return names
}

// resource returns the ResourceType record of name, compared without case
// (ARM resource types are case-insensitive; API versions are compared as
// written).
func (t *Types) resource(name string) (*Record, bool) {
	typ, version, _ := strings.Cut(name, "@")
	for i := range t.Records {
		r := &t.Records[i]
		if r.Kind != "ResourceType" {
			continue
		}
		rt, rv, _ := strings.Cut(r.Name, "@")
		if strings.EqualFold(rt, typ) && rv == version {
			return r, true
		}
	}
	return nil, false
}

// Trim returns a copy of t with only the records that the named resource
// types reach, renumbered in their original order.
func (t *Types) Trim(resources []string) (*Types, error) {
	keep := map[int]bool{}
	var visit func(i int) error
	visit = func(i int) error {
		if keep[i] {
			return nil
		}
		keep[i] = true
		return t.eachRef(i, func(ref *Ref) error {
			j, err := ref.Index()
			if err != nil {
				return err
			}
			return visit(j)
		})
	}
	for _, name := range resources {
		found := false
		for i := range t.Records {
			if t.Records[i].Kind == "ResourceType" && t.Records[i].Name == name {
				found = true
				if err := visit(i); err != nil {
					return nil, err
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("no resource type %s (the file has %s)", name, strings.Join(t.Resources(), ", "))
		}
	}
	// Copy the kept records through JSON, so the copy shares nothing with t.
	raw, err := json.Marshal(t.Records)
	if err != nil {
		return nil, err
	}
	var all []Record
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, err
	}
	renumber := map[int]int{}
	var out []Record
	for i := range all {
		if keep[i] {
			renumber[i] = len(out)
			out = append(out, all[i])
		}
	}
	trimmed := &Types{Records: out}
	for i := range trimmed.Records {
		if err := trimmed.eachRef(i, func(ref *Ref) error {
			j, err := ref.Index()
			if err != nil {
				return err
			}
			ref.Ref = "#/" + strconv.Itoa(renumber[j])
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return trimmed, trimmed.validate()
}
