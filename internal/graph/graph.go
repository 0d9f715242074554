// Package graph encodes the wire contract of Microsoft Entra External ID custom
// authentication extensions for the OnAttributeCollectionStart and
// OnAttributeCollectionSubmit events: the request Entra posts, and the
// Microsoft Graph response types it accepts back.
//
// It is the only package that knows the "@odata.type" strings. Everything
// else speaks in terms of Event, Request and Response.
package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/invitegate/invitegate/internal/invite"
)

// Event is one of the two sign-up events this project serves.
type Event int

const (
	// AttributeCollectionStart runs before the sign-up form renders.
	AttributeCollectionStart Event = iota + 1
	// AttributeCollectionSubmit runs after the form is submitted, before the
	// account is created.
	AttributeCollectionSubmit
)

// contract holds the strings Entra uses for one event.
type contract struct {
	eventType    string // envelope "type"
	calloutData  string // request data "@odata.type"
	responseData string // response data "@odata.type"
	actionPrefix string // prefix of every action "@odata.type"
}

var contracts = map[Event]contract{
	AttributeCollectionStart: {
		eventType:    "microsoft.graph.authenticationEvent.attributeCollectionStart",
		calloutData:  "microsoft.graph.onAttributeCollectionStartCalloutData",
		responseData: "microsoft.graph.onAttributeCollectionStartResponseData",
		actionPrefix: "microsoft.graph.attributeCollectionStart.",
	},
	AttributeCollectionSubmit: {
		eventType:    "microsoft.graph.authenticationEvent.attributeCollectionSubmit",
		calloutData:  "microsoft.graph.onAttributeCollectionSubmitCalloutData",
		responseData: "microsoft.graph.onAttributeCollectionSubmitResponseData",
		actionPrefix: "microsoft.graph.attributeCollectionSubmit.",
	},
}

// String returns the event's name as Entra's user-flow settings show it.
func (e Event) String() string {
	switch e {
	case AttributeCollectionStart:
		return "OnAttributeCollectionStart"
	case AttributeCollectionSubmit:
		return "OnAttributeCollectionSubmit"
	}
	return "Event(" + strconv.Itoa(int(e)) + ")"
}

// Attribute value types, as the request's attribute "@odata.type".
const (
	stringValueType  = "microsoft.graph.stringDirectoryAttributeValue"
	int64ValueType   = "microsoft.graph.int64DirectoryAttributeValue"
	booleanValueType = "microsoft.graph.booleanDirectoryAttributeValue"
)

// MaxBodyBytes is the largest request body the gate reads. Real requests are
// a few kilobytes.
const MaxBodyBytes = 64 << 10

// maxDepth bounds JSON nesting. The contract's deepest path is four levels.
const maxDepth = 32

// Request is the body Entra posts for both events.
type Request struct {
	Type   string      `json:"type"`
	Source string      `json:"source"`
	Data   RequestData `json:"data"`
}

// RequestData is the request's "data" object.
type RequestData struct {
	ODataType                       string                `json:"@odata.type"`
	TenantID                        string                `json:"tenantId"`
	AuthenticationEventListenerID   string                `json:"authenticationEventListenerId"`
	CustomAuthenticationExtensionID string                `json:"customAuthenticationExtensionId"`
	AuthenticationContext           AuthenticationContext `json:"authenticationContext"`
	UserSignUpInfo                  UserSignUpInfo        `json:"userSignUpInfo"`
}

// AuthenticationContext describes the sign-up in progress.
type AuthenticationContext struct {
	CorrelationID            string           `json:"correlationId"`
	Client                   Client           `json:"client"`
	Protocol                 string           `json:"protocol"`
	ClientServicePrincipal   ServicePrincipal `json:"clientServicePrincipal"`
	ResourceServicePrincipal ServicePrincipal `json:"resourceServicePrincipal"`
}

// Client is the user's browser as Entra saw it.
type Client struct {
	IP     string `json:"ip"`
	Locale string `json:"locale"`
	Market string `json:"market"`
}

