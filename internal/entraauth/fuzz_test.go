package entraauth

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
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
	expired := e.valid(f, func(c jwt.MapClaims) {
		c["exp"] = e.clock.Now().Add(-time.Hour).Unix()
		c["nbf"] = e.clock.Now().Add(-2 * time.Hour).Unix()
	})
	for _, s := range []string{
		"",
		"Bearer",
		"Bearer ",
		"Basic dXNlcjpwYXNz",
		"Bearer a.b.c",
		"Bearer " + expired,
		"bearer " + expired[:len(expired)-1] + "A",
		"Bearer " + expired + "\nBearer " + expired,
		"Bearer " + sign(f, jwt.SigningMethodRS256, k.unpublished, "main", e.v2Claims()),
		"Bearer " + sign(f, jwt.SigningMethodRS256, k.unpublished, "unknown-kid", e.v2Claims()),
		"Bearer " + sign(f, jwt.SigningMethodRS512, k.main, "main", e.v2Claims()),
		"Bearer " + sign(f, jwt.SigningMethodHS256, []byte("secret"), "main", e.v2Claims()),
		"Bearer " + sign(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "main", e.v2Claims()),
		"Bearer " + sign(f, jwt.SigningMethodES256, k.ec, "ec", e.v2Claims()),
		"Bearer " + sign(f, jwt.SigningMethodRS256, k.small, "small", e.v2Claims()),
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
		ae, ok := err.(*Error)
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
		if ae.Check == "" || ae.Reason == "" {
			t.Fatalf("error %#v does not name its check and reason", ae)
		}
	})
}
