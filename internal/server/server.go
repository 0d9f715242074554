// Package server is the gate's HTTP surface: the two routes Entra calls
// (through the Azure Functions host) and the host's readiness probe.
//
// A request reads top to bottom: authenticate, take a slot, decode, find
// the address Entra verified, look up the invitations, decide, answer.
// Every failure returns early, and no failure ever answers "continue".
package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/invitegate/invitegate/internal/graph"
	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/logsafe"
)

// Store is what the gate asks of the invitation store: one read and, at
// most, one write per request.
type Store interface {
	// Match reads the invitations and approvals of email for app.
	Match(ctx context.Context, email, app string) (invite.Match, error)
	// Redeem records a sign-up through inv (idempotent by correlationID).
	Redeem(ctx context.Context, inv invite.Invitation, email, correlationID string, at time.Time) (recorded bool, err error)
	// Approve records that start let email sign up, for the submit.
	Approve(ctx context.Context, a invite.Approval) error
}

// Deps is everything the server needs; New does no I/O of its own.
type Deps struct {
	Store        Store
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
	// EmailIssuers are the federated identity providers (the identity's
	// issuer, such as "google.com") whose email attribute the gate trusts
	// as the person's address. Nil means none: only local accounts.
	EmailIssuers []string
	// SignupWindow is how long a start's approval lets the submit of the
	// same sign-up continue (default DefaultSignupWindow).
	SignupWindow time.Duration
	// Hasher adds a keyed digest of the address to decision logs (the
	// zero Hasher adds none).
	Hasher logsafe.Hasher
}

// Messages are what a blocked person reads.
type Messages struct {
	NotInvited  string
	Expired     string
	Unavailable string
	NoEmail     string
	NotApproved string
}

// Defaults.
const (
	DefaultNotInvitedMessage  = "Sign-up is by invitation only, and this email address has not been invited. If you think this is a mistake, contact the person who invited you."
	DefaultExpiredMessage     = "Your invitation has expired. Ask the person who invited you for a new one."
	DefaultUnavailableMessage = "We can't check invitations right now. Please try again in a few minutes."
	DefaultNoEmailMessage     = "We couldn't read a verified email address from your account, so we can't check your invitation. Sign up with your email address instead."
	DefaultNotApprovedMessage = "We couldn't match this sign-up to the invitation it started with. Start again, and sign up with the email address your invitation was sent to."
	DefaultStoreTimeout       = 700 * time.Millisecond
	DefaultMaxInFlight        = 256
	DefaultSignupWindow       = 30 * time.Minute
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
	def(&m.NotApproved, DefaultNotApprovedMessage)
	return m
}

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
	if d.SignupWindow <= 0 {
		d.SignupWindow = DefaultSignupWindow
	}
	d.Messages = d.Messages.withDefaults()
	g := &gate{Deps: d, inFlight: make(chan struct{}, d.MaxInFlight)}
	g.shed = newRateLog(time.Second, func(_ string, n int64, _ string) {
		g.Log.Warn().Int64("turned_away", n).Int("max_in_flight", g.MaxInFlight).
			Msg("overloaded: requests answered with the unavailable page without asking the store")
	})
	g.rejected = newRateLog(time.Second, func(check string, n int64, detail string) {
		lv := g.Log.Warn().Str("outcome", "rejected").Str("check", check).Int64("count", n)
		if detail != "" {
			lv = lv.Str("error", detail)
		}
		lv.Msg("request not authenticated")
	})

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
	shed     *rateLog      // requests turned away, logged once a second
	rejected *rateLog      // unauthenticated requests, by check
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

// serveReady answers the Functions host's readiness probe and health
// pings. It touches nothing else, so it answers at once even while the
// store hangs.
func serveReady(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func serveNotFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, "not_found", "no such route: use POST /api/attributeStart or POST /api/attributeSubmit")
}

// Caps of what a request supplied and a log line repeats: header values
// (the invocation id), correlation ids, and an authentication error, which
// quotes claims of the token.
const (
	maxLoggedHeader = 64
	maxLoggedError  = 300
)

