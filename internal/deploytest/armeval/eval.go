package armeval

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/invitegate/invitegate/internal/deploytest/armschema"
)

// Context is where a template is deployed.
type Context struct {
	SubscriptionID string
	TenantID       string
	ResourceGroup  string
	Location       string // the resource group's
}

// Resource is one resource of an evaluated template.
type Resource struct {
	Type       string
	APIVersion string
	Name       string // the full name, segments joined with /
	Scope      string // the evaluated scope of an extension resource, or ""
	Deployed   bool   // its condition holds
	// Body is what is sent to the provider: the resource without the
	// template's own keys, with name set to the last name segment (as Bicep
	// writes a child resource).
	Body map[string]any
	// DependsOn are the evaluated dependsOn entries.
	DependsOn []string
	// Reads are the resource IDs the body reads at deployment time with
	// reference() or listKeys().
	Reads []string
}

// ID returns the resource's ID in ctx (for an extension resource, relative
// to its scope).
func (r Resource) ID(ctx Context) string {
	if r.Scope != "" {
		return extensionID(ctx, r.Scope, r.Type, r.Name)
	}
	return resourceID(ctx, r.Type, strings.Split(r.Name, "/"))
}

// Result is an evaluated template.
type Result struct {
	Parameters map[string]any
	Variables  map[string]any
	Resources  []Resource
	Outputs    map[string]any
}

// templateKeys are the keys of a template resource that are not part of the
// resource itself.
var templateKeys = map[string]bool{
	"type": true, "apiVersion": true, "dependsOn": true, "condition": true,
	"scope": true, "copy": true, "comments": true,
}

type template struct {
	Parameters map[string]struct {
		Type          string         `json:"type"`
		DefaultValue  any            `json:"defaultValue"`
		AllowedValues []any          `json:"allowedValues"`
		MinLength     *int64         `json:"minLength"`
		MaxLength     *int64         `json:"maxLength"`
		MinValue      *int64         `json:"minValue"`
		MaxValue      *int64         `json:"maxValue"`
		Metadata      map[string]any `json:"metadata"`
	} `json:"parameters"`
	Variables map[string]any   `json:"variables"`
	Resources []map[string]any `json:"resources"`
	Outputs   map[string]struct {
		Type  string `json:"type"`
		Value any    `json:"value"`
	} `json:"outputs"`
}

// Evaluate evaluates a template for the given parameter values. Parameters
// left out take their defaults; a value that breaks a parameter's type,
// allowed values or bounds is an error, as it is for Resource Manager.
func Evaluate(raw []byte, ctx Context, params map[string]any) (*Result, error) {
	var t template
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("template: %v", err)
	}
	e := &evaluator{ctx: ctx, params: map[string]any{}, vars: map[string]any{}, rawVars: t.Variables, evaluating: map[string]bool{}}

	for name := range params {
		if _, ok := t.Parameters[name]; !ok {
			return nil, fmt.Errorf("parameter %s is not declared", name)
		}
	}
	// Defaults may be expressions over other functions (resourceGroup()),
	// but not over other parameters here.
	for _, name := range sortedKeys(t.Parameters) {
		p := t.Parameters[name]
		v, given := params[name]
		if !given {
			if p.DefaultValue == nil {
				return nil, fmt.Errorf("parameter %s has no value and no default", name)
			}
			d, err := e.value(normalize(p.DefaultValue))
			if err != nil {
				return nil, fmt.Errorf("parameter %s default: %v", name, err)
			}
			v = d
		}
		v = normalize(v)
		if err := checkParameter(name, p.Type, v, p.AllowedValues, p.MinLength, p.MaxLength, p.MinValue, p.MaxValue); err != nil {
			return nil, err
		}
		e.params[name] = v
	}

	res := &Result{Parameters: e.params, Variables: e.vars, Outputs: map[string]any{}}
	for _, name := range sortedKeys(t.Variables) {
		if _, err := e.variable(name); err != nil {
			return nil, err
		}
	}
	for i, r := range t.Resources {
		out, err := e.resource(r)
		if err != nil {
			return nil, fmt.Errorf("resource %d (%v): %v", i, r["type"], err)
		}
		res.Resources = append(res.Resources, out)
	}
	for _, name := range sortedKeys(t.Outputs) {
		v, err := e.value(normalize(t.Outputs[name].Value))
		if err != nil {
			return nil, fmt.Errorf("output %s: %v", name, err)
		}
		res.Outputs[name] = v
	}
	return res, nil
}

