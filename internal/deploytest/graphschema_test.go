package deploytest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// This file checks every Graph request register-entra.sh makes (in its dry-run
// plans and as recorded by the fake Graph) against Microsoft Graph's own
// schema, the v1.0 CSDL: the path resolves through entity sets, singletons,
// navigation properties and casts; POST goes to a collection, PATCH to an
// entity, PUT and DELETE to a $ref; each property is declared on the type or a
// base type (open types are treated as closed, so a typo is caught);
// @odata.type names a type that derives from the declared one and is not
// abstract; primitive and enum values have the declared type; null is only
// where the schema allows it, and a complex value carries its non-nullable
// properties. graphRules adds what the schema cannot say, each with its
// source, and betaAllowed lists the only requests that may go to beta.
//
// The schema is testdata/graph-v1.0.csdl, trimmed from the full CSDL by
// TestTrimGraphSchema with a header naming source, commit and sha256, so a
// fresh clone tests without ../shared. Regenerate it with
//   go test ./internal/deploytest/ -run TestTrimGraphSchema -graph-csdl ../shared/spec/graph/v1.0-Prod.csdl

var graphCSDL = flag.String("graph-csdl", "", "regenerate testdata/graph-v1.0.csdl from this full Graph v1.0 CSDL")

// The full CSDL the trimmed one comes from (shared/spec/README.md).
const (
	csdlSource  = "microsoftgraph/msgraph-metadata, schemas/v1.0-Prod.csdl"
	csdlCommit  = "f54f11b60956ea7b185ca0447b2b80805836ec7b"
	csdlSHA256  = "a9d32d3611746c96043229a98867be064fb782c801b3405bce00c224ea3f6a03"
	trimmedCSDL = "testdata/graph-v1.0.csdl"
)

// csdlRoots are the types the registration's requests name; the trimmed
// schema keeps them, their base types and the types of their properties.
var csdlRoots = []string{
	"application", "servicePrincipal", "appRoleAssignment", "identityContainer",
	"customAuthenticationExtension", "onAttributeCollectionStartCustomExtension", "onAttributeCollectionSubmitCustomExtension",
	"httpRequestEndpoint", "azureAdTokenAuthentication",
	"authenticationEventsFlow", "externalUsersSelfServiceSignUpEventsFlow",
	"onAttributeCollectionStartCustomExtensionHandler", "onAttributeCollectionSubmitCustomExtensionHandler",
	"onAttributeCollectionExternalUsersSelfServiceSignUp",
}

// The CSDL elements and attributes the checks read.
type (
	csdlDoc struct {
		XMLName xml.Name     `xml:"Edmx"`
		Version string       `xml:"Version,attr"`
		Schemas []csdlSchema `xml:"DataServices>Schema"`
	}
	csdlSchema struct {
		Namespace    string          `xml:"Namespace,attr"`
		Alias        string          `xml:"Alias,attr,omitempty"`
		EnumTypes    []csdlEnum      `xml:"EnumType"`
		ComplexTypes []csdlType      `xml:"ComplexType"`
		EntityTypes  []csdlType      `xml:"EntityType"`
		Containers   []csdlContainer `xml:"EntityContainer"`
	}
	csdlType struct {
		Name       string     `xml:"Name,attr"`
		BaseType   string     `xml:"BaseType,attr,omitempty"`
		Abstract   string     `xml:"Abstract,attr,omitempty"`
		OpenType   string     `xml:"OpenType,attr,omitempty"`
		Properties []csdlProp `xml:"Property"`
		NavProps   []csdlProp `xml:"NavigationProperty"`
	}
	csdlProp struct {
		Name           string `xml:"Name,attr"`
		Type           string `xml:"Type,attr"`
		Nullable       string `xml:"Nullable,attr,omitempty"`
		ContainsTarget string `xml:"ContainsTarget,attr,omitempty"`
	}
	csdlEnum struct {
		Name    string `xml:"Name,attr"`
		IsFlags string `xml:"IsFlags,attr,omitempty"`
		Members []struct {
			Name  string `xml:"Name,attr"`
			Value string `xml:"Value,attr"`
		} `xml:"Member"`
	}
	csdlContainer struct {
		Name       string `xml:"Name,attr"`
		EntitySets []struct {
			Name       string `xml:"Name,attr"`
			EntityType string `xml:"EntityType,attr"`
		} `xml:"EntitySet"`
		Singletons []struct {
			Name string `xml:"Name,attr"`
			Type string `xml:"Type,attr"`
		} `xml:"Singleton"`
	}
)

// graphSchema is a CSDL indexed by qualified name (microsoft.graph.application).
type graphSchema struct {
	types      map[string]*schemaType
	enums      map[string]csdlEnum
	sets       map[string]string // entity set: its entity type
	singletons map[string]string
}

type schemaType struct {
	csdlType
	qname    string
	base     string
	entity   bool
	abstract bool
}

func parseCSDL(raw []byte) (*csdlDoc, error) {
	var doc csdlDoc
	if err := xml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	return &doc, nil
}

