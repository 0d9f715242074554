package graph

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func startBody(signUpInfo string) string {
	return `{"type":"microsoft.graph.authenticationEvent.attributeCollectionStart","data":{"@odata.type":"microsoft.graph.onAttributeCollectionStartCalloutData","authenticationContext":{"correlationId":"c-1","clientServicePrincipal":{"appId":"5F3E2D1C-2222-4B3A-8C9D-1A2B3C4D5E6F"}},"userSignUpInfo":` + signUpInfo + `}}`
}

func TestEmail(t *testing.T) {
	for _, tc := range []struct {
		name, info string
		want       string
		src        EmailSource
	}{
		{"email identity", `{"identities":[{"signInType":"email","issuer":"x.onmicrosoft.com","issuerAssignedId":" Jo@Example.ORG "}]}`, "jo@example.org", EmailFromIdentity},
		{"emailAddress identity", `{"identities":[{"signInType":"emailAddress","issuerAssignedId":"jo@example.org"}]}`, "jo@example.org", EmailFromIdentity},
		{"mail issuer (one-time passcode)", `{"identities":[{"signInType":"federated","issuer":"mail","issuerAssignedId":"jo@example.org"}]}`, "jo@example.org", EmailFromIdentity},
		{"signInType casing", `{"identities":[{"signInType":"EMAIL","issuerAssignedId":"jo@example.org"}]}`, "jo@example.org", EmailFromIdentity},
		{"google: email attribute", `{"identities":[{"signInType":"federated","issuer":"google.com","issuerAssignedId":"1122334455"}],"attributes":{"EmailAddress":{"@odata.type":"microsoft.graph.stringDirectoryAttributeValue","value":"Alex@Gmail.com"}}}`, "alex@gmail.com", EmailFromAttribute},
		{"no identities, email attribute", `{"attributes":{"email":{"value":"jo@example.org"}}}`, "jo@example.org", EmailFromAttribute},
		{"attribute name casing", `{"attributes":{"EMAIL":{"value":"jo@example.org"}}}`, "jo@example.org", EmailFromAttribute},
		{"identity beats a disagreeing attribute", `{"identities":[{"signInType":"email","issuerAssignedId":"jo@example.org"}],"attributes":{"email":{"value":"boss@example.org"}}}`, "jo@example.org", EmailFromIdentity},
		{"untrusted federated issuer's id is never used", `{"identities":[{"signInType":"federated","issuer":"evil.example","issuerAssignedId":"jo@example.org"}]}`, "", ""},
		{"email attribute preferred over EmailAddress", `{"attributes":{"EmailAddress":{"value":"b@example.org"},"email":{"value":"a@example.org"}}}`, "a@example.org", EmailFromAttribute},
		{"non-string attribute ignored", `{"attributes":{"email":{"value":42}}}`, "", ""},
		{"multiple @", `{"identities":[{"signInType":"email","issuerAssignedId":"jo@evil@example.org"}]}`, "", ""},
		{"no domain dot", `{"identities":[{"signInType":"email","issuerAssignedId":"jo@localhost"}]}`, "", ""},
		{"space inside", `{"identities":[{"signInType":"email","issuerAssignedId":"jo bloggs@example.org"}]}`, "", ""},
		{"table key characters", `{"identities":[{"signInType":"email","issuerAssignedId":"jo/../x@example.org"}]}`, "", ""},
		{"plus tag kept", `{"identities":[{"signInType":"email","issuerAssignedId":"Jo+News@example.org"}]}`, "jo+news@example.org", EmailFromIdentity},
		{"Unicode look-alike kept distinct", `{"identities":[{"signInType":"email","issuerAssignedId":"ｊｏ@example.org"}]}`, "ｊｏ@example.org", EmailFromIdentity},
		{"unusable verified identity does not fall back to the form", `{"identities":[{"signInType":"email","issuerAssignedId":"jo@evil@example.org"}],"attributes":{"email":{"value":"jo@example.org"}}}`, "", ""},
		{"nothing", `{}`, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := Decode(strings.NewReader(startBody(tc.info)), AttributeCollectionStart)
			if err != nil {
				t.Fatal(err)
			}
			got, src, ok := req.Email()
			if got != tc.want || src != tc.src || ok != (tc.want != "") {
				t.Fatalf("Email() = %q, %q, %v; want %q, %q", got, src, ok, tc.want, tc.src)
			}
		})
	}
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