func checkParameter(name, typ string, v any, allowed []any, minLen, maxLen, minVal, maxVal *int64) error {
	switch strings.ToLower(typ) {
	case "string", "securestring":
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("parameter %s: %v is not a string", name, v)
		}
		n := int64(len([]rune(s)))
		if minLen != nil && n < *minLen || maxLen != nil && n > *maxLen {
			return fmt.Errorf("parameter %s: %q has %d characters, outside %s", name, s, n, bounds(minLen, maxLen))
		}
	case "int":
		n, ok := v.(int64)
		if !ok {
			return fmt.Errorf("parameter %s: %v is not an integer", name, v)
		}
		if minVal != nil && n < *minVal || maxVal != nil && n > *maxVal {
			return fmt.Errorf("parameter %s: %d is outside %s", name, n, bounds(minVal, maxVal))
		}
	case "bool":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("parameter %s: %v is not a bool", name, v)
		}
	case "array":
		if _, ok := v.([]any); !ok {
			return fmt.Errorf("parameter %s: %v is not an array", name, v)
		}
	case "object", "secureobject":
		if _, ok := v.(map[string]any); !ok {
			return fmt.Errorf("parameter %s: %v is not an object", name, v)
		}
	default:
		return fmt.Errorf("parameter %s: unknown type %q", name, typ)
	}
	if allowed != nil {
		for _, a := range allowed {
			if equal(normalize(a), v) {
				return nil
			}
		}
		return fmt.Errorf("parameter %s: %v is not one of the allowed values %v", name, v, allowed)
	}
	return nil
}

func bounds(lo, hi *int64) string {
	f := func(p *int64) string {
		if p == nil {
			return "…"
		}
		return fmt.Sprint(*p)
	}
	return "[" + f(lo) + ", " + f(hi) + "]"
}

// normalize turns json.Number into int64 (or float64), recursively.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case int:
		return int64(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	}
	return v
}

type evaluator struct {
	ctx        Context
	params     map[string]any
	vars       map[string]any
	rawVars    map[string]any
	evaluating map[string]bool
	reads      *[]string // resource IDs read by reference()/listKeys() in the current resource
}

func (e *evaluator) variable(name string) (any, error) {
	if v, ok := e.vars[name]; ok {
		return v, nil
	}
	raw, ok := e.rawVars[name]
	if !ok {
		return nil, fmt.Errorf("variables('%s') is not declared", name)
	}
	if e.evaluating[name] {
		return nil, fmt.Errorf("variable %s refers to itself", name)
	}
	e.evaluating[name] = true
	defer delete(e.evaluating, name)
	v, err := e.value(normalize(raw))
	if err != nil {
		return nil, fmt.Errorf("variable %s: %v", name, err)
	}
	e.vars[name] = v
	return v, nil
}

// value evaluates a template value: expressions in strings, recursively.
func (e *evaluator) value(v any) (any, error) {
	switch x := v.(type) {
	case string:
		if IsExpression(x) {
			n, err := parse(x[1 : len(x)-1])
			if err != nil {
				return nil, err
			}
			return e.eval(n)
		}
		if strings.HasPrefix(x, "[[") {
			return x[1:], nil
		}
		return x, nil
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			ev, err := e.value(el)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			ev, err := e.value(x[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %v", k, err)
			}
			out[k] = ev
		}
		return out, nil
	}
	return v, nil
}

