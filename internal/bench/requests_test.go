package bench

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/invitegate/invitegate/internal/graph"
)

// SignUpBody's fast splice gives the same bytes as encoding the request
// graph builds, and the gate's decoder reads back the values put in.
func TestSignUpBody(t *testing.T) {
	for _, submit := range []bool{false, true} {
		ev := graph.AttributeCollectionStart
		if submit {
			ev = graph.AttributeCollectionSubmit
		}
		for _, email := range []string{"member00001@example.org", `odd"quote\@example.org`} {
			corr := "c0ffee00-0000-4000-8000-000000000042"
			got := SignUpBody(submit, email, corr)
			want, err := json.Marshal(signUpTemplate(ev, corr, email))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s, %s:\n got %s\nwant %s", ev, email, got, want)
			}
			req, err := graph.Decode(bytes.NewReader(got), ev)
			if err != nil {
				t.Fatalf("%s: %v", ev, err)
			}
			if req.CorrelationID() != corr || req.AppID() != AppID {
				t.Errorf("%s: correlation %q, app %q", ev, req.CorrelationID(), req.AppID())
			}
		}
	}
}
