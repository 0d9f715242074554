package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/invitegate/invitegate/internal/graph"
	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invite/invitetest"
	"github.com/invitegate/invitegate/internal/server"
	"github.com/invitegate/invitegate/internal/testutil/fixtures"
)

// fuzzInvited is the only address the fuzzed server knows.
const fuzzInvited = "jo.bloggs@example.org"

// routeContract is what a 200 on each route must look like.
var routeContract = map[bool]struct {
	path, dataType, actionPrefix string
	ev                           graph.Event
	actions                      []string
}{
	false: {"/api/attributeStart", "microsoft.graph.onAttributeCollectionStartResponseData", "microsoft.graph.attributeCollectionStart.",
		graph.AttributeCollectionStart, []string{"continueWithDefaultBehavior", "setPrefillValues", "showBlockPage"}},
	true: {"/api/attributeSubmit", "microsoft.graph.onAttributeCollectionSubmitResponseData", "microsoft.graph.attributeCollectionSubmit.",
		graph.AttributeCollectionSubmit, []string{"continueWithDefaultBehavior", "modifyAttributeValues", "showBlockPage", "showValidationError"}},
}

// FuzzServe sends arbitrary bodies through the whole server, with one
// invited address in the store. The only outcomes allowed are a valid
// Graph response for the route (200, exactly one action of the route's
// types) or a 4xx with a JSON error; and the sign-up may go on only when
// the address the request carries is the invited one. Run it with
// scripts/fuzz.sh; go test runs the seeds and any saved crashers.
func FuzzServe(f *testing.F) {
	names, bodies := fixtures.Requests(f)
	for _, name := range names {
		submit := strings.HasPrefix(name, "submit")
		f.Add(bodies[name], submit)
		f.Add(bodies[name], !submit)
	}

	store := invitetest.NewMemory()
	if err := store.Put(context.Background(), invite.Invitation{
		Key: invite.Key{Subject: fuzzInvited, App: invite.AnyApp}, Status: invite.StatusPending,
		Prefill: map[string]string{"givenName": "Jo", ext + "MemberYear": "2024"},
		Set:     map[string]string{"companyName": "Example Ltd", ext + "Newsletter": "true"},
	}); err != nil {
		f.Fatal(err)
	}
	srv := server.New(server.Deps{
		Store: store, Auth: server.AuthenticatorFunc(func(*http.Request) error { return nil }),
		Log: zerolog.Nop(), EmailIssuers: []string{"google.com"},
	})

	f.Fuzz(func(t *testing.T, body []byte, submit bool) {
		route := routeContract[submit]
		req := httptest.NewRequest(http.MethodPost, route.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)

		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("status %d with Content-Type %q", rec.Code, ct)
		}
		switch {
		case rec.Code == http.StatusOK:
		case rec.Code >= 400 && rec.Code < 500:
			var e struct{ Error, Message string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" || e.Message == "" {
				t.Fatalf("HTTP %d with body %q, want a JSON error", rec.Code, rec.Body)
			}
			if strings.Contains(rec.Body.String(), `"actions"`) {
				t.Fatalf("HTTP %d carries Graph actions: %s", rec.Code, rec.Body)
			}
			return
		default:
			t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
		}

		var resp struct {
			Data struct {
				Type    string                       `json:"@odata.type"`
				Actions []map[string]json.RawMessage `json:"actions"`
			} `json:"data"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("a 200 that is not JSON: %v: %s", err, rec.Body)
		}
		if resp.Data.Type != route.dataType || len(resp.Data.Actions) != 1 {
			t.Fatalf("want data of type %s with one action, got %s", route.dataType, rec.Body)
		}
		var actionType string
		json.Unmarshal(resp.Data.Actions[0]["@odata.type"], &actionType)
		kind, ok := strings.CutPrefix(actionType, route.actionPrefix)
		if !ok || !contains(route.actions, kind) {
			t.Fatalf("action %q is not one of the route's %v", actionType, route.actions)
		}
		if kind == "showBlockPage" || kind == "showValidationError" {
			return
		}
		// The sign-up goes on: the request must carry the invited address.
		decoded, err := graph.Decode(bytes.NewReader(body), route.ev)
		if err != nil {
			t.Fatalf("%s for a body Decode rejects (%v)", kind, err)
		}
		e := decoded.Evidence()
		if e.Email != fuzzInvited {
			t.Fatalf("%s for address %q, want only %q", kind, e.Email, fuzzInvited)
		}
		switch {
		case e.SignIn == graph.SignInLocal:
		case e.SignIn == graph.SignInFederated && strings.EqualFold(strings.TrimSpace(e.Issuer), "google.com"):
		case e.SignIn == graph.SignInNone && route.ev == graph.AttributeCollectionSubmit:
		default:
			t.Fatalf("%s for a sign-in that proves no address: %+v", kind, e)
		}
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
