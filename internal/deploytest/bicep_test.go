package deploytest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A small reader for the subset of Bicep that infra/main.bicep uses: params
// with decorators, vars, resources and outputs, whose values are object and
// array literals (one property or element a line), string/number/bool
// literals, loadTextContent('file') and other expressions. It exists so the
// parity tests can compare main.bicep with the hand-written main.json value
// by value; a construct it does not know fails the test instead of being
// skipped.

// bicepValue is a parsed value: literal (string, int64, bool), object
// (map), array, or an expression kept as text.
type bicepValue struct {
	lit     any
	isLit   bool
	obj     map[string]*bicepValue
	objKeys []string
	arr     []*bicepValue
	isArr   bool
	expr    string // non-literal expression, as written
}

type bicepParam struct {
	name, typ  string
	decorators map[string]string // name → argument text
	allowed    []*bicepValue
	metadata   *bicepValue
	def        *bicepValue // nil: no default
}

type bicepResource struct {
	symbol, typ, apiVersion string
	conditional             bool
	body                    *bicepValue
}

type bicepFile struct {
	params    []*bicepParam
	vars      map[string]*bicepValue
	resources []*bicepResource
	outputs   []string // "name type"
	dir       string
}

// parseBicep reads the declarations of a Bicep file.
func parseBicep(path string) (*bicepFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseBicepText(string(raw), filepath.Dir(path))
}

// parseBicepText reads Bicep source; dir is where loadTextContent looks.
func parseBicepText(src, dir string) (*bicepFile, error) {
	var err error
	f := &bicepFile{vars: map[string]*bicepValue{}, dir: dir}
	lines := strings.Split(src, "\n")
	p := &bicepLines{lines: lines}
	decorators := map[string]string{}
	var allowed []*bicepValue
	var metadata *bicepValue
	for p.i < len(p.lines) {
		line := p.stripped()
		p.i++
		switch {
		case line == "" || strings.HasPrefix(line, "targetScope"):
		case strings.HasPrefix(line, "@allowed(["):
			arr, err := p.block("]", line[len("@allowed("):])
			if err != nil {
				return nil, err
			}
			if !strings.HasSuffix(p.prev(), "])") {
				return nil, fmt.Errorf("line %d: @allowed must end with ])", p.i)
			}
			allowed = arr.arr
		case strings.HasPrefix(line, "@metadata({"):
			obj, err := p.block("}", "{")
			if err != nil {
				return nil, err
			}
			metadata = obj
		case strings.HasPrefix(line, "@"):
			name, arg, ok := strings.Cut(line[1:], "(")
			if !ok || !strings.HasSuffix(arg, ")") {
				return nil, fmt.Errorf("line %d: decorator %q", p.i, line)
			}
			decorators[name] = strings.TrimSuffix(arg, ")")
		case strings.HasPrefix(line, "param "):
			fields := strings.Fields(line)
			if len(fields) < 3 {
				return nil, fmt.Errorf("line %d: %q", p.i, line)
			}
			prm := &bicepParam{name: fields[1], typ: fields[2], decorators: decorators, allowed: allowed, metadata: metadata}
			if _, def, ok := strings.Cut(line, " = "); ok {
				if prm.def, err = p.value(def); err != nil {
					return nil, err
				}
			}
			f.params = append(f.params, prm)
			decorators, allowed, metadata = map[string]string{}, nil, nil
		case strings.HasPrefix(line, "var "):
			name, val, ok := strings.Cut(strings.TrimPrefix(line, "var "), " = ")
			if !ok {
				return nil, fmt.Errorf("line %d: %q", p.i, line)
			}
			v, err := p.value(val)
			if err != nil {
				return nil, fmt.Errorf("var %s: %v", name, err)
			}
			f.vars[name] = v
		case strings.HasPrefix(line, "resource "):
			// resource sym 'Type@version' = [if (cond) ]{
			fields := strings.Fields(line)
			tv := strings.Trim(fields[2], "'")
			typ, version, _ := strings.Cut(tv, "@")
			r := &bicepResource{symbol: fields[1], typ: typ, apiVersion: version, conditional: strings.Contains(line, "= if (")}
			if !strings.HasSuffix(line, "{") {
				return nil, fmt.Errorf("line %d: resource %s must open its body on the same line", p.i, r.symbol)
			}
			if r.body, err = p.block("}", "{"); err != nil {
				return nil, fmt.Errorf("resource %s: %v", r.symbol, err)
			}
			f.resources = append(f.resources, r)
		case strings.HasPrefix(line, "output "):
			fields := strings.Fields(line)
			f.outputs = append(f.outputs, fields[1]+" "+fields[2])
			decorators = map[string]string{}
		default:
			return nil, fmt.Errorf("line %d: not understood: %q", p.i, line)
		}
	}
	return f, nil
}

