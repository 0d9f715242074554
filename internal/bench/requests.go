package bench

import (
	"bytes"
	"encoding/json"

	"github.com/invitegate/invitegate/internal/graph"
)

// Routes the Functions host forwards to the handler.
const (
	StartPath  = "/api/attributeStart"
	SubmitPath = "/api/attributeSubmit"
)

// AppID is the application the bodies sign up to.
const AppID = "5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f"

// Stand-ins for the values SignUpBody fills in, in the template that
// graph builds once per event.
const (
	correlationHole = "\x01correlation\x01"
	emailHole       = "\x01email\x01"
)

// signUpTemplate returns an email sign-up to event ev as Entra posts it
// (the shape of testdata/requests/start-email-password.json): the address
// is the verified identity and the email attribute.
func signUpTemplate(ev graph.Event, correlationID, email string) graph.Request {
	app := graph.ServicePrincipal{ID: "11aa22bb-6666-4f70-8a1b-5e6f708192a3", AppID: AppID, AppDisplayName: "Members Portal", DisplayName: "Members Portal"}
	return graph.NewRequest(ev, "/tenants/"+TenantID+"/applications/"+AppID, graph.RequestData{
		TenantID:                        TenantID,
		AuthenticationEventListenerID:   "0c9b8a7d-3333-4c5d-9e8f-2b3c4d5e6f70",
		CustomAuthenticationExtensionID: "9a8b7c6d-4444-4d5e-8f90-3c4d5e6f7081",
		AuthenticationContext: graph.AuthenticationContext{
			CorrelationID:            correlationID,
			Client:                   graph.Client{IP: "203.0.113.42", Locale: "en-gb", Market: "en-gb"},
			Protocol:                 "OAUTH2.0",
			ClientServicePrincipal:   app,
			ResourceServicePrincipal: app,
		},
		UserSignUpInfo: graph.UserSignUpInfo{
			Attributes: map[string]graph.AttributeValue{
				"email":       graph.StringAttribute(email, "builtIn"),
				"givenName":   graph.StringAttribute("", "builtIn"),
				"surname":     graph.StringAttribute("", "builtIn"),
				"companyName": graph.StringAttribute("", "builtIn"),
			},
			Identities: []graph.Identity{{SignInType: "email", Issuer: "examplemembers.onmicrosoft.com", IssuerAssignedID: email}},
		},
	})
}

// bodyTemplate is one event's template, encoded and cut around its
// holes: parts[0] hole[0] parts[1] hole[1] … parts[n].
type bodyTemplate struct {
	parts [][]byte
	holes []string // correlationHole or emailHole
}

// bodyTemplates holds the template of each event, keyed by submit.
var bodyTemplates = map[bool]bodyTemplate{
	false: cutTemplate(graph.AttributeCollectionStart),
	true:  cutTemplate(graph.AttributeCollectionSubmit),
}

func cutTemplate(ev graph.Event) bodyTemplate {
	b, err := json.Marshal(signUpTemplate(ev, correlationHole, emailHole))
	if err != nil {
		panic(err)
	}
	quoted := func(s string) []byte { q, _ := json.Marshal(s); return q }
	var t bodyTemplate
	for {
		c, e := bytes.Index(b, quoted(correlationHole)), bytes.Index(b, quoted(emailHole))
		hole := correlationHole
		at := c
		if at < 0 || (e >= 0 && e < at) {
			hole, at = emailHole, e
		}
		if at < 0 {
			t.parts = append(t.parts, b)
			return t
		}
		t.parts = append(t.parts, b[:at])
		t.holes = append(t.holes, hole)
		b = b[at+len(quoted(hole)):]
	}
}

// SignUpBody returns the body of an email sign-up by email, on the submit
// event when submit is set and on the start event otherwise.
func SignUpBody(submit bool, email, correlationID string) []byte {
	t := bodyTemplates[submit]
	e, c := quoteJSON(email), quoteJSON(correlationID)
	n := 0
	for _, p := range t.parts {
		n += len(p)
	}
	b := make([]byte, 0, n+len(t.holes)*max(len(e), len(c)))
	for i, hole := range t.holes {
		b = append(b, t.parts[i]...)
		if hole == emailHole {
			b = append(b, e...)
		} else {
			b = append(b, c...)
		}
	}
	return append(b, t.parts[len(t.parts)-1]...)
}

func quoteJSON(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}