// qualify turns graph.x (an alias) into microsoft.graph.x.
func (d *csdlDoc) qualify(name string) string {
	for _, s := range d.Schemas {
		if s.Alias != "" && strings.HasPrefix(name, s.Alias+".") {
			return s.Namespace + "." + strings.TrimPrefix(name, s.Alias+".")
		}
	}
	return name
}

func newGraphSchema(doc *csdlDoc) *graphSchema {
	g := &graphSchema{types: map[string]*schemaType{}, enums: map[string]csdlEnum{},
		sets: map[string]string{}, singletons: map[string]string{}}
	fix := func(t csdlType) csdlType {
		t.Properties = slices.Clone(t.Properties)
		t.NavProps = slices.Clone(t.NavProps)
		for i := range t.Properties {
			t.Properties[i].Type = doc.qualifyType(t.Properties[i].Type)
		}
		for i := range t.NavProps {
			t.NavProps[i].Type = doc.qualifyType(t.NavProps[i].Type)
		}
		return t
	}
	for _, s := range doc.Schemas {
		for _, e := range s.EnumTypes {
			g.enums[s.Namespace+"."+e.Name] = e
		}
		for i, list := range [][]csdlType{s.ComplexTypes, s.EntityTypes} {
			for _, t := range list {
				st := &schemaType{csdlType: fix(t), qname: s.Namespace + "." + t.Name, entity: i == 1, abstract: t.Abstract == "true"}
				if t.BaseType != "" {
					st.base = doc.qualify(t.BaseType)
				}
				g.types[st.qname] = st
			}
		}
		for _, c := range s.Containers {
			for _, es := range c.EntitySets {
				g.sets[es.Name] = doc.qualify(es.EntityType)
			}
			for _, sg := range c.Singletons {
				g.singletons[sg.Name] = doc.qualify(sg.Type)
			}
		}
	}
	return g
}

func (d *csdlDoc) qualifyType(t string) string {
	if inner, ok := strings.CutPrefix(t, "Collection("); ok {
		return "Collection(" + d.qualify(strings.TrimSuffix(inner, ")")) + ")"
	}
	return d.qualify(t)
}

// derives tells whether type t is base or derives from it.
func (g *graphSchema) derives(t, base string) bool {
	for seen := 0; t != "" && seen < 50; seen++ {
		if t == base {
			return true
		}
		st, ok := g.types[t]
		if !ok {
			return false
		}
		t = st.base
	}
	return false
}

// member finds a structural (nav false) or navigation property of t or a base type.
func (g *graphSchema) member(t, name string) (csdlProp, bool, bool) {
	for seen := 0; t != "" && seen < 50; seen++ {
		st, ok := g.types[t]
		if !ok {
			break
		}
		for _, p := range st.Properties {
			if p.Name == name {
				return p, false, true
			}
		}
		for _, p := range st.NavProps {
			if p.Name == name {
				return p, true, true
			}
		}
		t = st.base
	}
	return csdlProp{}, false, false
}

func short(t string) string { return strings.TrimPrefix(t, "microsoft.graph.") }

// target is what a request path resolves to.
type target struct {
	typ        string
	collection bool
	entity     bool // an entity (or entity collection), not a complex value
	nav        bool // reached through a navigation property (so $ref may follow)
	ref        bool // the path ends in $ref
}

// resolve follows a path (after the version) through the schema.
func (g *graphSchema) resolve(path string) (target, error) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var cur target
	switch {
	case g.sets[segs[0]] != "":
		cur = target{typ: g.sets[segs[0]], collection: true, entity: true}
	case g.singletons[segs[0]] != "":
		cur = target{typ: g.singletons[segs[0]], entity: true}
	default:
		return cur, fmt.Errorf("%q is not an entity set or singleton of Graph v1.0", segs[0])
	}
	for i, seg := range segs[1:] {
		switch {
		case seg == "":
			return cur, errors.New("empty path segment")
		case seg == "$ref":
			if !cur.nav || i != len(segs)-2 {
				return cur, errors.New("$ref must follow a navigation property, at the end")
			}
			cur.ref = true
		case strings.HasPrefix(seg, "microsoft.graph."):
			if _, ok := g.types[seg]; !ok {
				return cur, fmt.Errorf("cast to unknown type %s", seg)
			}
			if !g.derives(seg, cur.typ) {
				return cur, fmt.Errorf("cast %s does not derive from %s", short(seg), short(cur.typ))
			}
			cur.typ = seg
		case cur.collection:
			cur = target{typ: cur.typ, entity: cur.entity} // a key
		default:
			p, isNav, ok := g.member(cur.typ, seg)
			if !ok {
				return cur, fmt.Errorf("%s has no property %q", short(cur.typ), seg)
			}
			elem, coll := strings.CutPrefix(p.Type, "Collection(")
			elem = strings.TrimSuffix(elem, ")")
			st, ok := g.types[elem]
			if !ok {
				return cur, fmt.Errorf("%s.%s is of type %s, which a path cannot go into", short(cur.typ), seg, elem)
			}
			cur = target{typ: elem, collection: coll, entity: st.entity, nav: isNav}
		}
	}
	return cur, nil
}

var (
	guidRe        = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	placeholderRe = regexp.MustCompile(`^<[A-Za-z]+>$`)
)