// ServicePrincipal names an application in the tenant.
type ServicePrincipal struct {
	ID             string `json:"id"`
	AppID          string `json:"appId"`
	AppDisplayName string `json:"appDisplayName"`
	DisplayName    string `json:"displayName"`
}

// UserSignUpInfo carries what is known about the person signing up.
type UserSignUpInfo struct {
	Attributes map[string]AttributeValue `json:"attributes"`
	Identities []Identity                `json:"identities"`
}

// AttributeValue is one collected attribute. Value is kept raw because its
// JSON type depends on ODataType (string, number or boolean).
type AttributeValue struct {
	// ODataType is matched case-insensitively by encoding/json, so the
	// "@odata.Type" spelling seen in Microsoft's own samples decodes too.
	ODataType     string          `json:"@odata.type"`
	Value         json.RawMessage `json:"value"`
	AttributeType string          `json:"attributeType"`
}

// Identity is one way the person proved who they are.
type Identity struct {
	SignInType       string `json:"signInType"`
	Issuer           string `json:"issuer"`
	IssuerAssignedID string `json:"issuerAssignedId"`
}

// Errors of Decode. Every one wraps ErrBadRequest: the body is not a request
// this route accepts. ErrTooLarge also says why.
var (
	ErrBadRequest = errors.New("bad request")
	// ErrTooLarge: the body is larger than MaxBodyBytes.
	ErrTooLarge = fmt.Errorf("%w: body is larger than %d bytes", ErrBadRequest, MaxBodyBytes)
)

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadRequest}, args...)...)
}

// Decode reads and checks one request for event ev from r. It reads at most
// MaxBodyBytes. It rejects bodies that are not valid UTF-8 JSON objects, that
// nest deeper than the contract needs, that repeat a key, that lack "data",
// or whose event type does not belong to ev. Every error wraps ErrBadRequest
// and names the problem without echoing the body.
func Decode(r io.Reader, ev Event) (*Request, error) {
	c, ok := contracts[ev]
	if !ok {
		return nil, fmt.Errorf("graph: unknown event %d", ev)
	}
	body, err := io.ReadAll(io.LimitReader(r, MaxBodyBytes+1))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, ErrTooLarge
		}
		return nil, fmt.Errorf("%w: reading body: %w", ErrBadRequest, err)
	}
	if len(body) > MaxBodyBytes {
		return nil, ErrTooLarge
	}
	if !utf8.Valid(body) {
		return nil, badRequest("body is not valid UTF-8")
	}
	if err := checkShape(body); err != nil {
		return nil, err
	}
	var req Request
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, badRequest("body does not match the request schema: %v", jsonErrorText(err))
	}
	if req.Data.ODataType == "" && req.Type == "" {
		return nil, badRequest(`"data" with an "@odata.type" is required`)
	}
	if req.Type != "" && !strings.EqualFold(req.Type, c.eventType) {
		return nil, badRequest("event type %q does not belong to this route (want %q)", truncate(req.Type), c.eventType)
	}
	if req.Data.ODataType != "" && !strings.EqualFold(req.Data.ODataType, c.calloutData) {
		return nil, badRequest("data @odata.type %q does not belong to this route (want %q)", truncate(req.Data.ODataType), c.calloutData)
	}
	return &req, nil
}

