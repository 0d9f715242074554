package bench

import (
	"encoding/json"
	"strings"
)

// Routes the Functions host forwards to the handler.
const (
	StartPath  = "/api/attributeStart"
	SubmitPath = "/api/attributeSubmit"
)

// AppID is the application the bodies sign up to.
const AppID = "5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f"

// signUpTemplate is an email sign-up as Entra posts it (the shape of
// testdata/requests/start-email-password.json): the address is the
// verified identity and the email attribute. EVENT, DATATYPE, CORRELATION
// and EMAIL are filled in.
const signUpTemplate = `{
  "type": "microsoft.graph.authenticationEvent.EVENT",
  "source": "/tenants/` + TenantID + `/applications/` + AppID + `",
  "data": {
    "@odata.type": "microsoft.graph.DATATYPE",
    "tenantId": "` + TenantID + `",
    "authenticationEventListenerId": "0c9b8a7d-3333-4c5d-9e8f-2b3c4d5e6f70",
    "customAuthenticationExtensionId": "9a8b7c6d-4444-4d5e-8f90-3c4d5e6f7081",
    "authenticationContext": {
      "correlationId": CORRELATION,
      "client": { "ip": "203.0.113.42", "locale": "en-gb", "market": "en-gb" },
      "protocol": "OAUTH2.0",
      "clientServicePrincipal": { "id": "11aa22bb-6666-4f70-8a1b-5e6f708192a3", "appId": "` + AppID + `", "appDisplayName": "Members Portal", "displayName": "Members Portal" },
      "resourceServicePrincipal": { "id": "11aa22bb-6666-4f70-8a1b-5e6f708192a3", "appId": "` + AppID + `", "appDisplayName": "Members Portal", "displayName": "Members Portal" }
    },
    "userSignUpInfo": {
      "attributes": {
        "email": { "@odata.type": "microsoft.graph.stringDirectoryAttributeValue", "value": EMAIL, "attributeType": "builtIn" },
        "givenName": { "@odata.type": "microsoft.graph.stringDirectoryAttributeValue", "value": "", "attributeType": "builtIn" },
        "surname": { "@odata.type": "microsoft.graph.stringDirectoryAttributeValue", "value": "", "attributeType": "builtIn" },
        "companyName": { "@odata.type": "microsoft.graph.stringDirectoryAttributeValue", "value": "", "attributeType": "builtIn" }
      },
      "identities": [
        { "signInType": "email", "issuer": "examplemembers.onmicrosoft.com", "issuerAssignedId": EMAIL }
      ]
    }
  }
}`

// bodyParts is the template of each event split around its holes:
// parts[0] CORRELATION parts[1] EMAIL parts[2] EMAIL parts[3].
var bodyParts = map[bool][]string{
	false: splitTemplate("attributeCollectionStart", "onAttributeCollectionStartCalloutData"),
	true:  splitTemplate("attributeCollectionSubmit", "onAttributeCollectionSubmitCalloutData"),
}

func splitTemplate(event, dataType string) []string {
	s := strings.Replace(signUpTemplate, "EVENT", event, 1)
	s = strings.Replace(s, "DATATYPE", dataType, 1)
	var parts []string
	for _, hole := range []string{"CORRELATION", "EMAIL", "EMAIL"} {
		before, after, _ := strings.Cut(s, hole)
		parts = append(parts, before)
		s = after
	}
	return append(parts, s)
}

// SignUpBody returns the body of an email sign-up by email, on the submit
// event when submit is set and on the start event otherwise.
func SignUpBody(submit bool, email, correlationID string) []byte {
	p := bodyParts[submit]
	e, c := quoteJSON(email), quoteJSON(correlationID)
	b := make([]byte, 0, len(p[0])+len(p[1])+len(p[2])+len(p[3])+2*len(e)+len(c))
	b = append(b, p[0]...)
	b = append(b, c...)
	b = append(b, p[1]...)
	b = append(b, e...)
	b = append(b, p[2]...)
	b = append(b, e...)
	return append(b, p[3]...)
}

func quoteJSON(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}