func (e *evaluator) resource(r map[string]any) (Resource, error) {
	out := Resource{Deployed: true}
	out.Type, _ = r["type"].(string)
	out.APIVersion, _ = r["apiVersion"].(string)
	if _, ok := r["copy"]; ok {
		return out, fmt.Errorf("copy loops are not supported")
	}
	if c, ok := r["condition"]; ok {
		v, err := e.value(normalize(c))
		if err != nil {
			return out, fmt.Errorf("condition: %v", err)
		}
		b, ok := v.(bool)
		if !ok {
			return out, fmt.Errorf("condition is %v, want a bool", v)
		}
		out.Deployed = b
	}
	var reads []string
	e.reads = &reads
	defer func() { e.reads = nil }()
	name, err := e.value(normalize(r["name"]))
	if err != nil {
		return out, fmt.Errorf("name: %v", err)
	}
	if out.Name, _ = name.(string); out.Name == "" {
		return out, fmt.Errorf("name is %v, want a string", name)
	}
	if s, ok := r["scope"]; ok {
		v, err := e.value(normalize(s))
		if err != nil {
			return out, fmt.Errorf("scope: %v", err)
		}
		out.Scope, _ = v.(string)
	}
	if d, ok := r["dependsOn"].([]any); ok {
		for _, dep := range d {
			v, err := e.value(dep)
			if err != nil {
				return out, fmt.Errorf("dependsOn: %v", err)
			}
			s, _ := v.(string)
			out.DependsOn = append(out.DependsOn, s)
		}
	}
	body := map[string]any{}
	for k, v := range r {
		if templateKeys[k] || k == "name" {
			continue
		}
		ev, err := e.value(normalize(v))
		if err != nil {
			return out, fmt.Errorf("%s: %v", k, err)
		}
		body[k] = ev
	}
	segments := strings.Split(out.Name, "/")
	body["name"] = segments[len(segments)-1]
	out.Body = body
	out.Reads = reads
	return out, nil
}

// eval evaluates a parsed expression.
func (e *evaluator) eval(n node) (any, error) {
	switch n := n.(type) {
	case literal:
		return n.v, nil
	case member:
		x, err := e.eval(n.x)
		if err != nil {
			return nil, err
		}
		switch x := x.(type) {
		case armschema.Opaque:
			return armschema.Opaque{Expr: x.Expr + "." + n.name}, nil
		case map[string]any:
			for k, v := range x {
				if strings.EqualFold(k, n.name) {
					return v, nil
				}
			}
			return nil, fmt.Errorf("the object has no property %s", n.name)
		}
		return nil, fmt.Errorf(".%s of %v, which is not an object", n.name, x)
	case index:
		x, err := e.eval(n.x)
		if err != nil {
			return nil, err
		}
		i, err := e.eval(n.i)
		if err != nil {
			return nil, err
		}
		switch x := x.(type) {
		case armschema.Opaque:
			return armschema.Opaque{Expr: fmt.Sprintf("%s[%v]", x.Expr, i)}, nil
		case []any:
			k, ok := i.(int64)
			if !ok || k < 0 || int(k) >= len(x) {
				return nil, fmt.Errorf("index %v out of range of %d", i, len(x))
			}
			return x[k], nil
		case map[string]any:
			k, ok := i.(string)
			if !ok {
				return nil, fmt.Errorf("index %v of an object", i)
			}
			return x[k], nil
		}
		return nil, fmt.Errorf("[%v] of %v", i, x)
	case call:
		return e.call(n)
	}
	return nil, fmt.Errorf("unknown node %T", n)
}

