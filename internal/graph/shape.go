package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
)

// checkShape walks the body's JSON tokens once, before anything is
// decoded: the top level must be an object with a "data" member, nesting
// is bounded, and no object repeats a key. encoding/json would silently
// keep the last of two keys it matches to one field, so a body could mean
// one thing to the gate and another to a reader of the same bytes; and it
// matches field names with Unicode case folding, so keys are compared the
// same way (foldKey). The tokens come from encoding/json's own scanner,
// so this check and json.Unmarshal, which runs next, cannot disagree on
// where a key starts or what a string holds (docs/performance.md, "Decode",
// says why this is not a hand-written byte scanner).
func checkShape(body []byte) error { return walkShape(body, newFoldedKeys) }

// keySet remembers the keys of one object; add reports whether key repeats
// one of them.
type keySet interface {
	add(key string) (repeated bool)
}

// foldedKeys compares keys by foldKey.
type foldedKeys map[string]struct{}

func newFoldedKeys() keySet { return foldedKeys{} }

func (s foldedKeys) add(key string) bool {
	k := foldKey(key)
	if _, dup := s[k]; dup {
		return true
	}
	s[k] = struct{}{}
	return false
}

// walkShape is checkShape with the key comparison given: newKeys makes
// the set of one object's keys.
func walkShape(body []byte, newKeys func() keySet) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return notAnObject(body)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return notAnObject(body)
	}
	type frame struct {
		object bool
		keys   keySet
		key    bool // the next token of this object is a key
	}
	stack := make([]frame, 1, 8)
	stack[0] = frame{object: true, key: true}
	sawData := false
	for len(stack) > 0 {
		tok, err := dec.Token()
		if err != nil {
			return badRequest("body is not JSON: %v", jsonErrorText(err))
		}
		top := &stack[len(stack)-1]
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				if len(stack) >= maxDepth {
					return badRequest("JSON nests deeper than %d levels", maxDepth)
				}
				top.key = top.object // a value ended; an object's next token is a key
				stack = append(stack, frame{object: d == '{', key: d == '{'})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		}
		if !top.object {
			continue
		}
		if !top.key {
			top.key = true // a scalar value ends this member
			continue
		}
		key, _ := tok.(string)
		if top.keys == nil {
			top.keys = newKeys()
		}
		if top.keys.add(key) {
			return badRequest("JSON object repeats the key %q", truncate(key))
		}
		top.key = false
		if len(stack) == 1 && strings.EqualFold(key, "data") {
			sawData = true
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("body has data after the JSON object")
	}
	if !sawData {
		return badRequest(`"data" is required`)
	}
	return nil
}