// checkShape makes one pass over the bytes before anything is decoded: the
// top level must be an object with a "data" member, nesting is bounded, and
// no object repeats a key (encoding/json would silently keep the last one,
// so a body could mean different things to different parsers). It only
// needs to find strings, keys and brackets; json.Unmarshal, which runs
// next, checks everything else about the syntax.
func checkShape(body []byte) error {
	i := skipSpace(body, 0)
	if i == len(body) || body[i] != '{' {
		return notAnObject(body)
	}
	type frame struct {
		object bool
		keys   map[string]struct{}
	}
	stack := make([]frame, 0, 8)
	expectKey, sawData := false, false
	for ; i < len(body); i++ {
		switch c := body[i]; c {
		case '{', '[':
			if len(stack) >= maxDepth {
				return badRequest("JSON nests deeper than %d levels", maxDepth)
			}
			stack = append(stack, frame{object: c == '{'})
			expectKey = c == '{'
		case '}', ']':
			if len(stack) == 0 || stack[len(stack)-1].object != (c == '}') {
				return badRequest("body is not JSON: unbalanced %q at byte %d", c, i)
			}
			stack = stack[:len(stack)-1]
			expectKey = false
			if len(stack) == 0 {
				if skipSpace(body, i+1) != len(body) {
					return badRequest("body has data after the JSON object")
				}
				if !sawData {
					return badRequest(`"data" is required`)
				}
				return nil
			}
		case ',':
			expectKey = len(stack) > 0 && stack[len(stack)-1].object
		case '"':
			end, escaped := stringEnd(body, i)
			if end < 0 {
				return badRequest("body is not JSON: unterminated string at byte %d", i)
			}
			if expectKey {
				key := string(body[i+1 : end])
				if escaped {
					if err := json.Unmarshal(body[i:end+1], &key); err != nil {
						return badRequest("body is not JSON: bad string at byte %d", i)
					}
				}
				f := &stack[len(stack)-1]
				if f.keys == nil {
					f.keys = make(map[string]struct{}, 8)
				}
				// encoding/json matches struct fields case-insensitively,
				// so "Data" and "data" would collide too, and so would
				// "issuerAssignedId" and "iſſuerAssignedId" (U+017F).
				folded := foldKey(key)
				if _, dup := f.keys[folded]; dup {
					return badRequest("JSON object repeats the key %q", truncate(key))
				}
				f.keys[folded] = struct{}{}
				if len(stack) == 1 && folded == "DATA" {
					sawData = true
				}
				expectKey = false
			}
			i = end
		}
	}
	return badRequest("body is not JSON: unexpected end")
}

// stringEnd returns the index of the quote that closes the string opening
// at body[start], or -1, and whether the string holds escapes.
func stringEnd(body []byte, start int) (end int, escaped bool) {
	for i := start + 1; i < len(body); i++ {
		switch body[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			return i, escaped
		}
	}
	return -1, escaped
}

func skipSpace(body []byte, i int) int {
	for i < len(body) && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r') {
		i++
	}
	return i
}

// notAnObject explains a body that does not start with "{".
func notAnObject(body []byte) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return badRequest("body is not JSON: %v", jsonErrorText(err))
	}
	return badRequest("body must be a JSON object")
}

func jsonErrorText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s has the wrong JSON type (%s)", te.Field, te.Value)
	}
	return "malformed JSON"
}

