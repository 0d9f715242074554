package graph

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/invitegate/invitegate/internal/testutil/fixtures"
)

// checkShapeTokens is the fuzz oracle of checkShape: the same walk, with
// each key compared to every earlier key of its object by bytes.EqualFold,
// which is what encoding/json uses to match field names, instead of by
// foldKey. FuzzCheckShape holds checkShape to its verdicts.
func checkShapeTokens(body []byte) error {
	return walkShape(body, func() keySet { return &pairwiseKeys{} })
}

type pairwiseKeys struct{ seen []string }

func (p *pairwiseKeys) add(key string) bool {
	for _, k := range p.seen {
		if bytes.EqualFold([]byte(k), []byte(key)) {
			return true
		}
	}
	p.seen = append(p.seen, key)
	return false
}

// FuzzCheckShape: checkShape and its oracle agree on every body that
// encoding/json accepts, and checkShape never lets through a body
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
			t.Fatalf("checkShape says %v, the oracle says %v, for %q", fast, slow, body)
		}
		if fast != nil && strings.Contains(slow.Error(), "repeats the key") != strings.Contains(fast.Error(), "repeats the key") {
			t.Fatalf("checkShape says %v, the oracle says %v, for %q", fast, slow, body)
		}
	})
}