// checker validates requests against a schema.
type checker struct {
	g            *graphSchema
	placeholders bool // dry-run plans: <name> may stand for a GUID
	errs         []string
}

func (c *checker) errorf(at, format string, args ...any) {
	c.errs = append(c.errs, at+": "+fmt.Sprintf(format, args...))
}

// value checks v against a declared type ("Edm.Int32", "Collection(...)", a complex or entity type).
func (c *checker) value(at, typ string, nullable bool, v any) {
	if elem, ok := strings.CutPrefix(typ, "Collection("); ok {
		arr, ok := v.([]any)
		if !ok {
			c.errorf(at, "want a JSON array (%s), got %s", typ, jsonKind(v))
			return
		}
		for i, e := range arr {
			c.value(fmt.Sprintf("%s[%d]", at, i), strings.TrimSuffix(elem, ")"), nullable, e)
		}
		return
	}
	if v == nil {
		if !nullable {
			c.errorf(at, "must not be null (%s, Nullable=false)", short(typ))
		}
		return
	}
	switch typ {
	case "Edm.String", "Edm.DateTimeOffset", "Edm.Binary", "Edm.Stream", "Edm.Duration", "Edm.Date", "Edm.TimeOfDay":
		if _, ok := v.(string); !ok {
			c.errorf(at, "want a string (%s), got %s", typ, jsonKind(v))
		}
	case "Edm.Guid":
		s, ok := v.(string)
		if !ok || !(guidRe.MatchString(s) || c.placeholders && placeholderRe.MatchString(s)) {
			c.errorf(at, "want a GUID (Edm.Guid), got %s", mustJSON(v))
		}
	case "Edm.Boolean":
		if _, ok := v.(bool); !ok {
			c.errorf(at, "want true or false (Edm.Boolean), got %s", jsonKind(v))
		}
	case "Edm.Int32", "Edm.Int64", "Edm.Int16", "Edm.Byte":
		n, ok := v.(float64)
		limit := map[string]float64{"Edm.Int32": math.MaxInt32, "Edm.Int64": math.MaxInt64, "Edm.Int16": math.MaxInt16, "Edm.Byte": 255}[typ]
		if !ok || n != math.Trunc(n) || math.Abs(n) > limit {
			c.errorf(at, "want an integer (%s), got %s", typ, mustJSON(v))
		}
	case "Edm.Double", "Edm.Single", "Edm.Decimal":
		if _, ok := v.(float64); !ok {
			c.errorf(at, "want a number (%s), got %s", typ, jsonKind(v))
		}
	default:
		if e, ok := c.g.enums[typ]; ok {
			s, ok := v.(string)
			names := strings.Split(s, ",")
			if !ok || (e.IsFlags != "true" && len(names) > 1) {
				c.errorf(at, "want a member of %s, got %s", short(typ), mustJSON(v))
				return
			}
			for _, n := range names {
				if !slices.ContainsFunc(e.Members, func(m struct {
					Name  string `xml:"Name,attr"`
					Value string `xml:"Value,attr"`
				}) bool {
					return m.Name == strings.TrimSpace(n)
				}) {
					c.errorf(at, "%q is not a member of %s", n, short(typ))
				}
			}
			return
		}
		obj, ok := v.(map[string]any)
		if !ok {
			c.errorf(at, "want an object (%s), got %s", short(typ), jsonKind(v))
			return
		}
		c.object(at, typ, obj, false)
	}
}

// object checks a complex or entity value whose declared type is typ. An
// entity body may leave out non-nullable properties (Graph fills them in);
// a complex value may not.
func (c *checker) object(at, typ string, obj map[string]any, entityBody bool) {
	if _, ok := c.g.types[typ]; !ok {
		c.errorf(at, "type %s is not in the schema", typ)
		return
	}
	actual := typ
	if odt, ok := obj["@odata.type"]; ok {
		s, _ := odt.(string)
		name := strings.TrimPrefix(s, "#")
		switch {
		case !strings.HasPrefix(s, "#microsoft.graph."):
			c.errorf(at, "@odata.type %s: want #microsoft.graph.<type>", mustJSON(odt))
			return
		case c.g.types[name] == nil:
			c.errorf(at, "@odata.type %s is an unknown type", s)
			return
		case !c.g.derives(name, typ):
			c.errorf(at, "@odata.type %s does not derive from %s", s, short(typ))
			return
		}
		actual = name
	}
	if st := c.g.types[actual]; st.abstract {
		c.errorf(at, "%s is abstract: the value needs an @odata.type of a concrete derived type", short(actual))
		return
	}
	for k, v := range obj {
		if k == "@odata.type" {
			continue
		}
		if strings.Contains(k, "@") {
			c.errorf(at, "annotation %s is not allowed here", k)
			continue
		}
		p, isNav, ok := c.g.member(actual, k)
		if !ok {
			c.errorf(at, "%s is not a property of %s or its base types", k, short(actual))
			continue
		}
		if isNav {
			c.errorf(at+"."+k, "%s is a navigation property: bind it with its $ref, not in the body", k)
			continue
		}
		c.value(at+"."+k, p.Type, p.Nullable != "false", v)
	}
	if entityBody {
		return
	}
	for st := c.g.types[actual]; st != nil; st = c.g.types[st.base] {
		for _, p := range st.Properties {
			if _, ok := obj[p.Name]; !ok && p.Nullable == "false" && !strings.HasPrefix(p.Type, "Collection(") {
				c.errorf(at, "%s is required in %s (Nullable=false)", p.Name, short(actual))
			}
		}
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	}
	return "an object"
}