func truncate(s string) string {
	const n = 80
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// CorrelationID returns the Entra correlation id, the key for logs and for
// idempotent redemption.
func (r *Request) CorrelationID() string { return r.Data.AuthenticationContext.CorrelationID }

// AppID returns the appId of the application the person is signing up to,
// lowercased, or "" when Entra did not say or sent something that is not a
// GUID (then only invitations for any application can apply).
func (r *Request) AppID() string {
	id := strings.ToLower(strings.TrimSpace(r.Data.AuthenticationContext.ClientServicePrincipal.AppID))
	if !invite.IsGUID(id) {
		return ""
	}
	return id
}

func (a AttributeValue) stringValue() (string, bool) {
	var s string
	if len(a.Value) == 0 || a.Value[0] != '"' {
		return "", false
	}
	if err := json.Unmarshal(a.Value, &s); err != nil {
		return "", false
	}
	return s, true
}

// kind returns the attribute's value type: "string", "int64" or "boolean".
func (a AttributeValue) kind() string {
	switch strings.ToLower(a.ODataType) {
	case strings.ToLower(int64ValueType):
		return "int64"
	case strings.ToLower(booleanValueType):
		return "boolean"
	}
	return "string"
}

// TypedValues converts values (attribute name → text, as stored with an
// invitation) into the JSON types Entra expects for this request: a number
// for an int64 attribute, a boolean for a boolean one, a string otherwise.
// Names are matched to the request's attributes case-insensitively and sent
// with the request's spelling. A value that cannot be converted to its
// attribute's type is left out and reported in skipped.
func (r *Request) TypedValues(values map[string]string) (typed map[string]any, skipped []string) {
	if len(values) == 0 {
		return nil, nil
	}
	attrs := r.Data.UserSignUpInfo.Attributes
	typed = make(map[string]any, len(values))
	for name, text := range values {
		key, attr, found := name, AttributeValue{}, false
		if a, ok := attrs[name]; ok {
			attr, found = a, true
		} else {
			for k, a := range attrs {
				if strings.EqualFold(k, name) {
					key, attr, found = k, a, true
					break
				}
			}
		}
		if !found {
			typed[key] = text
			continue
		}
		switch attr.kind() {
		case "int64":
			n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
			if err != nil {
				skipped = append(skipped, name)
				continue
			}
			typed[key] = n
		case "boolean":
			b, err := strconv.ParseBool(strings.TrimSpace(text))
			if err != nil {
				skipped = append(skipped, name)
				continue
			}
			typed[key] = b
		default:
			typed[key] = text
		}
	}
	return typed, skipped
}

// Response is the body the gate answers with: HTTP 200, application/json,
// exactly one action.
type Response struct {
	Data ResponseData `json:"data"`
}

// ResponseData holds the response type and its single action.
type ResponseData struct {
	ODataType string   `json:"@odata.type"`
	Actions   []Action `json:"actions"`
}

// Action is one Graph action. Only the fields of its type are set.
type Action struct {
	ODataType  string         `json:"@odata.type"`
	Title      string         `json:"title,omitempty"`
	Message    string         `json:"message,omitempty"`
	Inputs     map[string]any `json:"inputs,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

func respond(ev Event, a Action) Response {
	c := contracts[ev]
	a.ODataType = c.actionPrefix + a.ODataType
	return Response{Data: ResponseData{ODataType: c.responseData, Actions: []Action{a}}}
}

// Continue lets the sign-up go on unchanged.
func Continue(ev Event) Response {
	return respond(ev, Action{ODataType: "continueWithDefaultBehavior"})
}

// Block stops the sign-up and shows the person a page with title and message.
func Block(ev Event, title, message string) Response {
	return respond(ev, Action{ODataType: "showBlockPage", Title: title, Message: message})
}

// Prefill lets the sign-up go on with the form prefilled (start only). With
// no inputs it is Continue.
func Prefill(inputs map[string]any) Response {
	if len(inputs) == 0 {
		return Continue(AttributeCollectionStart)
	}
	return respond(AttributeCollectionStart, Action{ODataType: "setPrefillValues", Inputs: inputs})
}

// Modify lets the sign-up go on with attributes overwritten (submit only).
// With no attributes it is Continue.
func Modify(attributes map[string]any) Response {
	if len(attributes) == 0 {
		return Continue(AttributeCollectionSubmit)
	}
	return respond(AttributeCollectionSubmit, Action{ODataType: "modifyAttributeValues", Attributes: attributes})
}

// ActionKind returns the short name of the response's action, such as
// "continueWithDefaultBehavior" or "showBlockPage", for logs.
func (r Response) ActionKind() string {
	if len(r.Data.Actions) != 1 {
		return ""
	}
	t := r.Data.Actions[0].ODataType
	return t[strings.LastIndexByte(t, '.')+1:]
}

// Continues reports whether the response lets the sign-up go on.
func (r Response) Continues() bool {
	switch r.ActionKind() {
	case "continueWithDefaultBehavior", "setPrefillValues", "modifyAttributeValues":
		return true
	}
	return false
}
