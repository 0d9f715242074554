package graph

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// A request built by NewRequest is one Decode accepts for the same event
// and refuses for the other, and it carries the verified address.
func TestNewRequestDecodes(t *testing.T) {
	for _, ev := range []Event{AttributeCollectionStart, AttributeCollectionSubmit} {
		req := NewRequest(ev, "/tenants/t/applications/a", RequestData{
			AuthenticationContext: AuthenticationContext{CorrelationID: "c0ffee00-0000-4000-8000-000000000001"},
			UserSignUpInfo: UserSignUpInfo{
				Attributes: map[string]AttributeValue{"email": StringAttribute("Jo@Example.org", "builtIn")},
				Identities: []Identity{{SignInType: "email", Issuer: "contoso.onmicrosoft.com", IssuerAssignedID: "jo@example.org"}},
			},
		})
		body, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(bytes.NewReader(body), ev)
		if err != nil {
			t.Fatalf("%s: Decode refused NewRequest's body: %v\n%s", ev, err, body)
		}
		if e := got.Evidence(); e.Email != "jo@example.org" || e.SignIn != SignInLocal {
			t.Errorf("%s: Evidence() = %+v, want a local account's jo@example.org", ev, e)
		}
		other := AttributeCollectionStart + AttributeCollectionSubmit - ev
		if _, err := Decode(bytes.NewReader(body), other); err == nil {
			t.Errorf("a %s request was accepted on the %s route", ev, other)
		}
	}
}

// DecodeResponse reads every answer the gate gives and refuses answers
// Entra would not accept for the event.
func TestDecodeResponse(t *testing.T) {
	encode := func(r Response) string {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tc := range []struct {
		name string
		ev   Event
		body string
		kind string // "" when refused
	}{
		{"start continue", AttributeCollectionStart, encode(Continue(AttributeCollectionStart)), "continueWithDefaultBehavior"},
		{"start prefill", AttributeCollectionStart, encode(Prefill(map[string]any{"givenName": "Jo"})), "setPrefillValues"},
		{"start block", AttributeCollectionStart, encode(Block(AttributeCollectionStart, "T", "M")), "showBlockPage"},
		{"submit modify", AttributeCollectionSubmit, encode(Modify(map[string]any{"city": "Leeds"})), "modifyAttributeValues"},
		{"submit block", AttributeCollectionSubmit, encode(Block(AttributeCollectionSubmit, "T", "M")), "showBlockPage"},
		{"start answer to submit", AttributeCollectionSubmit, encode(Continue(AttributeCollectionStart)), ""},
		{"two actions", AttributeCollectionStart, strings.Replace(encode(Continue(AttributeCollectionStart)), `"actions":[`, `"actions":[{"@odata.type":"microsoft.graph.attributeCollectionStart.continueWithDefaultBehavior"},`, 1), ""},
		{"foreign action", AttributeCollectionStart, strings.Replace(encode(Continue(AttributeCollectionStart)), "attributeCollectionStart.continue", "attributeCollectionSubmit.continue", 1), ""},
		{"not JSON", AttributeCollectionStart, "<html>", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := DecodeResponse(strings.NewReader(tc.body), tc.ev)
			if tc.kind == "" {
				if err == nil {
					t.Fatalf("accepted %s", tc.body)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.ActionKind() != tc.kind {
				t.Errorf("ActionKind() = %q, want %q", r.ActionKind(), tc.kind)
			}
			title, msg, ok := r.BlockPage()
			if ok != (tc.kind == "showBlockPage") || (ok && (title != "T" || msg != "M")) {
				t.Errorf("BlockPage() = %q, %q, %v", title, msg, ok)
			}
		})
	}
}
