package graph

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// This file is Entra's side of the contract: building the requests Entra
// posts and reading the answers the way Entra reads them. Tests, benchmarks
// and tools that play Entra use it, so that the "@odata.type" strings stay
// in this package.

// NewRequest returns the body Entra posts for event ev from the
// application named by source ("/tenants/{tenant}/applications/{app}"):
// the envelope type and the data "@odata.type" are those of ev, and the
// rest is d.
func NewRequest(ev Event, source string, d RequestData) Request {
	c := contracts[ev]
	d.ODataType = c.calloutData
	return Request{Type: c.eventType, Source: source, Data: d}
}

// StringAttribute returns a collected string attribute as Entra sends it,
// such as the "email" or "givenName" of the sign-up form. attributeType is
// "builtIn" or "directorySchemaExtension".
func StringAttribute(value, attributeType string) AttributeValue {
	b, _ := json.Marshal(value) // a string always marshals
	return AttributeValue{ODataType: stringValueType, Value: b, AttributeType: attributeType}
}

// DecodeResponse reads an answer to event ev as Entra would: a JSON object
// whose data "@odata.type" is ev's response type, holding exactly one
// action of ev. The error says what does not fit.
func DecodeResponse(r io.Reader, ev Event) (Response, error) {
	c, ok := contracts[ev]
	if !ok {
		return Response{}, fmt.Errorf("graph: unknown event %d", ev)
	}
	var resp Response
	if err := json.NewDecoder(io.LimitReader(r, MaxBodyBytes)).Decode(&resp); err != nil {
		return Response{}, fmt.Errorf("the answer is not a JSON response: %v", err)
	}
	if resp.Data.ODataType != c.responseData {
		return resp, fmt.Errorf("data @odata.type %q, want %q", truncate(resp.Data.ODataType), c.responseData)
	}
	if len(resp.Data.Actions) != 1 {
		return resp, fmt.Errorf("%d actions, want exactly 1", len(resp.Data.Actions))
	}
	if t := resp.Data.Actions[0].ODataType; !strings.HasPrefix(t, c.actionPrefix) {
		return resp, fmt.Errorf("action @odata.type %q is not an action of %s", truncate(t), ev)
	}
	return resp, nil
}

// BlockPage returns the title and message of a response that shows a block
// page, and ok false for any other response.
func (r Response) BlockPage() (title, message string, ok bool) {
	if r.ActionKind() != "showBlockPage" {
		return "", "", false
	}
	a := r.Data.Actions[0]
	return a.Title, a.Message, true
}