// betaAllowed are the only requests that may go to beta: the user flow's
// custom extension handlers, attached the way Microsoft documents (the Learn
// module "Validate attributes collected during sign-up" and Woodgrove's
// PreAttributeCollection page: PUT …/customExtension/$ref), read back, and detached.
var betaAllowed = []*regexp.Regexp{
	regexp.MustCompile(`^GET identity/authenticationEventsFlows/[^/]+/microsoft\.graph\.externalUsersSelfServiceSignUpEventsFlow/onAttributeCollection(Start|Submit)/microsoft\.graph\.onAttributeCollection(Start|Submit)CustomExtensionHandler/customExtension$`),
	regexp.MustCompile(`^(PUT|DELETE) identity/authenticationEventsFlows/[^/]+/microsoft\.graph\.externalUsersSelfServiceSignUpEventsFlow/onAttributeCollection(Start|Submit)/microsoft\.graph\.onAttributeCollection(Start|Submit)CustomExtensionHandler/customExtension/\$ref$`),
}

// request checks one request; app is the identifierUris[0] an earlier PATCH
// of the app registration set in the same run ("" if none).
func (c *checker) request(r graphRequest, identifierURI string) {
	at := r.Method + " " + r.URL
	u, err := url.Parse(r.URL)
	if err != nil || u.Scheme != "https" || u.Host != "graph.microsoft.com" {
		c.errorf(at, "not a Microsoft Graph URL")
		return
	}
	version, path, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	switch version {
	case "v1.0":
	case "beta":
		if !slices.ContainsFunc(betaAllowed, func(re *regexp.Regexp) bool { return re.MatchString(r.Method + " " + path) }) {
			c.errorf(at, "beta is allowed only for the requests in betaAllowed")
			return
		}
	default:
		c.errorf(at, "unknown Graph version %q", version)
		return
	}
	tgt, err := c.g.resolve(path)
	if err != nil {
		c.errorf(at, "path: %v", err)
		return
	}
	switch r.Method {
	case "GET":
		if tgt.ref {
			c.errorf(at, "GET of a $ref is not used")
		}
		c.query(at, tgt, u.Query())
	case "POST":
		if !tgt.collection || !tgt.entity || tgt.ref {
			c.errorf(at, "POST must go to an entity collection")
		}
	case "PATCH":
		if tgt.collection || !tgt.entity || tgt.ref {
			c.errorf(at, "PATCH must go to a single entity")
		}
	case "PUT", "DELETE":
		if !tgt.ref || tgt.collection {
			c.errorf(at, "%s is used only on the $ref of a single-valued navigation property", r.Method)
		}
	default:
		c.errorf(at, "method %q", r.Method)
	}
	if (r.Body != "") != (r.Method == "POST" || r.Method == "PATCH" || r.Method == "PUT") {
		c.errorf(at, "a %s with body %q", r.Method, r.Body)
		return
	}
	if r.Body == "" {
		return
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		c.errorf(at, "body is not a JSON object: %v", err)
		return
	}
	if tgt.ref {
		c.reference(at, tgt, body)
		return
	}
	c.object(at, tgt.typ, body, true)
	for _, rule := range graphRules {
		if err := rule.check(tgt.typ, body, identifierURI, c.placeholders); err != nil {
			c.errorf(at, "%v (%s; source: %s)", err, rule.rule, rule.source)
		}
	}
}

// reference checks a $ref body: {"@odata.id": the URL of an entity the navigation property may hold}.
func (c *checker) reference(at string, tgt target, body map[string]any) {
	id, ok := body["@odata.id"].(string)
	if !ok || len(body) != 1 {
		c.errorf(at, `a $ref body is {"@odata.id": "<url>"}, got %s`, mustJSON(body))
		return
	}
	u, err := url.Parse(id)
	if err != nil || u.Host != "graph.microsoft.com" {
		c.errorf(at, "@odata.id %q is not a Graph URL", id)
		return
	}
	_, path, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	ref, err := c.g.resolve(path)
	if err != nil {
		c.errorf(at, "@odata.id: %v", err)
		return
	}
	if ref.collection || !ref.entity || !(c.g.derives(ref.typ, tgt.typ) || c.g.derives(tgt.typ, ref.typ)) {
		c.errorf(at, "@odata.id names a %s, but the navigation property holds a %s", short(ref.typ), short(tgt.typ))
	}
}

var isOfRe = regexp.MustCompile(`isOf\('([^']+)'\)`)

