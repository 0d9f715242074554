package server_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rs/zerolog"

	"github.com/invitegate/invitegate/internal/graph"
	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invite/invitetest"
	"github.com/invitegate/invitegate/internal/server"
	"github.com/invitegate/invitegate/internal/testutil/fixtures"
)

// The event routes answer every spelling the Functions host routes to a
// function (any case, one trailing slash) and nothing else.
func TestHostRouteVariants(t *testing.T) {
	store := invitetest.NewMemory()
	if err := store.Put(context.Background(), invite.Invitation{Key: invite.Key{Subject: "jo.bloggs@example.org", App: invite.AnyApp}, Status: invite.StatusPending}); err != nil {
		t.Fatal(err)
	}
	h := server.New(server.Deps{Store: store, Auth: server.AuthenticatorFunc(func(*http.Request) error { return nil }), Log: zerolog.Nop()})
	start := fixtures.Request(t, "start-email-otp.json")
	submit := fixtures.Request(t, "submit-email-password.json")
	for _, tc := range []struct {
		method, path string
		body         []byte
		status       int
		ev           graph.Event // the answer's event, for a 200
	}{
		{"POST", "/api/attributeStart", start, 200, graph.AttributeCollectionStart},
		{"POST", "/api/attributeStart/", start, 200, graph.AttributeCollectionStart},
		{"POST", "/API/AttributeStart", start, 200, graph.AttributeCollectionStart},
		{"POST", "/api/ATTRIBUTESTART/", start, 200, graph.AttributeCollectionStart},
		{"POST", "/api/attributeSubmit", submit, 200, graph.AttributeCollectionSubmit},
		{"POST", "/Api/attributesubmit/", submit, 200, graph.AttributeCollectionSubmit},
		// A start body on the submit route is refused: the route decides the event.
		{"POST", "/API/ATTRIBUTESUBMIT", start, 400, 0},
		{"GET", "/api/AttributeStart/", nil, 405, 0},
		{"POST", "/api/attributeStart//", start, 307, 0}, // net/http cleans the path; the host would not route it either
		{"POST", "/api/attributeStartx", start, 404, 0},
		{"POST", "/api/attributeStart/x", start, 404, 0},
		{"POST", "/attributeStart", start, 404, 0},
		{"POST", "/api", start, 404, 0},
		{"GET", "/", nil, 200, 0},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, bytes.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.ev != 0 {
				if _, err := graph.DecodeResponse(w.Body, tc.ev); err != nil {
					t.Errorf("not a %s answer: %v", tc.ev, err)
				}
			}
		})
	}
}