// serveEvent handles one of Entra's events.
func (g *gate) serveEvent(ev graph.Event) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started := time.Now()
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
			return
		}
		// One budget for everything that waits on something else: a key
		// fetch after a rotation, the body, then the store. Entra's clock
		// does not restart between them.
		ctx, cancel := context.WithTimeout(r.Context(), g.StoreTimeout)
		defer cancel()
		r = r.WithContext(ctx)

		if err := g.Auth.Authenticate(r); err != nil {
			g.reject(w, err)
			return
		}
		// Nothing the caller sent is logged before this point.
		log := g.Log.With().Str("event", ev.String()).Logger()
		if id := r.Header.Get("X-Azure-Functions-InvocationId"); id != "" {
			log = log.With().Str("invocation_id", logsafe.Cap(id, maxLoggedHeader)).Logger()
		}
		release, ok := g.admit()
		if !ok {
			g.shed.hit("", "")
			writeJSON(w, http.StatusOK, graph.Block(ev, titleUnavailable, g.Messages.Unavailable))
			return
		}
		defer release()

		if !isJSON(r.Header.Get("Content-Type")) {
			log.Warn().Int("status", http.StatusUnsupportedMediaType).Msg("request is not application/json")
			writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json")
			return
		}
		// A body trickled in byte by byte must not hold a slot past the
		// request's budget. (Not every ResponseWriter supports deadlines;
		// the real server's does.)
		deadline, _ := ctx.Deadline()
		_ = http.NewResponseController(w).SetReadDeadline(deadline)
		req, err := graph.Decode(http.MaxBytesReader(w, r.Body, graph.MaxBodyBytes+1), ev)
		if err != nil {
			status, code := requestFailure(err)
			log.Warn().Int("status", status).Err(err).Msg("request rejected")
			writeError(w, status, code, strings.TrimPrefix(err.Error(), graph.ErrBadRequest.Error()+": "))
			return
		}
		log = log.With().Str("correlation_id", logsafe.Cap(req.CorrelationID(), maxLoggedHeader)).Str("app_id", req.AppID()).Logger()

		v := g.decide(ctx, ev, req, log)
		g.logDecision(log, ev, v, time.Since(started))
		writeJSON(w, http.StatusOK, v.resp)
		if v.approval != nil {
			g.recordApproval(ctx, w, *v.approval, log)
		}
	})
}

// reject answers a request that failed authentication: the status and
// challenge the authenticator chose, one generic reason, and a log line
// (at most one a second per failed check, with a count).
func (g *gate) reject(w http.ResponseWriter, err error) {
	status, challenge, reason := authFailure(err)
	w.Header().Set("WWW-Authenticate", challenge)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	// The error quotes what the token held (expected vs actual): capped,
	// as the caller chose it.
	g.rejected.hit(failedCheck(err), logsafe.Cap(err.Error(), maxLoggedError))
	writeError(w, status, "unauthorized", reason)
}

// recordApproval writes the start's approval after the answer has gone
// out, within what is left of the request's budget: the person does not
// wait for it. If it fails, the submit of this sign-up finds no approval
// and is blocked with the NotApproved message; the person starts again.
func (g *gate) recordApproval(ctx context.Context, w http.ResponseWriter, a invite.Approval, log zerolog.Logger) {
	_ = http.NewResponseController(w).Flush()
	if err := g.Store.Approve(ctx, a); err != nil {
		log.Error().Err(err).Msg("approval not recorded: the submit of this sign-up will be blocked, and the person must start again")
	}
}

// logDecision writes the one decision line of a request.
func (g *gate) logDecision(log zerolog.Logger, ev graph.Event, v verdict, latency time.Duration) {
	lv := log.Info()
	if v.err != nil {
		lv = log.Error().Err(v.err)
	}
	if v.email != "" {
		lv = lv.Str("email", logsafe.MaskEmail(v.email))
		if h := g.Hasher.Email(v.email); h != "" {
			lv = lv.Str("email_hash", h)
		}
	}
	if v.source != "" {
		lv = lv.Str("email_source", v.source)
	}
	if v.reason != "" {
		lv = lv.Str("reason", v.reason)
	}
	if v.level != "" {
		lv = lv.Str("invite_level", string(v.level))
	}
	if ev == graph.AttributeCollectionSubmit && v.outcome == string(invite.Allowed) {
		lv = lv.Bool("redemption_recorded", v.recorded)
		if v.overwritten {
			lv = lv.Bool("email_overwritten", true)
		}
	}
	lv.Str("outcome", v.outcome).Str("action", v.resp.ActionKind()).Dur("latency", latency).Msg("decision")
}

// failedCheck names the check an authentication error failed, for logs.
func failedCheck(err error) string {
	var c interface{ Check() string }
	if errors.As(err, &c) && c.Check() != "" {
		return c.Check()
	}
	return "unknown"
}