func (e *evaluator) call(c call) (any, error) {
	// if() evaluates only the branch it takes.
	if c.name == "if" {
		if len(c.args) != 3 {
			return nil, fmt.Errorf("if() takes 3 arguments")
		}
		cond, err := e.eval(c.args[0])
		if err != nil {
			return nil, err
		}
		b, ok := cond.(bool)
		if !ok {
			return nil, fmt.Errorf("if() condition is %v, want a bool known before deployment", cond)
		}
		if b {
			return e.eval(c.args[1])
		}
		return e.eval(c.args[2])
	}
	args := make([]any, len(c.args))
	for i, a := range c.args {
		v, err := e.eval(a)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	f, ok := functions[strings.ToLower(c.name)]
	if !ok {
		return nil, fmt.Errorf("function %s() is not supported", c.name)
	}
	if f.arity >= 0 && len(args) != f.arity || f.arity < 0 && len(args) < -f.arity-1 {
		return nil, fmt.Errorf("%s() takes %s arguments, got %d", c.name, arity(f.arity), len(args))
	}
	if !f.opaqueArgs {
		for _, a := range args {
			if o, ok := a.(armschema.Opaque); ok {
				return armschema.Opaque{Expr: c.name + "(… " + o.Expr + " …)"}, nil
			}
		}
	}
	return f.fn(e, args)
}

func arity(n int) string {
	if n >= 0 {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("at least %d", -n-1)
}

type function struct {
	arity      int // n ≥ 0: exactly n; n < 0: at least -n-1
	opaqueArgs bool
	fn         func(e *evaluator, args []any) (any, error)
}

// functions are the template functions the evaluator knows.
var functions map[string]function

func init() {
	str := func(v any) (string, error) {
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%v is not a string", v)
		}
		return s, nil
	}
	strs := func(args []any) ([]string, error) {
		out := make([]string, len(args))
		for i, a := range args {
			s, err := str(a)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	num := func(v any) (int64, error) {
		n, ok := v.(int64)
		if !ok {
			return 0, fmt.Errorf("%v is not an integer", v)
		}
		return n, nil
	}
	compare := func(op func(a, b int64) bool, sop func(a, b string) bool) func(e *evaluator, args []any) (any, error) {
		return func(e *evaluator, args []any) (any, error) {
			if a, ok := args[0].(int64); ok {
				b, err := num(args[1])
				return err == nil && op(a, b), err
			}
			a, err := str(args[0])
			if err != nil {
				return nil, err
			}
			b, err := str(args[1])
			return err == nil && sop(a, b), err
		}
	}
	functions = map[string]function{
		"parameters": {1, false, func(e *evaluator, a []any) (any, error) {
			name, err := str(a[0])
			if err != nil {
				return nil, err
			}
			v, ok := e.params[name]
			if !ok {
				return nil, fmt.Errorf("parameters('%s') is not declared", name)
			}
			return v, nil
		}},
		"variables": {1, false, func(e *evaluator, a []any) (any, error) {
			name, err := str(a[0])
			if err != nil {
				return nil, err
			}
			return e.variable(name)
		}},
		"true":  {0, false, func(*evaluator, []any) (any, error) { return true, nil }},
		"false": {0, false, func(*evaluator, []any) (any, error) { return false, nil }},
		"null":  {0, false, func(*evaluator, []any) (any, error) { return nil, nil }},
		"not": {1, false, func(_ *evaluator, a []any) (any, error) {
			b, ok := a[0].(bool)
			if !ok {
				return nil, fmt.Errorf("not(%v)", a[0])
			}
			return !b, nil
		}},
		"and": {-3, false, func(_ *evaluator, a []any) (any, error) {
			for _, x := range a {
				b, ok := x.(bool)
				if !ok {
					return nil, fmt.Errorf("and(%v)", x)
				}
				if !b {
					return false, nil
				}
			}
			return true, nil
		}},
		"or": {-3, false, func(_ *evaluator, a []any) (any, error) {
			for _, x := range a {
				b, ok := x.(bool)
				if !ok {
					return nil, fmt.Errorf("or(%v)", x)
				}
				if b {
					return true, nil
				}
			}
			return false, nil
		}},
		"equals":          {2, false, func(_ *evaluator, a []any) (any, error) { return equal(a[0], a[1]), nil }},
		"greater":         {2, false, compare(func(a, b int64) bool { return a > b }, func(a, b string) bool { return a > b })},
		"greaterorequals": {2, false, compare(func(a, b int64) bool { return a >= b }, func(a, b string) bool { return a >= b })},
		"less":            {2, false, compare(func(a, b int64) bool { return a < b }, func(a, b string) bool { return a < b })},
		"lessorequals":    {2, false, compare(func(a, b int64) bool { return a <= b }, func(a, b string) bool { return a <= b })},
		"empty": {1, false, func(_ *evaluator, a []any) (any, error) {
			switch x := a[0].(type) {
			case nil:
				return true, nil
			case string:
				return x == "", nil
			case []any:
				return len(x) == 0, nil
			case map[string]any:
				return len(x) == 0, nil
			}
			return nil, fmt.Errorf("empty(%v)", a[0])
		}},
		"length": {1, false, func(_ *evaluator, a []any) (any, error) {
			switch x := a[0].(type) {
			case string:
				return int64(len([]rune(x))), nil
			case []any:
				return int64(len(x)), nil
			case map[string]any:
				return int64(len(x)), nil
			}
			return nil, fmt.Errorf("length(%v)", a[0])
		}},
		"div": {2, false, func(_ *evaluator, a []any) (any, error) {
			x, err := num(a[0])
			if err != nil {
				return nil, err
			}
			y, err := num(a[1])
			if err != nil {
				return nil, err
			}
			if y == 0 {
				return nil, fmt.Errorf("div by zero")
			}
			return x / y, nil
		}},
		"createarray": {-1, true, func(_ *evaluator, a []any) (any, error) { return append([]any{}, a...), nil }},
		"createobject": {-1, true, func(_ *evaluator, a []any) (any, error) {
			if len(a)%2 != 0 {
				return nil, fmt.Errorf("createObject() takes name/value pairs")
			}
			out := map[string]any{}
			for i := 0; i < len(a); i += 2 {
				k, err := str(a[i])
				if err != nil {
					return nil, err
				}
				out[k] = a[i+1]
			}
			return out, nil
		}},
		"concat": {-1, true, func(_ *evaluator, a []any) (any, error) {
			if len(a) > 0 {
				if _, ok := a[0].([]any); ok {
					var out []any
					for _, x := range a {
						arr, ok := x.([]any)
						if !ok {
							return nil, fmt.Errorf("concat() mixes arrays with %v", x)
						}
						out = append(out, arr...)
					}
					if out == nil {
						out = []any{}
					}
					return out, nil
				}
			}
			var b strings.Builder
			for _, x := range a {
				if o, ok := x.(armschema.Opaque); ok {
					return armschema.Opaque{Expr: "concat(… " + o.Expr + " …)"}, nil
				}
				s, err := str(x)
				if err != nil {
					return nil, err
				}
				b.WriteString(s)
			}
			return b.String(), nil
		}},
		"union": {-2, false, func(_ *evaluator, a []any) (any, error) {
			out := map[string]any{}
			for _, x := range a {
				m, ok := x.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("union() of %v", x)
				}
				for k, v := range m {
					out[k] = v
				}
			}
			return out, nil
		}},
		"format": {-2, false, func(_ *evaluator, a []any) (any, error) {
			f, err := str(a[0])
			if err != nil {
				return nil, err
			}
			var b strings.Builder
			for i := 0; i < len(f); i++ {
				if f[i] != '{' {
					b.WriteByte(f[i])
					continue
				}
				end := strings.IndexByte(f[i:], '}')
				if end < 0 {
					return nil, fmt.Errorf("format(%q): unclosed {", f)
				}
				var k int
				if _, err := fmt.Sscanf(f[i+1:i+end], "%d", &k); err != nil || k+1 >= len(a) {
					return nil, fmt.Errorf("format(%q): {%s} has no argument", f, f[i+1:i+end])
				}
				fmt.Fprint(&b, a[k+1])
				i += end
			}
			return b.String(), nil
		}},
		"tolower": {1, false, func(_ *evaluator, a []any) (any, error) {
			s, err := str(a[0])
			return strings.ToLower(s), err
		}},
		"toupper": {1, false, func(_ *evaluator, a []any) (any, error) {
			s, err := str(a[0])
			return strings.ToUpper(s), err
		}},
		"string": {1, false, func(_ *evaluator, a []any) (any, error) {
			if s, ok := a[0].(string); ok {
				return s, nil
			}
			b, err := json.Marshal(a[0])
			return string(b), err
		}},
		"uniquestring": {-2, false, func(_ *evaluator, a []any) (any, error) {
			s, err := strs(a)
			if err != nil {
				return nil, err
			}
			sum := sha256.Sum256([]byte(strings.Join(s, "-")))
			enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:])
			return strings.ToLower(enc[:13]), nil
		}},
		"guid": {-2, false, func(_ *evaluator, a []any) (any, error) {
			s, err := strs(a)
			if err != nil {
				return nil, err
			}
			h := sha256.Sum256([]byte(strings.Join(s, "-")))
			h[6] = h[6]&0x0f | 0x50
			h[8] = h[8]&0x3f | 0x80
			return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16]), nil
		}},
		"resourcegroup": {0, false, func(e *evaluator, _ []any) (any, error) {
			return map[string]any{
				"id":       "/subscriptions/" + e.ctx.SubscriptionID + "/resourceGroups/" + e.ctx.ResourceGroup,
				"name":     e.ctx.ResourceGroup,
				"location": e.ctx.Location,
				"type":     "Microsoft.Resources/resourceGroups",
			}, nil
		}},
		"subscription": {0, false, func(e *evaluator, _ []any) (any, error) {
			return map[string]any{
				"id":             "/subscriptions/" + e.ctx.SubscriptionID,
				"subscriptionId": e.ctx.SubscriptionID,
				"tenantId":       e.ctx.TenantID,
			}, nil
		}},
		"environment": {0, false, func(*evaluator, []any) (any, error) {
			return map[string]any{
				"name":           "AzureCloud",
				"suffixes":       map[string]any{"storage": "core.windows.net"},
				"authentication": map[string]any{"loginEndpoint": "https://login.microsoftonline.com/"},
			}, nil
		}},
		"resourceid": {-3, false, func(e *evaluator, a []any) (any, error) {
			s, err := strs(a)
			if err != nil {
				return nil, err
			}
			return resourceID(e.ctx, s[0], s[1:]), nil
		}},
		"subscriptionresourceid": {-3, false, func(e *evaluator, a []any) (any, error) {
			s, err := strs(a)
			if err != nil {
				return nil, err
			}
			return "/subscriptions/" + e.ctx.SubscriptionID + "/providers/" + nest(s[0], s[1:]), nil
		}},
		"reference": {-2, false, func(e *evaluator, a []any) (any, error) {
			id, err := str(a[0])
			if err != nil {
				return nil, err
			}
			e.read(id)
			return armschema.Opaque{Expr: "reference(" + id + ")"}, nil
		}},
		"listkeys": {2, false, func(e *evaluator, a []any) (any, error) {
			id, err := str(a[0])
			if err != nil {
				return nil, err
			}
			e.read(id)
			return armschema.Opaque{Expr: "listKeys(" + id + ")"}, nil
		}},
	}
}

func (e *evaluator) read(id string) {
	if e.reads != nil {
		*e.reads = append(*e.reads, id)
	}
}

// nest writes a type and its names the way resource IDs do:
// A/b/c with n1, n2 is A/b/n1/c/n2.
func nest(typ string, names []string) string {
	parts := strings.Split(typ, "/")
	out := []string{parts[0]}
	for i, p := range parts[1:] {
		out = append(out, p)
		if i < len(names) {
			out = append(out, names[i])
		}
	}
	return strings.Join(out, "/")
}

func resourceID(ctx Context, typ string, names []string) string {
	return "/subscriptions/" + ctx.SubscriptionID + "/resourceGroups/" + ctx.ResourceGroup + "/providers/" + nest(typ, names)
}

// extensionID is the ID of an extension resource (a role assignment) on the
// resource named by scope, which a template writes relative to the resource
// group ("Namespace/type/name/...").
func extensionID(ctx Context, scope, typ, name string) string {
	base := scope
	if !strings.HasPrefix(scope, "/") {
		base = "/subscriptions/" + ctx.SubscriptionID + "/resourceGroups/" + ctx.ResourceGroup + "/providers/" + scope
	}
	return base + "/providers/" + typ + "/" + name
}

func equal(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
