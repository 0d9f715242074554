// Package server is the gate's HTTP surface: the two routes Entra calls
// (through the Azure Functions host) and the host's readiness probe.
//
// A request reads top to bottom: authenticate, decode, find the email, look
// up the invitations, decide, answer. Every failure returns early, and no
// failure ever answers "continue".
package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/invitegate/invitegate/internal/graph"
	"github.com/invitegate/invitegate/internal/invite"
)

// Deps is everything the server needs; New does no I/O of its own.
type Deps struct {
	Store        invite.Store
	Auth         Authenticator
	Log          zerolog.Logger
	Now          func() time.Time // default time.Now
	Messages     Messages         // empty fields take the defaults
	StoreTimeout time.Duration    // all store work of one request; default 700ms
	// MaxInFlight bounds the sign-up requests being answered at once
	// (default 256). Past it, a request gets the "unavailable" block page
	// at once instead of queueing for a store that is already behind:
	// memory stays bounded and nobody waits out Entra's timeout.
	MaxInFlight int
}

// Messages are what a blocked person reads.
type Messages struct {
	NotInvited  string
	Expired     string
	Unavailable string
	NoEmail     string
}

// Default messages.
const (
	DefaultNotInvitedMessage  = "Sign-up is by invitation only, and this email address has not been invited. If you think this is a mistake, contact the person who invited you."
	DefaultExpiredMessage     = "Your invitation has expired. Ask the person who invited you for a new one."
	DefaultUnavailableMessage = "We can't check invitations right now. Please try again in a few minutes."
	DefaultNoEmailMessage     = "We couldn't read a verified email address from your account, so we can't check your invitation. Sign up with your email address instead."
	DefaultStoreTimeout       = 700 * time.Millisecond
	DefaultMaxInFlight        = 256
)

func (m Messages) withDefaults() Messages {
	def := func(s *string, d string) {
		if strings.TrimSpace(*s) == "" {
			*s = d
		}
	}
	def(&m.NotInvited, DefaultNotInvitedMessage)
	def(&m.Expired, DefaultExpiredMessage)
	def(&m.Unavailable, DefaultUnavailableMessage)
	def(&m.NoEmail, DefaultNoEmailMessage)
	return m
}

// Block page titles.
const (
	titleNotInvited  = "Invitation required"
	titleExpired     = "Invitation expired"
	titleUnavailable = "Service temporarily unavailable"
)

// New returns the gate's HTTP handler. All routes are listed here.
func New(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.StoreTimeout <= 0 {
		d.StoreTimeout = DefaultStoreTimeout
	}
	if d.MaxInFlight <= 0 {
		d.MaxInFlight = DefaultMaxInFlight
	}
	d.Messages = d.Messages.withDefaults()
	g := &gate{Deps: d, inFlight: make(chan struct{}, d.MaxInFlight)}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", serveReady)
	// Entra's two events, at the paths the Functions host forwards: any
	// case, with or without a trailing slash, as the host routes them.
	mux.Handle("/", hostRoutes(map[string]http.Handler{
		"/api/attributeStart":  g.serveEvent(graph.AttributeCollectionStart),
		"/api/attributeSubmit": g.serveEvent(graph.AttributeCollectionSubmit),
	}, http.HandlerFunc(serveNotFound)))
	return recoverer(d.Log, mux)
}

type gate struct {
	Deps
	inFlight chan struct{} // a slot per request being answered
	shed     atomic.Int64  // requests turned away since the last log line
	shedLog  atomic.Int64  // unix seconds of that line
}

// admit takes a slot for one request, or reports false when all are taken.
func (g *gate) admit() (release func(), ok bool) {
	select {
	case g.inFlight <- struct{}{}:
		return func() { <-g.inFlight }, true
	default:
		return nil, false
	}
}

// logShed logs turned-away requests at most once a second, with a count.
func (g *gate) logShed(ev graph.Event) {
	n := g.shed.Add(1)
	now := time.Now().Unix()
	if last := g.shedLog.Load(); now > last && g.shedLog.CompareAndSwap(last, now) {
		g.shed.Add(-n)
		g.Log.Warn().Str("event", ev.String()).Int64("turned_away", n).Int("max_in_flight", g.MaxInFlight).
			Msg("overloaded: requests answered with the unavailable page without asking the store")
	}
}

// serveReady answers the Functions host's readiness probe.
func serveReady(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func serveNotFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, "not_found", "no such route: use POST /api/attributeStart or POST /api/attributeSubmit")
}

