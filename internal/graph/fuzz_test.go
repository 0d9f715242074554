package graph

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/invitegate/invitegate/internal/testutil/fixtures"
)

// addRequestFixtures seeds f with every request in testdata/requests, each
// for both events, so the fuzzer starts from real Entra bodies.
func addRequestFixtures(f *testing.F) {
	names, bodies := fixtures.Requests(f)
	for _, name := range names {
		f.Add(bodies[name], false)
		f.Add(bodies[name], true)
	}
}

// FuzzDecode: whatever the body, Decode does not panic; it either fails
// with ErrBadRequest, or returns a request whose Evidence holds an address
// (trimmed, lowercase, exactly one '@') or a reason why not, never both. Run it with
// scripts/fuzz.sh; go test runs the seeds and any saved crashers.
func FuzzDecode(f *testing.F) {
	addRequestFixtures(f)
	f.Add([]byte(`{"data":{"@odata.type":"microsoft.graph.onAttributeCollectionStartCalloutData","userSignUpInfo":{"identities":[{"signInType":"email","issuerAssignedId":" A@B.C "}]}}}`), false)
	f.Add([]byte(`{"data":{"userSignUpInfo":{"attributes":{"EMAIL":{"value":"x@y.z"},"email":{"value":1}}}}}`), true)
	f.Add([]byte(`{"data":{},"Data":{}}`), false)
	f.Add([]byte(`[]`), false)
	f.Fuzz(func(t *testing.T, body []byte, submit bool) {
		ev := AttributeCollectionStart
		if submit {
			ev = AttributeCollectionSubmit
		}
		req, err := Decode(bytes.NewReader(body), ev)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("Decode error %v does not wrap ErrBadRequest", err)
			}
			if req != nil {
				t.Fatal("Decode returned a request with its error")
			}
			return
		}
		if req == nil {
			t.Fatal("Decode returned neither a request nor an error")
		}
		e := req.Evidence()
		if (e.Email == "") == (e.Problem == "") {
			t.Fatalf("Evidence() = %+v: want exactly one of Email and Problem", e)
		}
		if email := e.Email; email != "" {
			if email != strings.TrimSpace(email) {
				t.Errorf("Email = %q is not trimmed", email)
			}
			if email != strings.ToLower(email) {
				t.Errorf("Email = %q is not lowercase", email)
			}
			if n := strings.Count(email, "@"); n != 1 {
				t.Errorf("Email = %q has %d '@', want 1", email, n)
			}
		}
		switch e.SignIn {
		case SignInLocal, SignInFederated, SignInNone:
		case SignInOther:
			if e.Email != "" {
				t.Errorf("an unverified sign-in type yielded an address: %+v", e)
			}
		default:
			t.Errorf("Evidence().SignIn = %q", e.SignIn)
		}
		// The rest of the request path must not panic either.
		req.TypedValues(map[string]string{"givenName": "Jo", "extension_x_MemberYear": "2024", "extension_x_Newsletter": "true"})
		_ = req.CorrelationID()
		_ = req.AppID()
	})
}
