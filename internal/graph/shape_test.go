package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/invitegate/invitegate/internal/testutil/fixtures"
)

// checkShapeTokens is the first implementation of checkShape, a walk of
// encoding/json's tokens: slower, but obviously right. FuzzCheckShape holds
// the fast scanner to the same verdicts.
//
// It walks the JSON tokens once: the top level must be an object
// with a "data" object, nesting is bounded, and no object repeats a key
// (encoding/json would silently keep the last one, so a body could mean
// different things to different parsers).
func checkShapeTokens(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]struct{}
		expect bool // the next token in this object is a key
	}
	tok, err := dec.Token()
	if err != nil {
		return badRequest("body is not JSON: %v", jsonErrorText(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return badRequest("body must be a JSON object")
	}
	stack := []frame{{object: true, expect: true}}
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
				stack = append(stack, frame{object: d == '{', expect: d == '{'})
			case '}', ']':
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].expect = true
				}
			}
			continue
		}
		if !top.object {
			continue
		}
		if !top.expect {
			top.expect = true // a scalar value ends this member
			continue
		}
		key, _ := tok.(string)
		if top.keys == nil {
			top.keys = make(map[string]struct{}, 8)
		}
		// encoding/json matches struct fields with bytes.EqualFold, so
		// any two keys it folds together collide. Compared pairwise here,
		// independently of foldKey.
		for seen := range top.keys {
			if bytes.EqualFold([]byte(seen), []byte(key)) {
				return badRequest("JSON object repeats the key %q", truncate(key))
			}
		}
		top.keys[key] = struct{}{}
		top.expect = false
		if len(stack) == 1 && bytes.EqualFold([]byte(key), []byte("data")) {
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

// FuzzCheckShape: the byte scanner and the token walk agree on every body
// that encoding/json accepts, and the scanner never lets through a body
// json.Unmarshal would reject as a whole request.
func FuzzCheckShape(f *testing.F) {
	names, bodies := fixtures.Requests(f)
	for _, name := range names {
		f.Add(bodies[name])
	}
	for _, s := range []string{`{"data":{}}`, `{"data":{},"Data":1}`, `{"a":"\\"","data":[{"x":1,"x":2}]}`,
		`{"da\u0074a":{}, "data":{}}`, `[]`, `{}`, `{"data":{}} {}`, `{"data":"}"}`, `{"data":{"k":"\\\\","k":1}}`,
		`{"data":{"issuerAssignedId":1,"iſſuerAssignedId":2}}`, `{"data":{"K":1,"k":2}}`, `{"Kata":1,"data":{}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, slow := checkShape(body), checkShapeTokens(body)
		if !json.Valid(body) {
			return // syntax is json.Unmarshal's to reject; both only need not to panic
		}
		if (fast == nil) != (slow == nil) {
			t.Fatalf("scanner says %v, token walk says %v, for %q", fast, slow, body)
		}
		if fast != nil && strings.Contains(slow.Error(), "repeats the key") != strings.Contains(fast.Error(), "repeats the key") {
			t.Fatalf("scanner says %v, token walk says %v, for %q", fast, slow, body)
		}
	})
}