// query checks $select and isOf in $filter against the target's type.
func (c *checker) query(at string, tgt target, q url.Values) {
	if sel := q.Get("$select"); sel != "" {
		for _, name := range strings.Split(sel, ",") {
			if _, _, ok := c.g.member(tgt.typ, name); !ok {
				// $select may name properties of derived types too.
				if !c.anyDerived(tgt.typ, name) {
					c.errorf(at, "$select: %s is not a property of %s", name, short(tgt.typ))
				}
			}
		}
	}
	for _, m := range isOfRe.FindAllStringSubmatch(q.Get("$filter"), -1) {
		if c.g.types[m[1]] == nil || !c.g.derives(m[1], tgt.typ) {
			c.errorf(at, "$filter isOf(%s): not a type derived from %s", m[1], short(tgt.typ))
		}
	}
}

func (c *checker) anyDerived(base, name string) bool {
	for t := range c.g.types {
		if t != base && c.g.derives(t, base) {
			if _, _, ok := c.g.member(t, name); ok {
				return true
			}
		}
	}
	return false
}

// graphRule is a documented rule the schema cannot express.
type graphRule struct {
	rule, source string
	check        func(typ string, body map[string]any, identifierURI string, placeholders bool) error
}

// get reads a nested value: get(body, "a", "b") is body.a.b.
func get(v any, keys ...string) (any, bool) {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

var graphRules = []graphRule{
	{
		rule:   "clientConfiguration.timeoutInMilliseconds is 200 to 2000",
		source: "https://learn.microsoft.com/graph/api/resources/customextensionclientconfiguration",
		check: func(_ string, body map[string]any, _ string, _ bool) error {
			if v, ok := get(body, "clientConfiguration", "timeoutInMilliseconds"); ok && v != nil {
				if n, _ := v.(float64); n < 200 || n > 2000 {
					return fmt.Errorf("timeoutInMilliseconds %v is out of range", v)
				}
			}
			return nil
		},
	},
	{
		rule:   "clientConfiguration.maximumRetries is 0 or 1",
		source: "https://learn.microsoft.com/graph/api/resources/customextensionclientconfiguration",
		check: func(_ string, body map[string]any, _ string, _ bool) error {
			if v, ok := get(body, "clientConfiguration", "maximumRetries"); ok && v != nil && v != 0.0 && v != 1.0 {
				return fmt.Errorf("maximumRetries %v", v)
			}
			return nil
		},
	},
	{
		rule:   "endpointConfiguration.targetUrl is an https URL",
		source: "https://learn.microsoft.com/entra/identity-platform/custom-extension-troubleshoot (1003020)",
		check: func(_ string, body map[string]any, _ string, _ bool) error {
			if v, ok := get(body, "endpointConfiguration", "targetUrl"); ok {
				if u, err := url.Parse(fmt.Sprint(v)); err != nil || u.Scheme != "https" || u.Host == "" {
					return fmt.Errorf("targetUrl %v", v)
				}
			}
			return nil
		},
	},
	{
		rule:   "authenticationConfiguration.resourceId is api://{the targetUrl's host}/{appId}",
		source: "https://learn.microsoft.com/entra/identity-platform/custom-extension-troubleshoot (1003014, 1003015)",
		check: func(_ string, body map[string]any, _ string, placeholders bool) error {
			rid, ok := get(body, "authenticationConfiguration", "resourceId")
			target, ok2 := get(body, "endpointConfiguration", "targetUrl")
			if !ok || !ok2 {
				return nil
			}
			tu, _ := url.Parse(fmt.Sprint(target))
			host, appID, _ := strings.Cut(strings.TrimPrefix(fmt.Sprint(rid), "api://"), "/")
			if !strings.HasPrefix(fmt.Sprint(rid), "api://") || tu == nil || host != tu.Host ||
				!(guidRe.MatchString(appID) || placeholders && placeholderRe.MatchString(appID)) {
				return fmt.Errorf("resourceId %v with targetUrl %v", rid, target)
			}
			return nil
		},
	},
	{
		rule:   "authenticationConfiguration.resourceId is the app registration's identifierUris[0]",
		source: "https://learn.microsoft.com/entra/identity-platform/custom-extension-troubleshoot (1003014); docs/deploy.md",
		check: func(_ string, body map[string]any, identifierURI string, _ bool) error {
			if rid, ok := get(body, "authenticationConfiguration", "resourceId"); ok && identifierURI != "" && rid != identifierURI {
				return fmt.Errorf("resourceId %v, identifierUris[0] %s", rid, identifierURI)
			}
			return nil
		},
	},
	{
		rule:   "identifierUris[0] has the form api://{host}/{appId}",
		source: "https://learn.microsoft.com/entra/identity-platform/custom-extension-troubleshoot (1003014)",
		check: func(typ string, body map[string]any, _ string, placeholders bool) error {
			uris, ok := body["identifierUris"].([]any)
			if typ != "microsoft.graph.application" || !ok {
				return nil
			}
			if len(uris) == 0 {
				return errors.New("identifierUris is empty")
			}
			first, _ := uris[0].(string)
			host, appID, _ := strings.Cut(strings.TrimPrefix(first, "api://"), "/")
			if !strings.HasPrefix(first, "api://") || !strings.Contains(host, ".") ||
				!(guidRe.MatchString(appID) || placeholders && placeholderRe.MatchString(appID)) {
				return fmt.Errorf("identifierUris %v", uris)
			}
			return nil
		},
	},
}

var (
	loadSchemaOnce sync.Once
	loadedSchema   *graphSchema
	loadSchemaErr  error
)

// trimmedSchema loads testdata/graph-v1.0.csdl.
func trimmedSchema(t *testing.T) *graphSchema {
	t.Helper()
	loadSchemaOnce.Do(func() {
		raw, err := os.ReadFile(trimmedCSDL)
		if err != nil {
			loadSchemaErr = err
			return
		}
		doc, err := parseCSDL(raw)
		if err != nil {
			loadSchemaErr = err
			return
		}
		loadedSchema = newGraphSchema(doc)
	})
	if loadSchemaErr != nil {
		t.Fatalf("%s: %v (regenerate it: see graphschema_test.go)", trimmedCSDL, loadSchemaErr)
	}
	return loadedSchema
}

// checkRequests validates requests in order and returns the errors.
func checkRequests(g *graphSchema, reqs []graphRequest, placeholders bool) []string {
	c := &checker{g: g, placeholders: placeholders}
	var identifierURI string
	for _, r := range reqs {
		c.request(r, identifierURI)
		if strings.Contains(r.URL, "/applications/") && r.Method == "PATCH" {
			var body map[string]any
			if json.Unmarshal([]byte(r.Body), &body) == nil {
				if uris, ok := body["identifierUris"].([]any); ok && len(uris) > 0 {
					identifierURI, _ = uris[0].(string)
				}
			}
		}
	}
	return c.errs
}

// checkGraphRequests fails the test for each request (as the fake Graph
// recorded it) that does not match Graph's schema and rules.
func checkGraphRequests(t *testing.T, reqs []graphRequest) {
	t.Helper()
	if len(reqs) == 0 {
		t.Error("no Graph requests to check")
	}
	for _, e := range checkRequests(trimmedSchema(t), reqs, false) {
		t.Error(e)
	}
}

// TestGraphPlansMatchSchema: every Graph request of the dry-run plans matches
// the schema (placeholders may stand for GUIDs).
func TestGraphPlansMatchSchema(t *testing.T) {
	for _, name := range []string{"register-entra", "register-entra-no-flow", "register-entra-detach"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		reqs := planRequests(t, string(raw))
		if len(reqs) < 3 {
			t.Fatalf("%s: only %d Graph requests", name, len(reqs))
		}
		for _, e := range checkRequests(trimmedSchema(t), reqs, true) {
			t.Errorf("%s: %s", name, e)
		}
	}
}

// TestGraphCheckerCatchesMutations: each checker fails on a request that is
// wrong in one way, so that a check that cannot fail does not pass for one.
func TestGraphCheckerCatchesMutations(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "register-entra.golden"))
	if err != nil {
		t.Fatal(err)
	}
	plan := planRequests(t, string(raw))
	g := trimmedSchema(t)
	if errs := checkRequests(g, plan, true); len(errs) != 0 {
		t.Fatalf("the plan itself fails: %v", errs)
	}
	find := func(method, pathPart string) int {
		i := slices.IndexFunc(plan, func(r graphRequest) bool { return r.Method == method && strings.Contains(r.URL, pathPart) })
		if i < 0 {
			t.Fatalf("no %s %s in the plan", method, pathPart)
		}
		return i
	}
	const ext, app, flow = "/identity/customAuthenticationExtensions", "/v1.0/applications/", "/identity/authenticationEventsFlows/"
	tests := []struct {
		name           string
		method, inPath string // the request to mutate
		old, new       string // in its URL and body
		want           string
	}{
		{"misspelt property", "POST", ext, `"displayName"`, `"displayNme"`, "displayNme is not a property of onAttributeCollectionStartCustomExtension"},
		{"property of another type", "POST", ext, `"maximumRetries":1`, `"maximumRetries":1,"isEnabled":true`, "isEnabled is not a property of customExtensionClientConfiguration"},
		{"wrong @odata.type", "POST", ext, `#microsoft.graph.onAttributeCollectionStartCustomExtension"`, `#microsoft.graph.onAttributeCollectionStartCustomExtensionHandler"`, "does not derive from customAuthenticationExtension"},
		{"unknown @odata.type", "POST", ext, `#microsoft.graph.onAttributeCollectionStartCustomExtension"`, `#microsoft.graph.onAttributeCollectionStartCustomExtensions"`, "is an unknown type"},
		{"missing derived type", "POST", ext, `"@odata.type":"#microsoft.graph.onAttributeCollectionStartCustomExtension",`, ``, "customAuthenticationExtension is abstract"},
		{"missing derived type, nested", "POST", ext, `"@odata.type":"#microsoft.graph.httpRequestEndpoint",`, ``, "customExtensionEndpointConfiguration is abstract"},
		{"nested @odata.type of another branch", "POST", ext, `#microsoft.graph.httpRequestEndpoint"`, `#microsoft.graph.azureAdTokenAuthentication"`, "does not derive from customExtensionEndpointConfiguration"},
		{"timeout out of range", "POST", ext, `"timeoutInMilliseconds":1000`, `"timeoutInMilliseconds":2500`, "timeoutInMilliseconds 2500 is out of range"},
		{"timeout below range", "PATCH", ext, `"timeoutInMilliseconds":1000`, `"timeoutInMilliseconds":150`, "timeoutInMilliseconds 150 is out of range"},
		{"maximumRetries out of range", "POST", ext, `"maximumRetries":1`, `"maximumRetries":2`, "maximumRetries 2"},
		{"wrong primitive type", "POST", ext, `"timeoutInMilliseconds":1000`, `"timeoutInMilliseconds":"1000"`, "want an integer (Edm.Int32)"},
		{"integer that is not one", "POST", ext, `"timeoutInMilliseconds":1000`, `"timeoutInMilliseconds":1000.5`, "want an integer (Edm.Int32)"},
		{"resourceId on another host", "POST", ext, `"resourceId":"api://` + host, `"resourceId":"api://other.example.net`, "resourceId is api://{the targetUrl's host}/{appId}"},
		{"targetUrl not https", "POST", ext, `"targetUrl":"https://`, `"targetUrl":"http://`, "targetUrl is an https URL"},
		{"misspelt path", "POST", ext, `/identity/customAuthenticationExtensions`, `/identity/customAuthenticationExtension`, `identityContainer has no property "customAuthenticationExtension"`},
		{"misspelt entity set", "PATCH", app, `/v1.0/applications/`, `/v1.0/application/`, `"application" is not an entity set or singleton`},
		{"POST to an entity", "POST", ext, ext, ext + "/x", "POST must go to an entity collection"},
		{"PATCH to a collection", "PATCH", app, "/applications/<objectId>", "/applications", "PATCH must go to a single entity"},
		{"cast that does not derive", "PUT", "onAttributeCollectionStart/", "microsoft.graph.onAttributeCollectionStartCustomExtensionHandler", "microsoft.graph.onAttributeCollectionSubmitCustomExtensionHandler", "does not derive from onAttributeCollectionStartHandler"},
		{"$ref to the wrong kind of entity", "PUT", "onAttributeCollectionStart/", "identity/customAuthenticationExtensions/", "identity/authenticationEventsFlows/", "@odata.id names a authenticationEventsFlow"},
		{"beta off the list", "POST", ext, "/v1.0/identity/", "/beta/identity/", "beta is allowed only"},
		{"non-nullable missing", "PATCH", app, `{"id":"214e810f-fda8-4fd7-a475-29461495eb00",`, `{`, "id is required in resourceAccess"},
		{"not a GUID", "POST", "appRoleAssignments", `"appRoleId":"214e810f-fda8-4fd7-a475-29461495eb00"`, `"appRoleId":"CustomAuthenticationExtension.Receive.Payload"`, "want a GUID"},
		{"not an array", "PATCH", app, `"identifierUris":["api://` + host + `/<appId>"]`, `"identifierUris":"api://` + host + `/<appId>"`, "want a JSON array"},
		{"identifier URI of the wrong form", "PATCH", app, `"identifierUris":["api://` + host + `/<appId>"]`, `"identifierUris":["https://` + host + `/<appId>"]`, "identifierUris[0] has the form"},
		{"resourceId not identifierUris[0]", "PATCH", app, `"identifierUris":["api://` + host + `/<appId>"]`, `"identifierUris":["api://` + host + `/<otherAppId>"]`, "resourceId is the app registration's identifierUris[0]"},
		{"enum value that is not a member", "PATCH", flow, `"inputType":"text"`, `"inputType":"textbox"`, `"textbox" is not a member of authenticationAttributeCollectionInputType`},
		{"null where not nullable", "PATCH", flow, `"label":"Email Address"`, `"label":null`, "must not be null"},
		{"misspelt $select", "GET", app, `identifierUris,`, `identifierUri,`, "$select: identifierUri is not a property of application"},
		{"isOf a type of another set", "GET", ext, `isOf('microsoft.graph.onAttributeCollectionStartCustomExtension')`, `isOf('microsoft.graph.onAttributeCollectionStartCustomExtensionHandler')`, "not a type derived from customAuthenticationExtension"},
		{"a navigation property in a body", "PATCH", flow, `"onAttributeCollection":`, `"onAttributeCollectionStart":{"@odata.type":"#microsoft.graph.onAttributeCollectionStartCustomExtensionHandler","customExtension":{"id":"x"}},"onAttributeCollection":`, "customExtension is a navigation property"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := find(tt.method, tt.inPath)
			mutated := slices.Clone(plan)
			r := mutated[i]
			if strings.Contains(r.URL, tt.old) {
				r.URL = strings.Replace(r.URL, tt.old, tt.new, 1)
			} else { // in the query string, as sent
				r.URL = strings.Replace(r.URL, url.QueryEscape(tt.old), url.QueryEscape(tt.new), 1)
			}
			r.Body = strings.Replace(r.Body, tt.old, tt.new, 1)
			if r == plan[i] {
				t.Fatalf("%q is not in %s %s", tt.old, r.Method, r.URL)
			}
			mutated[i] = r
			errs := checkRequests(g, mutated, true)
			if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tt.want) }) {
				t.Errorf("want an error with %q, got %q", tt.want, errs)
			}
		})
	}
}

