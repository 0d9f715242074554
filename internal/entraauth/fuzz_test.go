package entraauth_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/entraauth"
	"github.com/invitegate/invitegate/internal/entraauth/entratest"
)

// FuzzAuthenticate sends arbitrary Authorization headers (one per line of
// the input) to an Authenticator whose keys have loaded. Nothing panics and
// nothing is accepted: the fuzzer cannot sign with the tenant's key, and
// the one seed that is signed with it has expired. Every refusal is a 401
// (never the keys-not-loaded 503) with a challenge that is safe to put in
// a header. Run it with scripts/fuzz.sh; go test runs the seeds and any
// saved crashers.
func FuzzAuthenticate(f *testing.F) {
	e := newReadyEnv(f, nil)
	k := loadTestKeys()
	now := e.clock.Now()
	expired := e.token(entratest.WithExpiry(now.Add(-time.Hour)), entratest.WithNotBefore(now.Add(-2*time.Hour)))
	for _, s := range []string{
		"",
		"Bearer",
		"Bearer ",
		"Basic dXNlcjpwYXNz",
		"Bearer a.b.c",
		"Bearer " + expired,
		"bearer " + expired[:len(expired)-1] + "A",
		"Bearer " + expired + "\nBearer " + expired,
		"Bearer " + e.token(entratest.SignedWith(k.unpublished)),
		"Bearer " + e.token(entratest.SignedWith(k.unpublished), entratest.WithKID("unknown-kid")),
		"Bearer " + e.token(entratest.WithAlg("RS512")),
		"Bearer " + e.token(entratest.WithAlg("HS256"), entratest.SignedWith([]byte("secret"))),
		"Bearer " + e.token(entratest.WithAlg("none")),
		"Bearer " + e.token(entratest.WithAlg("ES256"), entratest.SignedWith(k.ec), entratest.WithKID("ec")),
		"Bearer " + e.token(entratest.SignedWith(k.small), entratest.WithKID("small")),
		"Bearer " + e.token(entratest.WithIssuer("https://contoso.ciamlogin.com/"+otherTenant+"/v2.0")),
		"Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6Im1haW4ifQ.e30.",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := request()
		for _, v := range strings.Split(header, "\n") {
			r.Header.Add("Authorization", v)
		}
		err := e.auth.Authenticate(r)
		if err == nil {
			t.Fatalf("accepted Authorization %q", header)
		}
		ae, ok := err.(*entraauth.Error)
		if !ok {
			t.Fatalf("error %T %v, want *Error", err, err)
		}
		if ae.HTTPStatus() != http.StatusUnauthorized {
			t.Fatalf("status %d (%v) with keys loaded, want 401", ae.HTTPStatus(), ae)
		}
		ch := ae.WWWAuthenticate()
		if !strings.HasPrefix(ch, "Bearer") {
			t.Fatalf("challenge %q", ch)
		}
		for _, c := range ch {
			if c < 0x20 || c > 0x7e {
				t.Fatalf("challenge %q holds %q, which may not appear in a header", ch, c)
			}
		}
		if !slices.Contains(entraauth.Checks(), ae.Check()) {
			t.Fatalf("error %v names check %q, not one of Checks()", ae, ae.Check())
		}
	})
}
