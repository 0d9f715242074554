package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/invitegate/invitegate/internal/bench"
	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/testutil/azurite"
)

// identity is one entry of userSignUpInfo.identities.
type identity struct {
	SignInType       string `json:"signInType"`
	Issuer           string `json:"issuer"`
	IssuerAssignedID string `json:"issuerAssignedId"`
}

// verified is the identity Entra sends for an email sign-up of address.
func verified(address string) identity {
	return identity{SignInType: "email", Issuer: "examplemembers.onmicrosoft.com", IssuerAssignedID: address}
}

// signUpBody is a request with the given identities (left out when nil)
// and attributes (name → string, number or boolean value).
func signUpBody(submit bool, identities []identity, attributes map[string]any) []byte {
	event, data := "attributeCollectionStart", "onAttributeCollectionStartCalloutData"
	if submit {
		event, data = "attributeCollectionSubmit", "onAttributeCollectionSubmitCalloutData"
	}
	attrs := map[string]any{}
	for name, v := range attributes {
		typ := "microsoft.graph.stringDirectoryAttributeValue"
		switch v.(type) {
		case int, float64:
			typ = "microsoft.graph.int64DirectoryAttributeValue"
		case bool:
			typ = "microsoft.graph.booleanDirectoryAttributeValue"
		}
		attrs[name] = map[string]any{"@odata.type": typ, "value": v, "attributeType": "builtIn"}
	}
	info := map[string]any{"attributes": attrs}
	if identities != nil {
		info["identities"] = identities
	}
	b, err := json.Marshal(map[string]any{
		"type":   "microsoft.graph.authenticationEvent." + event,
		"source": "/tenants/" + bench.TenantID + "/applications/" + bench.AppID,
		"data": map[string]any{
			"@odata.type": "microsoft.graph." + data,
			"tenantId":    bench.TenantID,
			"authenticationContext": map[string]any{
				"correlationId":          correlationID(),
				"protocol":               "OAUTH2.0",
				"client":                 map[string]string{"ip": "203.0.113.42", "locale": "en-us", "market": "en-us"},
				"clientServicePrincipal": map[string]string{"appId": bench.AppID, "displayName": "Members Portal"},
			},
			"userSignUpInfo": info,
		},
	})
	if err != nil {
		panic(err)
	}
	return b
}

// emailSignUp is an email sign-up whose verified identity and email
// attribute are both address.
func emailSignUp(address string) []byte {
	return signUpBody(false, []identity{verified(address)}, map[string]any{"email": address})
}

// The people the look-alike cases imitate. kim.li has an "i" and a "k",
// which have non-ASCII capitals that lowercase to ASCII.
const invitedKim = "kim.li@example.org"