// TestTrimGraphSchema keeps testdata/graph-v1.0.csdl what it says it is:
// with -graph-csdl it writes it from the full CSDL (checking its sha256); with
// ../shared/spec beside the repo it checks that the file is what the full
// CSDL gives; and it always checks the header and that every root type is in.
func TestTrimGraphSchema(t *testing.T) {
	full := *graphCSDL
	if full == "" {
		full = filepath.Join(repoRoot(t), "..", "shared", "spec", "graph", "v1.0-Prod.csdl")
	}
	raw, err := os.ReadFile(full)
	switch {
	case err == nil:
		sum := sha256.Sum256(raw)
		if got := hex.EncodeToString(sum[:]); got != csdlSHA256 {
			t.Fatalf("%s has sha256 %s, want %s (update csdlCommit and csdlSHA256 with the new source)", full, got, csdlSHA256)
		}
		trimmed, err := trimCSDL(raw)
		if err != nil {
			t.Fatal(err)
		}
		if *graphCSDL != "" {
			if err := os.WriteFile(trimmedCSDL, trimmed, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if have, err := os.ReadFile(trimmedCSDL); err != nil || string(have) != string(trimmed) {
			t.Errorf("%s is not what %s trims to: regenerate it with -graph-csdl (%v)", trimmedCSDL, full, err)
		}
	case *graphCSDL != "":
		t.Fatal(err)
	default:
		t.Logf("no full CSDL at %s: checked only the trimmed copy", full)
	}
	have, err := os.ReadFile(trimmedCSDL)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{csdlSource, csdlCommit, csdlSHA256} {
		if !strings.Contains(string(have), want) {
			t.Errorf("%s header lacks %s", trimmedCSDL, want)
		}
	}
	g := trimmedSchema(t)
	for _, root := range csdlRoots {
		if g.types["microsoft.graph."+root] == nil {
			t.Errorf("%s lacks %s", trimmedCSDL, root)
		}
	}
}

// trimCSDL keeps the root types, their base types and the types of their
// structural properties (not the targets of navigation properties), and the
// entity sets and singletons that hold the roots.
func trimCSDL(raw []byte) ([]byte, error) {
	doc, err := parseCSDL(raw)
	if err != nil {
		return nil, err
	}
	g := newGraphSchema(doc)
	keep := map[string]bool{}
	var add func(string)
	add = func(name string) {
		name = strings.TrimSuffix(strings.TrimPrefix(name, "Collection("), ")")
		if keep[name] || strings.HasPrefix(name, "Edm.") {
			return
		}
		keep[name] = true
		if st, ok := g.types[name]; ok {
			add(st.base)
			for _, p := range st.Properties {
				add(p.Type)
			}
		}
	}
	for _, r := range csdlRoots {
		if g.types["microsoft.graph."+r] == nil {
			return nil, fmt.Errorf("root type %s is not in the CSDL", r)
		}
		add("microsoft.graph." + r)
	}
	out := csdlDoc{Version: doc.Version}
	for _, s := range doc.Schemas {
		ts := csdlSchema{Namespace: s.Namespace, Alias: s.Alias}
		for _, e := range s.EnumTypes {
			if keep[s.Namespace+"."+e.Name] {
				ts.EnumTypes = append(ts.EnumTypes, e)
			}
		}
		for _, ct := range s.ComplexTypes {
			if keep[s.Namespace+"."+ct.Name] {
				ts.ComplexTypes = append(ts.ComplexTypes, ct)
			}
		}
		for _, et := range s.EntityTypes {
			if keep[s.Namespace+"."+et.Name] {
				ts.EntityTypes = append(ts.EntityTypes, et)
			}
		}
		for _, c := range s.Containers {
			tc := csdlContainer{Name: c.Name}
			for _, es := range c.EntitySets {
				if keep[doc.qualify(es.EntityType)] {
					tc.EntitySets = append(tc.EntitySets, es)
				}
			}
			for _, sg := range c.Singletons {
				if keep[doc.qualify(sg.Type)] {
					tc.Singletons = append(tc.Singletons, sg)
				}
			}
			ts.Containers = append(ts.Containers, tc)
		}
		if len(ts.EnumTypes)+len(ts.ComplexTypes)+len(ts.EntityTypes) > 0 || len(ts.Containers) > 0 && len(ts.Containers[0].EntitySets) > 0 {
			out.Schemas = append(out.Schemas, ts)
		}
	}
	body, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	header := fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<!--
Microsoft Graph v1.0 metadata (CSDL), trimmed by internal/deploytest TestTrimGraphSchema (graphschema_test.go).
Source: %s, commit %s, sha256 %s.
Licence: MIT (Microsoft Graph metadata).
Kept: the types register-entra.sh's requests use, their base types and the types of their structural
properties, with only the elements and attributes the checks read; the entity sets and singletons that
hold them. Element names keep the CSDL's; namespaces are dropped. Do not edit: regenerate.
-->
`, csdlSource, csdlCommit, csdlSHA256)
	return append([]byte(header), append(body, '\n')...), nil
}