type bicepLines struct {
	lines []string
	i     int
}

// stripped returns the current line without its // comment and spaces.
func (p *bicepLines) stripped() string {
	return stripComment(p.lines[p.i])
}

func (p *bicepLines) prev() string { return stripComment(p.lines[p.i-1]) }

func stripComment(line string) string {
	inString := false
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && inString:
			i++
		case line[i] == '\'':
			inString = !inString
		case !inString && strings.HasPrefix(line[i:], "//"):
			return strings.TrimSpace(line[:i])
		}
	}
	return strings.TrimSpace(line)
}

// value parses a value that starts on the current line (rest is the text
// after "key:" or "="). An object or array continues on the lines below.
func (p *bicepLines) value(rest string) (*bicepValue, error) {
	rest = strings.TrimSpace(rest)
	switch {
	case rest == "{":
		return p.block("}", "{")
	case rest == "[":
		return p.block("]", "[")
	case strings.HasSuffix(rest, "{") || strings.HasSuffix(rest, "["):
		// An expression whose operand is an object or array on the lines
		// below (a ternary): keep it as an expression, and skip the lines.
		text := rest
		depth := strings.Count(rest, "{") + strings.Count(rest, "[") - strings.Count(rest, "}") - strings.Count(rest, "]")
		for depth > 0 && p.i < len(p.lines) {
			l := p.stripped()
			p.i++
			text += " " + l
			depth += strings.Count(l, "{") + strings.Count(l, "[") - strings.Count(l, "}") - strings.Count(l, "]")
		}
		return &bicepValue{expr: text}, nil
	}
	return scalar(rest), nil
}

// block parses the lines of an object or array up to its closing line.
func (p *bicepLines) block(close, open string) (*bicepValue, error) {
	v := &bicepValue{}
	if strings.HasSuffix(open, "[") || open == "[" {
		v.isArr = true
	} else {
		v.obj = map[string]*bicepValue{}
	}
	for p.i < len(p.lines) {
		line := p.stripped()
		p.i++
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, close) {
			return v, nil
		}
		if v.isArr {
			el, err := p.value(line)
			if err != nil {
				return nil, err
			}
			v.arr = append(v.arr, el)
			continue
		}
		key, rest, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: want key: value, got %q", p.i, line)
		}
		key = strings.Trim(strings.TrimSpace(key), "'")
		el, err := p.value(rest)
		if err != nil {
			return nil, err
		}
		v.obj[key] = el
		v.objKeys = append(v.objKeys, key)
	}
	return nil, fmt.Errorf("no closing %s", close)
}

// scalar parses a one-line value: a literal, or an expression kept as text.
func scalar(s string) *bicepValue {
	switch {
	case s == "true" || s == "false":
		return &bicepValue{lit: s == "true", isLit: true}
	case len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' && !strings.Contains(s, "${") && plainString(s):
		return &bicepValue{lit: unquoteBicep(s[1 : len(s)-1]), isLit: true}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return &bicepValue{lit: n, isLit: true}
	}
	return &bicepValue{expr: s}
}

// plainString reports whether a quoted token is one string literal (not
// 'a' + 'b' or a ternary of strings).
func plainString(s string) bool {
	body := s[1 : len(s)-1]
	for i := 0; i < len(body); i++ {
		if body[i] == '\\' {
			i++
			continue
		}
		if body[i] == '\'' {
			return false
		}
	}
	return true
}

func unquoteBicep(s string) string {
	r := strings.NewReplacer(`\'`, `'`, `\\`, `\`, `\n`, "\n", `\t`, "\t", `\$`, `$`)
	return r.Replace(s)
}

// loadTextContent returns the file a value loads with loadTextContent('f'),
// if it is such a call.
func (v *bicepValue) loadTextContent() (string, bool) {
	rest, ok := strings.CutPrefix(v.expr, "loadTextContent('")
	if !ok {
		return "", false
	}
	file, ok := strings.CutSuffix(rest, "')")
	return file, ok
}
