package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func startBody(signUpInfo string) string {
	return `{"type":"microsoft.graph.authenticationEvent.attributeCollectionStart","data":{"@odata.type":"microsoft.graph.onAttributeCollectionStartCalloutData","authenticationContext":{"correlationId":"c-1","clientServicePrincipal":{"appId":"5F3E2D1C-2222-4B3A-8C9D-1A2B3C4D5E6F"}},"userSignUpInfo":` + signUpInfo + `}}`
}

func TestEvidence(t *testing.T) {
	const google = `{"signInType":"federated","issuer":"google.com","issuerAssignedId":"1122334455"}`
	for _, tc := range []struct {
		name, info string
		want       Evidence
	}{
		{"email identity", `{"identities":[{"signInType":"email","issuer":"x.onmicrosoft.com","issuerAssignedId":" Jo@Example.ORG "}]}`,
			Evidence{SignIn: SignInLocal, Email: "jo@example.org"}},
		{"emailAddress identity", `{"identities":[{"signInType":"emailAddress","issuerAssignedId":"jo@example.org"}]}`,
			Evidence{SignIn: SignInLocal, Email: "jo@example.org"}},
		{"mail issuer (one-time passcode)", `{"identities":[{"signInType":"federated","issuer":"mail","issuerAssignedId":"jo@example.org"}]}`,
			Evidence{SignIn: SignInLocal, Email: "jo@example.org"}},
		{"signInType casing", `{"identities":[{"signInType":"EMAIL","issuerAssignedId":"jo@example.org"}]}`,
			Evidence{SignIn: SignInLocal, Email: "jo@example.org"}},
		{"google: EmailAddress attribute", `{"identities":[` + google + `],"attributes":{"EmailAddress":{"@odata.type":"microsoft.graph.stringDirectoryAttributeValue","value":"Alex@Gmail.com"}}}`,
			Evidence{SignIn: SignInFederated, Email: "alex@gmail.com", Issuer: "google.com", Subject: "1122334455", Attribute: attr("EmailAddress", "Alex@Gmail.com")}},
		{"google without an email attribute", `{"identities":[` + google + `]}`,
			Evidence{SignIn: SignInFederated, Problem: NoEmailAttribute, Issuer: "google.com", Subject: "1122334455"}},
		{"any federated issuer is reported, not judged", `{"identities":[{"signInType":"federated","issuer":"https://idp.evil.example/","issuerAssignedId":"jo@example.org"}],"attributes":{"email":{"value":"jo@example.org"}}}`,
			Evidence{SignIn: SignInFederated, Email: "jo@example.org", Issuer: "https://idp.evil.example/", Subject: "jo@example.org", Attribute: attr("email", "jo@example.org")}},
		{"two federated identities that disagree", `{"identities":[` + google + `,{"signInType":"federated","issuer":"facebook.com","issuerAssignedId":"99"}],"attributes":{"email":{"value":"jo@example.org"}}}`,
			Evidence{SignIn: SignInFederated, Problem: AmbiguousIdentities, Attribute: attr("email", "jo@example.org")}},
		{"the same federated identity twice", `{"identities":[` + google + `,` + google + `],"attributes":{"email":{"value":"jo@example.org"}}}`,
			Evidence{SignIn: SignInFederated, Email: "jo@example.org", Issuer: "google.com", Subject: "1122334455", Attribute: attr("email", "jo@example.org")}},
		{"userName identity proves no address", `{"identities":[{"signInType":"userName","issuer":"x.onmicrosoft.com","issuerAssignedId":"jo"}],"attributes":{"email":{"value":"jo@example.org"}}}`,
			Evidence{SignIn: SignInOther, Problem: UnverifiedSignInType, SignInType: "userName", Attribute: attr("email", "jo@example.org")}},
		{"phoneNumber identity proves no address", `{"identities":[{"signInType":"phoneNumber","issuer":"x.onmicrosoft.com","issuerAssignedId":"+15550100"}],"attributes":{"email":{"value":"jo@example.org"}}}`,
			Evidence{SignIn: SignInOther, Problem: UnverifiedSignInType, SignInType: "phoneNumber", Attribute: attr("email", "jo@example.org")}},
		{"no identities, email attribute", `{"attributes":{"email":{"value":"jo@example.org"}}}`,
			Evidence{SignIn: SignInNone, Email: "jo@example.org", Attribute: attr("email", "jo@example.org")}},
		{"empty identities array", `{"identities":[],"attributes":{"email":{"value":"jo@example.org"}}}`,
			Evidence{SignIn: SignInNone, Email: "jo@example.org", Attribute: attr("email", "jo@example.org")}},
		{"attribute name casing", `{"attributes":{"EMAIL":{"value":"jo@example.org"}}}`,
			Evidence{SignIn: SignInNone, Email: "jo@example.org", Attribute: attr("EMAIL", "jo@example.org")}},
		{"identity beats a disagreeing attribute", `{"identities":[{"signInType":"email","issuerAssignedId":"jo@example.org"}],"attributes":{"email":{"value":"boss@example.org"}}}`,
			Evidence{SignIn: SignInLocal, Email: "jo@example.org", Attribute: attr("email", "boss@example.org")}},
		{"email attribute preferred over EmailAddress", `{"attributes":{"EmailAddress":{"value":"b@example.org"},"email":{"value":"a@example.org"}}}`,
			Evidence{SignIn: SignInNone, Email: "a@example.org", Attribute: attr("email", "a@example.org")}},
		{"non-string attribute ignored", `{"attributes":{"email":{"value":42}}}`,
			Evidence{SignIn: SignInNone, Problem: NoEmailAttribute}},
		{"multiple @", `{"identities":[{"signInType":"email","issuerAssignedId":"jo@evil@example.org"}]}`,
			Evidence{SignIn: SignInLocal, Problem: NoAddressInIdentity}},
		{"no domain dot", `{"identities":[{"signInType":"email","issuerAssignedId":"jo@localhost"}]}`,
			Evidence{SignIn: SignInLocal, Problem: NoAddressInIdentity}},
		{"space inside", `{"identities":[{"signInType":"email","issuerAssignedId":"jo bloggs@example.org"}]}`,
			Evidence{SignIn: SignInLocal, Problem: NoAddressInIdentity}},
		{"table key characters", `{"identities":[{"signInType":"email","issuerAssignedId":"jo/../x@example.org"}]}`,
			Evidence{SignIn: SignInLocal, Problem: NoAddressInIdentity}},
		{"plus tag kept", `{"identities":[{"signInType":"email","issuerAssignedId":"Jo+News@example.org"}]}`,
			Evidence{SignIn: SignInLocal, Email: "jo+news@example.org"}},
		{"fullwidth look-alike kept distinct", `{"identities":[{"signInType":"email","issuerAssignedId":"ｊｏ@example.org"}]}`,
			Evidence{SignIn: SignInLocal, Email: "ｊｏ@example.org"}},
		{"Ångström sign refused", `{"identities":[{"signInType":"email","issuerAssignedId":"\u212Bsa@example.org"}]}`,
			Evidence{SignIn: SignInLocal, Problem: NoAddressInIdentity}},
		{"unusable verified identity does not fall back to the form", `{"identities":[{"signInType":"email","issuerAssignedId":"jo@evil@example.org"}],"attributes":{"email":{"value":"jo@example.org"}}}`,
			Evidence{SignIn: SignInLocal, Problem: NoAddressInIdentity, Attribute: attr("email", "jo@example.org")}},
		{"nothing", `{}`, Evidence{SignIn: SignInNone, Problem: NoEmailAttribute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := Decode(strings.NewReader(startBody(tc.info)), AttributeCollectionStart)
			if err != nil {
				t.Fatal(err)
			}
			if got := req.Evidence(); got != tc.want {
				t.Fatalf("Evidence() =\n  %+v\nwant\n  %+v", got, tc.want)
			}
		})
	}
}