// TestHostileRequests sends what an attacker (or a broken client) could
// send straight to the handler, and checks the outcome of each: the right
// 4xx with a JSON error, or a Graph answer that lets the sign-up continue
// only for the invited address.
func TestHostileRequests(t *testing.T) {
	t.Parallel()
	store := newTable(t, azurite.Connection(t))
	if err := store.Put(context.Background(), invite.Invitation{Key: invite.Key{Subject: invitedKim, App: invite.AnyApp}, Status: invite.StatusPending}); err != nil {
		t.Fatal(err)
	}
	g := startGate(t, store)

	valid := emailSignUp(invited)
	replace := func(body []byte, old, new string) []byte {
		if !bytes.Contains(body, []byte(old)) {
			t.Fatalf("test body lacks %q", old)
		}
		return bytes.Replace(body, []byte(old), []byte(new), 1)
	}
	tenMB := append(bytes.TrimSuffix(valid, []byte("}")), []byte(`,"padding":"`+strings.Repeat("A", 10<<20)+`"}`)...)
	nested := []byte(`{"data":{"@odata.type":"microsoft.graph.onAttributeCollectionStartCalloutData","x":` +
		strings.Repeat(`[`, 10000) + strings.Repeat(`]`, 10000) + `}}`)

	for _, tc := range []struct {
		name        string
		path        string // default: start
		contentType string // default: application/json; "none" sends none
		body        []byte
		want        string // an outcome constant, or "HTTP nnn"
		reason      string // for a 4xx, a phrase its message must hold
	}{
		// Controls: what real sign-ups look like.
		{name: "invited, as Entra sends it", body: valid, want: continued},
		{name: "invited, submit", path: bench.SubmitPath, body: signUpBody(true, []identity{verified(invited)}, map[string]any{"email": invited}), want: continued},
		{name: "stranger", body: emailSignUp(stranger), want: notInvited},
		{name: "Google: federated identity, address in the EmailAddress attribute", body: signUpBody(false,
			[]identity{{SignInType: "federated", Issuer: "google.com", IssuerAssignedID: "104857392011223344556"}},
			map[string]any{"EmailAddress": invited}), want: continued},

		// The body.
		{name: "10 MB body", body: tenMB, want: "HTTP 413", reason: "larger than"},
		{name: "deeply nested JSON", body: nested, want: "HTTP 400", reason: "nests deeper"},
		{name: "duplicate data key", body: []byte(`{"data":` + string(extractData(t, emailSignUp(stranger))) + `,"data":` + string(extractData(t, valid)) + `}`), want: "HTTP 400", reason: "repeats the key"},
		{name: "duplicate key differing in case only", body: replace(valid, `"type":`, `"Type":"x","type":`), want: "HTTP 400", reason: "repeats the key"},
		{name: "duplicate issuerAssignedId in one identity", body: replace(emailSignUp(stranger), `"issuerAssignedId":"`+stranger+`"`, `"issuerAssignedId":"`+stranger+`","issuerAssignedId":"`+invited+`"`), want: "HTTP 400", reason: "repeats the key"},
		{name: "wrong content type", contentType: "text/plain", body: valid, want: "HTTP 415"},
		{name: "form content type", contentType: "application/x-www-form-urlencoded", body: valid, want: "HTTP 415"},
		{name: "no content type", contentType: "none", body: valid, want: "HTTP 415"},
		{name: "invalid UTF-8 in the address", body: replace(valid, "jo.bloggs", "jo.blo\xffggs"), want: "HTTP 400", reason: "UTF-8"},
		{name: "trailing data after the object", body: append(append([]byte{}, valid...), []byte(`{"data":{}}`)...), want: "HTTP 400", reason: "after the JSON object"},
		{name: "empty body", body: nil, want: "HTTP 400"},
		{name: "JSON null", body: []byte("null"), want: "HTTP 400"},
		{name: "data is null", body: []byte(`{"data":null}`), want: "HTTP 400"},
		{name: "start body on the submit route", path: bench.SubmitPath, body: valid, want: "HTTP 400", reason: "does not belong to this route"},

		// The address.
		{name: "uppercase", body: emailSignUp("JO.BLOGGS@EXAMPLE.ORG"), want: continued},
		{name: "surrounding spaces", body: emailSignUp("  " + invited + "\t"), want: continued},
		{name: "+tag", body: emailSignUp("jo.bloggs+signup@example.org"), want: notInvited},
		{name: "two @", body: emailSignUp(invited + "@evil.example"), want: noEmail},
		{name: "fullwidth look-alike", body: emailSignUp("ｊｏ.ｂｌｏｇｇｓ@example.org"), want: notInvited},
		{name: "Cyrillic о in the local part", body: emailSignUp("j\u043e.bloggs@example.org"), want: notInvited},
		{name: "Cyrillic а in the domain", body: emailSignUp("jo.bloggs@ex\u0430mple.org"), want: notInvited},
		{name: "zero-width space", body: emailSignUp("jo.bloggs\u200b@example.org"), want: notInvited},
		{name: "NUL byte", body: emailSignUp(invited + "\u0000"), want: noEmail},
		// U+212A and U+0130 lowercase to ASCII k and i: such an address is
		// refused rather than folded onto kim.li@example.org.
		{name: "Kelvin sign and dotted capital I", body: emailSignUp("\u212Aim.l\u0130@example.org"), want: noEmail},
		{name: "quote in the address", body: emailSignUp("o'brien@example.org"), want: notInvited},
		{name: "OData filter injection", body: emailSignUp("x'or'1'eq'1@example.org"), want: notInvited},
		{name: "invited domain as a suffix of another", body: emailSignUp("amy@evilpartner.example"), want: notInvited},
		{name: "invited domain as a subdomain", body: emailSignUp("amy@mail.partner.example"), want: notInvited},
		{name: "invited domain followed by another", body: emailSignUp("amy@partner.example.evil.example"), want: notInvited},

		// Where the address comes from.
		{name: "email attribute disagrees with the verified identity", body: signUpBody(false,
			[]identity{verified(stranger)}, map[string]any{"email": invited}), want: notInvited},
		{name: "verified identity invited, email attribute another", body: signUpBody(false,
			[]identity{verified(invited)}, map[string]any{"email": stranger}), want: continued},
		{name: "untrusted federated issuer asserts an invited address", body: signUpBody(false,
			[]identity{{SignInType: "federated", Issuer: "evil-idp.example", IssuerAssignedID: invited}}, nil), want: noEmail},
		{name: "untrusted federated issuer asserts an invited address, stranger's email attribute", body: signUpBody(false,
			[]identity{{SignInType: "federated", Issuer: "evil-idp.example", IssuerAssignedID: invited}}, map[string]any{"email": stranger}), want: noEmail},
		// The reproduced provenance bypasses.
		{name: "attacker-run OIDC provider, invited address in the email attribute", body: signUpBody(false,
			[]identity{{SignInType: "federated", Issuer: "https://login.attacker.example/", IssuerAssignedID: "attacker-1"}}, map[string]any{"email": invited}), want: noEmail},
		{name: "attacker-run OIDC provider named like Google", body: signUpBody(false,
			[]identity{{SignInType: "federated", Issuer: "google.com.attacker.example", IssuerAssignedID: "attacker-1"}}, map[string]any{"EmailAddress": invited}), want: noEmail},
		{name: "userName identity, invited address in the email attribute", body: signUpBody(false,
			[]identity{{SignInType: "userName", Issuer: "examplemembers.onmicrosoft.com", IssuerAssignedID: "jbloggs"}}, map[string]any{"email": invited}), want: noEmail},
		{name: "phoneNumber identity, invited address in the email attribute", body: signUpBody(false,
			[]identity{{SignInType: "phoneNumber", Issuer: "examplemembers.onmicrosoft.com", IssuerAssignedID: "+15550100"}}, map[string]any{"email": invited}), want: noEmail},
		{name: "submit without identities, invited address typed in, never started", path: bench.SubmitPath,
			body: signUpBody(true, nil, map[string]any{"email": invitedKim}), want: notApproved},
		{name: "submit with a Google identity that start never approved", path: bench.SubmitPath, body: signUpBody(true,
			[]identity{{SignInType: "federated", Issuer: "google.com", IssuerAssignedID: "attacker-google-id"}}, map[string]any{"email": invited}), want: notApproved},
		{name: "long s in a duplicate issuerAssignedId", body: replace(emailSignUp(stranger), `"issuerAssignedId":"`+stranger+`"`, `"issuerAssignedId":"`+stranger+`","i\u017f\u017fuerAssignedId":"`+invited+`"`), want: "HTTP 400", reason: "repeats the key"},
		{name: "Ångström sign in an address", body: emailSignUp("\u212Bsa@example.org"), want: noEmail},
		{name: "decomposed å in an address", body: emailSignUp("a\u030Asa@example.org"), want: noEmail},
		{name: "email attribute is a number", body: signUpBody(false, nil, map[string]any{"email": 42}), want: noEmail},
		{name: "no identities, no attributes", body: signUpBody(false, nil, nil), want: noEmail},
		{name: "unusable correlation id on submit", path: bench.SubmitPath,
			body: replaceCorrelation(signUpBody(true, []identity{verified(invited)}, nil), strings.Repeat("x ", 600)), want: continued},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = bench.StartPath
			}
			a := g.post(path, tc.body, tc.contentType)
			got := a.outcome()
			if got != tc.want {
				t.Fatalf("got %s, want %s; body %.300s", got, tc.want, a.raw)
			}
			if a.status != http.StatusOK {
				requireErrorBody(t, a)
				if !strings.Contains(string(a.raw), tc.reason) {
					t.Errorf("error body %s does not say %q", a.raw, tc.reason)
				}
				return
			}
			if want := routeDataType(path); a.dataType != want {
				t.Errorf("data @odata.type %q, want %q", a.dataType, want)
			}
		})
	}

	// After all that, the gate still answers.
	if msg := g.checkDecisions(); msg != "" {
		t.Fatal(msg)
	}
	if logs := g.Logs() + g.Stderr(); strings.Contains(logs, invited) || strings.Contains(logs, stranger) {
		t.Errorf("the log holds a raw email address")
	}
}

func routeDataType(path string) string {
	if path == bench.SubmitPath {
		return "microsoft.graph.onAttributeCollectionSubmitResponseData"
	}
	return "microsoft.graph.onAttributeCollectionStartResponseData"
}

// extractData returns the raw "data" object of body.
func extractData(t *testing.T, body []byte) json.RawMessage {
	var v struct{ Data json.RawMessage }
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	return v.Data
}

// replaceCorrelation sets the correlation id of body.
func replaceCorrelation(body []byte, id string) []byte {
	var v map[string]any
	json.Unmarshal(body, &v)
	v["data"].(map[string]any)["authenticationContext"].(map[string]any)["correlationId"] = id
	b, _ := json.Marshal(v)
	return b
}
