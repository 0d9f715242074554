// Package armeval evaluates an ARM template (languageVersion 1.0, the form
// `az bicep build` writes) for one set of parameters, the way Resource
// Manager would before it sends each resource to its provider: parameters
// with their defaults and constraints, variables, conditions, names and
// bodies. Values known only at deployment time (reference(), listKeys())
// stay opaque (armschema.Opaque). uniqueString() and guid() are stand-ins
// with the real functions' length and alphabet, not their hash.
package armeval

import (
	"fmt"
	"strconv"
	"strings"
)

// node is a parsed expression.
type node interface{}

type literal struct{ v any }

type call struct {
	name string
	args []node
}

type member struct {
	x    node
	name string
}

type index struct {
	x node
	i node
}

// IsExpression reports whether a template string is an expression "[...]"
// (and not an escaped literal "[[...").
func IsExpression(s string) bool {
	return len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' && !strings.HasPrefix(s, "[[")
}

// parse parses the inside of "[...]".
func parse(s string) (node, error) {
	p := &parser{s: s}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected %q at %d in %q", p.s[p.i:], p.i, s)
	}
	return n, nil
}

type parser struct {
	s string
	i int
}

func (p *parser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *parser) peek() byte {
	p.space()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *parser) expect(c byte) error {
	if p.peek() != c {
		return fmt.Errorf("want %q at %d in %q", c, p.i, p.s)
	}
	p.i++
	return nil
}

func isIdent(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func (p *parser) ident() string {
	start := p.i
	for p.i < len(p.s) && isIdent(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *parser) expr() (node, error) {
	var n node
	switch c := p.peek(); {
	case c == 0:
		return nil, fmt.Errorf("expression ends early: %q", p.s)
	case c == '\'':
		var b strings.Builder
		for p.i++; ; p.i++ {
			if p.i >= len(p.s) {
				return nil, fmt.Errorf("unterminated string in %q", p.s)
			}
			if p.s[p.i] == '\'' {
				if p.i+1 < len(p.s) && p.s[p.i+1] == '\'' {
					b.WriteByte('\'')
					p.i++
					continue
				}
				p.i++
				break
			}
			b.WriteByte(p.s[p.i])
		}
		n = literal{b.String()}
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.i
		for p.i++; p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9'; p.i++ {
		}
		v, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("number %q in %q: %v", p.s[start:p.i], p.s, err)
		}
		n = literal{v}
	default:
		name := p.ident()
		if name == "" {
			return nil, fmt.Errorf("want a function name at %d in %q", p.i, p.s)
		}
		if err := p.expect('('); err != nil {
			return nil, err
		}
		c := call{name: name}
		if p.peek() == ')' {
			p.i++
		} else {
			for {
				arg, err := p.expr()
				if err != nil {
					return nil, err
				}
				c.args = append(c.args, arg)
				if p.peek() == ',' {
					p.i++
					continue
				}
				if err := p.expect(')'); err != nil {
					return nil, err
				}
				break
			}
		}
		n = c
	}
	for {
		switch p.peek() {
		case '.':
			p.i++
			name := p.ident()
			if name == "" {
				return nil, fmt.Errorf("want a property name at %d in %q", p.i, p.s)
			}
			n = member{n, name}
		case '[':
			p.i++
			i, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.expect(']'); err != nil {
				return nil, err
			}
			n = index{n, i}
		default:
			return n, nil
		}
	}
}

// Call is one function call of an expression: its name, and for each
// direct argument the string literal it is (Literal true) or "".
type Call struct {
	Name string
	Args []Arg
}

// Arg is one argument of a Call.
type Arg struct {
	Literal bool
	Value   string
}

// Calls returns every function call of an expression ("[...]"), outermost
// first; it fails if the expression does not parse.
func Calls(expr string) ([]Call, error) {
	n, err := parse(strings.TrimSuffix(strings.TrimPrefix(expr, "["), "]"))
	if err != nil {
		return nil, err
	}
	var calls []Call
	var walk func(node)
	walk = func(n node) {
		switch n := n.(type) {
		case call:
			c := Call{Name: n.name}
			for _, a := range n.args {
				if l, ok := a.(literal); ok {
					if s, ok := l.v.(string); ok {
						c.Args = append(c.Args, Arg{Literal: true, Value: s})
						continue
					}
				}
				c.Args = append(c.Args, Arg{})
			}
			calls = append(calls, c)
			for _, a := range n.args {
				walk(a)
			}
		case member:
			walk(n.x)
		case index:
			walk(n.x)
			walk(n.i)
		}
	}
	walk(n)
	return calls, nil
}