// serveEvent handles one of Entra's events.
func (g *gate) serveEvent(ev graph.Event) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started := time.Now()
		log := g.Log.With().Str("event", ev.String()).Logger()
		if id := r.Header.Get("X-Azure-Functions-InvocationId"); id != "" {
			log = log.With().Str("invocation_id", id).Logger()
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
			return
		}
		release, ok := g.admit()
		if !ok {
			g.logShed(ev)
			writeJSON(w, http.StatusOK, graph.Block(ev, titleUnavailable, g.Messages.Unavailable))
			return
		}
		defer release()
		// One budget for everything that waits on something else: a key
		// fetch after a rotation, then the store. Entra's clock does not
		// restart between them.
		ctx, cancel := context.WithTimeout(r.Context(), g.StoreTimeout)
		defer cancel()
		r = r.WithContext(ctx)

		if err := g.Auth.Authenticate(r); err != nil {
			status, challenge, reason := authFailure(err)
			w.Header().Set("WWW-Authenticate", challenge)
			if status == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", "5")
			}
			log.Warn().Int("status", status).Str("outcome", "rejected").Err(err).Msg("request not authenticated")
			writeError(w, status, "unauthorized", reason)
			return
		}

		if !isJSON(r.Header.Get("Content-Type")) {
			log.Warn().Int("status", http.StatusUnsupportedMediaType).Msg("request is not application/json")
			writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json")
			return
		}
		req, err := graph.Decode(http.MaxBytesReader(w, r.Body, graph.MaxBodyBytes+1), ev)
		if err != nil {
			status := http.StatusBadRequest
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) || strings.Contains(err.Error(), "larger than") {
				status = http.StatusRequestEntityTooLarge
			}
			log.Warn().Int("status", status).Err(err).Msg("request rejected")
			writeError(w, status, "bad_request", strings.TrimPrefix(err.Error(), graph.ErrBadRequest.Error()+": "))
			return
		}
		log = log.With().Str("correlation_id", req.CorrelationID()).Str("app_id", req.AppID()).Logger()

		v := g.decide(r.Context(), ev, req, log)
		lv := log.Info()
		if v.err != nil {
			lv = log.Error().Err(v.err)
		}
		if v.email != "" {
			lv = lv.Str("email", MaskEmail(v.email)).Str("email_hash", HashEmail(v.email)).Str("email_source", string(v.source))
		}
		if v.level != "" {
			lv = lv.Str("level", string(v.level))
		}
		if ev == graph.AttributeCollectionSubmit && v.outcome == string(invite.Allowed) {
			lv = lv.Bool("redemption_recorded", v.recorded)
		}
		lv.Str("outcome", v.outcome).Str("action", v.resp.ActionKind()).Dur("latency", time.Since(started)).Msg("decision")
		writeJSON(w, http.StatusOK, v.resp)
	})
}

// verdict is the answer to one request and what the decision log says.
type verdict struct {
	resp     graph.Response
	outcome  string
	level    invite.Level
	email    string
	source   graph.EmailSource
	recorded bool
	err      error // why the store could not answer
}

// decide answers a decoded request within ctx's deadline. Side notes (values left out, a failed
// redemption write) are logged on log; the decision itself by the caller.
func (g *gate) decide(ctx context.Context, ev graph.Event, req *graph.Request, log zerolog.Logger) verdict {
	email, source, ok := req.Email()
	if !ok {
		return verdict{resp: graph.Block(ev, titleNotInvited, g.Messages.NoEmail), outcome: "no_email"}
	}
	v := verdict{email: email, source: source}

	m, err := g.Store.Match(ctx, email, req.AppID())
	if err != nil {
		v.resp, v.outcome, v.err = graph.Block(ev, titleUnavailable, g.Messages.Unavailable), string(invite.Unavailable), err
		return v
	}
	now := g.Now()
	d := invite.Decide(m, now)
	v.outcome, v.level = string(d.Outcome), d.Level
	switch d.Outcome {
	case invite.Allowed:
	case invite.Expired:
		v.resp = graph.Block(ev, titleExpired, g.Messages.Expired)
		return v
	default:
		v.resp = graph.Block(ev, titleNotInvited, g.Messages.NotInvited)
		return v
	}

	if ev == graph.AttributeCollectionStart {
		inputs, skipped := req.TypedValues(d.Invitation.Prefill)
		if len(skipped) > 0 {
			log.Warn().Strs("attributes", skipped).Msg("prefill values left out: they do not match the attribute's type")
		}
		v.resp = graph.Prefill(inputs)
		return v
	}

	// Submit: record the redemption, then enforce the invitation's values.
	// A failed write never blocks a sign-up the invitation allows.
	v.recorded, err = g.Store.Redeem(ctx, *d.Invitation, email, req.CorrelationID(), now)
	if err != nil {
		log.Error().Err(err).Str("email_hash", HashEmail(email)).Msg("redemption not recorded; the sign-up continues")
	}
	attrs, skipped := req.TypedValues(d.Invitation.Set)
	if len(skipped) > 0 {
		log.Warn().Strs("attributes", skipped).Msg("set values left out: they do not match the attribute's type")
	}
	v.resp = graph.Modify(attrs)
	return v
}

// authFailure maps an Authenticator error to a status, a challenge and a
// reason that is safe to send back.
func authFailure(err error) (status int, challenge, reason string) {
	status, challenge, reason = http.StatusUnauthorized, "Bearer", "the request is not authenticated"
	var s interface{ HTTPStatus() int }
	if errors.As(err, &s) && s.HTTPStatus() >= 400 {
		status = s.HTTPStatus()
	}
	if status == http.StatusServiceUnavailable {
		reason = "the signing keys are not loaded yet; try again shortly"
	}
	var c interface{ WWWAuthenticate() string }
	if errors.As(err, &c) && c.WWWAuthenticate() != "" {
		challenge = c.WWWAuthenticate()
	}
	var p interface{ PublicReason() string }
	if errors.As(err, &p) && p.PublicReason() != "" {
		reason = p.PublicReason()
	}
	return status, challenge, reason
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")))
}

// writeJSON writes every response: status, application/json, and v.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal","message":"response could not be encoded"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
}

// errorBody is the JSON body of every 4xx/5xx answer.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, errorBody{Error: code, Message: message})
}

// recoverer turns a panic into a logged 500: Entra shows the person a
// generic error, which fails closed.
func recoverer(log zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error().Interface("panic", v).Str("path", r.URL.Path).Msg("handler panicked")
				writeError(w, http.StatusInternalServerError, "internal", "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// MaskEmail keeps enough of an address to recognise it in a log without
// revealing it: the first character of the local part and the domain.
func MaskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return "***"
	}
	_, n := utf8.DecodeRuneInString(email)
	return email[:n] + "***" + email[at:]
}

// HashEmail returns a short, stable digest of a normalised address, so an
// operator who knows an address can find its log lines.
func HashEmail(email string) string {
	sum := sha256.Sum256([]byte("invitegate:" + email))
	return hex.EncodeToString(sum[:8])
}