func attr(key, value string) struct{ Key, Value string } {
	return struct{ Key, Value string }{key, value}
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct{ name, body, wantErr string }{
		{"not JSON", `nope`, "not JSON"},
		{"array", `[]`, "JSON object"},
		{"missing data", `{"type":"microsoft.graph.authenticationEvent.attributeCollectionStart"}`, `"data"`},
		{"data null type", `{"data":{}}`, "@odata.type"},
		{"wrong event type", `{"type":"microsoft.graph.authenticationEvent.attributeCollectionSubmit","data":{"@odata.type":"microsoft.graph.onAttributeCollectionStartCalloutData"}}`, "does not belong"},
		{"wrong data type", `{"data":{"@odata.type":"microsoft.graph.onTokenIssuanceStartCalloutData"}}`, "does not belong"},
		{"duplicate key", `{"data":{"@odata.type":"microsoft.graph.onAttributeCollectionStartCalloutData","tenantId":"a","tenantId":"b"}}`, "repeats the key"},
		{"duplicate key by case", `{"data":{"@odata.type":"microsoft.graph.onAttributeCollectionStartCalloutData"},"Data":{}}`, "repeats the key"},
		{"trailing data", `{"data":{"@odata.type":"microsoft.graph.onAttributeCollectionStartCalloutData"}} {}`, "after the JSON object"},
		{"deep nesting", `{"data":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40) + `}`, "nests deeper"},
		{"invalid UTF-8", "{\"data\":{\"@odata.type\":\"microsoft.graph.onAttributeCollectionStartCalloutData\",\"x\":\"\xff\"}}", "UTF-8"},
		{"wrong field type", `{"data":{"@odata.type":"microsoft.graph.onAttributeCollectionStartCalloutData","userSignUpInfo":{"identities":"jo@example.org"}}}`, "wrong JSON type"},
		{"too large", `{"data":{"x":"` + strings.Repeat("a", MaxBodyBytes) + `"}}`, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tc.body), AttributeCollectionStart)
			if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Decode = %v, want ErrBadRequest mentioning %q", err, tc.wantErr)
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	// Case variations, unknown fields and an envelope without "type" are fine.
	body := `{"source":"/tenants/x","extra":[1,{"a":null}],"data":{"@odata.type":"Microsoft.Graph.OnAttributeCollectionStartCalloutData","unknown":{"deep":[true]},"userSignUpInfo":{"attributes":{"city":{"@odata.Type":"microsoft.graph.int64DirectoryAttributeValue","value":3}}}}}`
	req, err := Decode(strings.NewReader(body), AttributeCollectionStart)
	if err != nil {
		t.Fatal(err)
	}
	if got := req.Data.UserSignUpInfo.Attributes["city"].kind(); got != "int64" {
		t.Fatalf("@odata.Type casing lost: kind %q", got)
	}
}

func TestAppIDNormalised(t *testing.T) {
	req, err := Decode(strings.NewReader(startBody(`{}`)), AttributeCollectionStart)
	if err != nil {
		t.Fatal(err)
	}
	if got := req.AppID(); got != "5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f" {
		t.Fatalf("AppID = %q", got)
	}
	req.Data.AuthenticationContext.ClientServicePrincipal.AppID = "*"
	if got := req.AppID(); got != "" {
		t.Fatalf("AppID of a non-GUID = %q, want \"\"", got)
	}
}

func TestTypedValues(t *testing.T) {
	req, err := Decode(strings.NewReader(startBody(`{"attributes":{
		"Year":{"@odata.type":"microsoft.graph.int64DirectoryAttributeValue","value":0},
		"news":{"@odata.type":"microsoft.graph.booleanDirectoryAttributeValue","value":false},
		"city":{"@odata.type":"microsoft.graph.stringDirectoryAttributeValue","value":""}}}`)), AttributeCollectionStart)
	if err != nil {
		t.Fatal(err)
	}
	got, skipped := req.TypedValues(map[string]string{"year": "2024", "news": "TRUE", "city": "007", "notCollected": "x", "Bad": "1"})
	want := map[string]any{"Year": int64(2024), "news": true, "city": "007", "notCollected": "x", "Bad": "1"}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) || len(skipped) != 0 {
		t.Fatalf("TypedValues = %s (skipped %v), want %s", gb, skipped, wb)
	}
	_, skipped = req.TypedValues(map[string]string{"Year": "soon", "news": "maybe"})
	if len(skipped) != 2 {
		t.Fatalf("values of the wrong type were not skipped: %v", skipped)
	}
}

func TestResponses(t *testing.T) {
	for _, tc := range []struct {
		name string
		resp Response
		want string
	}{
		{"start continue", Continue(AttributeCollectionStart), `{"data":{"@odata.type":"microsoft.graph.onAttributeCollectionStartResponseData","actions":[{"@odata.type":"microsoft.graph.attributeCollectionStart.continueWithDefaultBehavior"}]}}`},
		{"submit continue", Continue(AttributeCollectionSubmit), `{"data":{"@odata.type":"microsoft.graph.onAttributeCollectionSubmitResponseData","actions":[{"@odata.type":"microsoft.graph.attributeCollectionSubmit.continueWithDefaultBehavior"}]}}`},
		{"prefill", Prefill(map[string]any{"givenName": "Jo", "n": int64(2)}), `{"data":{"@odata.type":"microsoft.graph.onAttributeCollectionStartResponseData","actions":[{"@odata.type":"microsoft.graph.attributeCollectionStart.setPrefillValues","inputs":{"givenName":"Jo","n":2}}]}}`},
		{"empty prefill continues", Prefill(nil), `{"data":{"@odata.type":"microsoft.graph.onAttributeCollectionStartResponseData","actions":[{"@odata.type":"microsoft.graph.attributeCollectionStart.continueWithDefaultBehavior"}]}}`},
		{"modify", Modify(map[string]any{"city": "Leeds"}), `{"data":{"@odata.type":"microsoft.graph.onAttributeCollectionSubmitResponseData","actions":[{"@odata.type":"microsoft.graph.attributeCollectionSubmit.modifyAttributeValues","attributes":{"city":"Leeds"}}]}}`},
		{"start block", Block(AttributeCollectionStart, "T", "M"), `{"data":{"@odata.type":"microsoft.graph.onAttributeCollectionStartResponseData","actions":[{"@odata.type":"microsoft.graph.attributeCollectionStart.showBlockPage","title":"T","message":"M"}]}}`},
		{"submit block", Block(AttributeCollectionSubmit, "T", "M"), `{"data":{"@odata.type":"microsoft.graph.onAttributeCollectionSubmitResponseData","actions":[{"@odata.type":"microsoft.graph.attributeCollectionSubmit.showBlockPage","title":"T","message":"M"}]}}`},
	} {
		b, err := json.Marshal(tc.resp)
		if err != nil || string(b) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, b, tc.want)
		}
	}
	if Block(AttributeCollectionStart, "", "x").Continues() || !Prefill(nil).Continues() {
		t.Error("Continues() is wrong")
	}
}

// TestDuplicateKeysFoldedLikeEncodingJSON: a key that encoding/json would
// match to the same field as another key of the object is a duplicate,
// however it is spelt. Each pair is first shown to collide in
// encoding/json itself (the bypass), then to be refused by Decode.
func TestDuplicateKeysFoldedLikeEncodingJSON(t *testing.T) {
	for _, pair := range [][2]string{
		{"issuerAssignedId", "ISSUERASSIGNEDID"},
		{"issuerAssignedId", "i\u017f\u017fuerAssignedId"}, // long s folds to s
		{"signInType", "\u017fignInType"},
		{"identities", "identitie\u017f"},
		{"correlationId", "correlationId"},
	} {
		var v struct {
			Field string `json:"issuerAssignedId"`
		}
		probe := `{"` + pair[1] + `":"x"}`
		if pair[0] == "issuerAssignedId" {
			if err := json.Unmarshal([]byte(probe), &v); err != nil || v.Field != "x" {
				t.Fatalf("encoding/json does not match %q to field %q (got %q, %v): the test's premise is wrong", pair[1], pair[0], v.Field, err)
			}
		}
		info := `{"identities":[{"signInType":"federated","issuer":"google.com","` + pair[0] + `":"1","` + pair[1] + `":"2"}]}`
		if pair[0] != "issuerAssignedId" {
			info = `{"identities":[{"` + pair[0] + `":"a","` + pair[1] + `":"b"}]}`
		}
		_, err := Decode(strings.NewReader(startBody(info)), AttributeCollectionStart)
		if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "repeats the key") {
			t.Errorf("keys %q and %q in one object: Decode = %v, want a repeated-key error", pair[0], pair[1], err)
		}
	}
	// Keys that encoding/json keeps apart are not duplicates.
	if _, err := Decode(strings.NewReader(startBody(`{"attributes":{"city":{"value":"a"},"cities":{"value":"b"}}}`)), AttributeCollectionStart); err != nil {
		t.Errorf("distinct keys refused: %v", err)
	}
}

func TestFoldKey(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"data", "DATA", true},
		{"\u212Aey", "key", true}, // Kelvin sign
		{"\u017F", "s", true},
		{"\u00C5", "\u00E5", true},
		{"\u212B", "\u00E5", true}, // Ångström sign folds with å
		{"\u0130", "i", false},     // dotted capital I has no simple fold to i
		{"a", "b", false},
	} {
		if got := foldKey(tc.a) == foldKey(tc.b); got != tc.same {
			t.Errorf("foldKey(%q) == foldKey(%q) is %v, want %v", tc.a, tc.b, got, tc.same)
		}
		if eq := bytes.EqualFold([]byte(tc.a), []byte(tc.b)); eq != tc.same {
			t.Errorf("bytes.EqualFold(%q, %q) = %v: the table disagrees with the standard library", tc.a, tc.b, eq)
		}
	}
}
