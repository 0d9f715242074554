// Package entraauth proves that a request to the custom authentication
// extension comes from Microsoft Entra's authentication events service
// (client EventsAppID) calling on behalf of this tenant, for this
// extension's app registration.
//
// It has three modes, chosen by Config.Mode (ENTRA_AUTH):
//
//   - jwt (the default) validates the bearer token itself: RS256 signature
//     against the tenant's published keys, issuer, audience, caller, tenant
//     and lifetime. Keys are fetched in the background, never on a request's
//     critical path except to follow a key rotation.
//   - easyauth trusts App Service Authentication to have validated the token
//     and checks the caller, tenant and audience in the X-MS-CLIENT-PRINCIPAL
//     header it adds. It is refused on Flex Consumption, which is not
//     documented to strip that header when a caller forges it.
//   - off accepts every request, for local development only, and is refused
//     whenever the process runs in Azure.
//
// A refusal is an *Error. Its Check names the failed check for the log;
// what the caller sees (status, challenge) is the same for every check.
package entraauth

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"
)

// Mode is how requests are authenticated; see the package documentation.
type Mode string

// The modes, as spelled in ENTRA_AUTH.
const (
	ModeJWT      Mode = "jwt"
	ModeEasyAuth Mode = "easyauth"
	ModeOff      Mode = "off"
)

// Options are the dependencies of New.
type Options struct {
	// Logger receives key-fetch events and, at most every few seconds, why
	// requests get 503. Tokens are never logged.
	Logger zerolog.Logger

	// HTTPClient fetches discovery and keys; nil means a client with
	// timeouts that refuses redirects to plain http.
	HTTPClient *http.Client

	// MaxWait is the longest a request may wait for a key fetch; 0 means
	// 700ms. Pass the request's own budget (e.g. the store timeout).
	MaxWait time.Duration

	// Now is the clock for exp and nbf; nil means time.Now.
	Now func() time.Time
}

// tuning holds the timings tests shorten.
type tuning struct {
	refreshEvery   time.Duration // periodic key refresh
	refreshFloor   time.Duration // least time between unknown-kid refreshes
	retryMin       time.Duration // first retry after a failed fetch
	retryMax       time.Duration // longest retry interval
	fetchTimeout   time.Duration // one discovery+JWKS fetch
	noKeysLogEvery time.Duration // the "no keys, 503" log line
	cacheSize      int           // accepted tokens remembered; 0 disables
}

func defaultTuning() tuning {
	return tuning{
		refreshEvery:   time.Hour,
		refreshFloor:   5 * time.Minute,
		retryMin:       time.Second,
		retryMax:       30 * time.Second,
		fetchTimeout:   15 * time.Second,
		noKeysLogEvery: 10 * time.Second,
		cacheSize:      1024,
	}
}

const (
	defaultMaxWait = 700 * time.Millisecond
	clockSkew      = 5 * time.Minute
	maxTokenLen    = 16 << 10 // Entra's tokens are under 2 KB
)

// Authenticator checks that requests come from Microsoft Entra. It is safe
// for concurrent use.
type Authenticator struct {
	mode    Mode
	set     settings
	log     zerolog.Logger
	now     func() time.Time
	maxWait time.Duration

	// jwt mode only
	keys      *keySet
	cache     *tokenCache
	parser    *jwt.Parser
	timeCheck *jwt.Validator
	noKeysLog rateLimit
	verifies  atomic.Int64 // signature verifications, for tests
}

// New checks cfg (see Config.Validate) and returns an Authenticator. In jwt
// mode it starts fetching the tenant's signing keys in the background and
// returns at once; until they arrive, requests wait up to MaxWait and then
// get 503. Cancelling ctx stops the background refresh.
//
// In ModeOff it returns an Authenticator that accepts everything; the
// caller should log a loud warning when Mode() says so.
func New(ctx context.Context, cfg Config, o Options) (*Authenticator, error) {
	return newAuthenticator(ctx, cfg, o, defaultTuning())
}

func newAuthenticator(ctx context.Context, cfg Config, o Options, tune tuning) (*Authenticator, error) {
	set, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	a := &Authenticator{
		mode:    set.mode,
		set:     set,
		log:     o.Logger,
		now:     o.Now,
		maxWait: o.MaxWait,
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.maxWait <= 0 {
		a.maxWait = defaultMaxWait
	}
	switch a.mode {
	case ModeOff:
		return a, nil // the caller warns, as Mode() tells it to
	case ModeEasyAuth:
		a.log.Info().Str("mode", string(a.mode)).Str("tenant", set.tenant).Str("audience", set.audience).
			Msg("entraauth: trusting App Service Authentication")
		return a, nil
	}

	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithLeeway(clockSkew),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(a.now),
	}
	a.parser = jwt.NewParser(opts...)
	a.timeCheck = jwt.NewValidator(opts...)
	a.cache = newTokenCache(tune.cacheSize)
	a.noKeysLog.every = tune.noKeysLogEvery

	client := o.HTTPClient
	if client == nil {
		client = defaultHTTPClient()
	}
	a.keys = &keySet{
		ctx:          ctx,
		discoveryURL: set.authority + "/.well-known/openid-configuration",
		tenant:       set.tenant,
		client:       client,
		log:          a.log,
		now:          a.now,
		tune:         tune,
		onNewKeys:    a.cache.keepKids,
	}
	a.log.Info().Str("mode", string(a.mode)).Str("tenant", set.tenant).Str("audience", set.audience).
		Str("authority", set.authority).Msg("entraauth: validating bearer tokens")
	go a.keys.run()
	return a, nil
}

// Mode returns the mode in force (Config.Mode, with "" meaning ModeJWT).
func (a *Authenticator) Mode() Mode { return a.mode }

// Ready reports whether requests can be judged: in jwt mode, whether the
// signing keys have loaded at least once; in other modes, always.
func (a *Authenticator) Ready() bool {
	return a.mode != ModeJWT || a.keys.current() != nil
}

// Authenticate returns nil if r comes from Microsoft Entra's authentication
// events service for this tenant and extension, and otherwise an *Error. It
// reads headers only, never the body.
func (a *Authenticator) Authenticate(r *http.Request) error {
	var err *Error
	switch a.mode {
	case ModeOff:
		return nil
	case ModeEasyAuth:
		err = a.authenticateEasyAuth(r)
	default:
		err = a.authenticateJWT(r)
	}
	if err != nil {
		return err // not a typed nil
	}
	return nil
}

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSHandshakeTimeout = 5 * time.Second
	t.ResponseHeaderTimeout = 10 * time.Second
	t.MaxIdleConnsPerHost = 2
	return &http.Client{
		Transport: t,
		Timeout:   10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return http.ErrUseLastResponse
			}
			return checkFetchURL(req.URL)
		},
	}
}

// rateLimit lets one event through per period.
type rateLimit struct {
	every time.Duration
	last  atomic.Int64 // unix nanoseconds; 0 means never
}

func (l *rateLimit) allow(now time.Time) bool {
	n := now.UnixNano()
	last := l.last.Load()
	if last != 0 && n-last < int64(l.every) {
		return false
	}
	return l.last.CompareAndSwap(last, n)
}
