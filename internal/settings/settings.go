// Package settings reads the handler's configuration from the environment:
// every setting, checked, in one list (Handler). Each rule is written once
// here and reused by invitectl doctor, so the two never disagree. Errors
// name the setting and say what to write.
package settings

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/invitegate/invitegate/internal/entraauth"
	"github.com/invitegate/invitegate/internal/logsafe"
	"github.com/invitegate/invitegate/internal/server"
	"github.com/invitegate/invitegate/internal/tablestore"
)

// Handler is every setting the handler reads.
type Handler struct {
	Addr          string              // FUNCTIONS_CUSTOMHANDLER_PORT on 127.0.0.1 (default 8080)
	Store         tablestore.Settings // INVITATIONS_*
	Auth          entraauth.Config    // ENTRA_*
	StoreTimeout  time.Duration       // INVITE_STORE_TIMEOUT
	DomainRefresh time.Duration       // INVITE_DOMAIN_REFRESH
	SignupWindow  time.Duration       // INVITE_SIGNUP_WINDOW
	EmailIssuers  []string            // INVITE_EMAIL_ISSUERS
	Hasher        logsafe.Hasher      // INVITE_LOG_HASH_KEY
	Messages      server.Messages     // INVITE_*_MESSAGE
	LogLevel      zerolog.Level       // INVITE_LOG_LEVEL
}

// Bounds and defaults of the duration settings.
const (
	// MinStoreTimeout is enough for one round trip; MaxStoreTimeout stays
	// below Entra's 2 s limit for the whole answer.
	MinStoreTimeout = 50 * time.Millisecond
	MaxStoreTimeout = 1900 * time.Millisecond

	DefaultDomainRefresh = 30 * time.Second

	// The sign-up window: long enough to fill in the form after start
	// (and to fetch a passcode from a mailbox), short enough that an
	// approval is not left lying around.
	MinSignupWindow = time.Minute
	MaxSignupWindow = 24 * time.Hour
)

// DefaultEmailIssuers are the federated identity providers whose email
// attribute the gate trusts by default: Google (issuer "google.com", as
// Entra names it in a user's identities), whose accounts' addresses Google
// has verified. Facebook, Apple and custom OIDC or SAML providers are not
// trusted unless listed: Entra does not verify what they assert.
var DefaultEmailIssuers = []string{"google.com"}

// FromEnv reads and checks every setting through getenv.
func FromEnv(getenv func(string) string) (Handler, error) {
	h := Handler{
		Messages: server.Messages{
			NotInvited:  getenv("INVITE_BLOCK_MESSAGE"),
			Expired:     getenv("INVITE_EXPIRED_MESSAGE"),
			Unavailable: getenv("INVITE_UNAVAILABLE_MESSAGE"),
			NoEmail:     getenv("INVITE_NO_EMAIL_MESSAGE"),
			NotApproved: getenv("INVITE_NOT_APPROVED_MESSAGE"),
		},
	}
	var err error
	if h.Addr, err = Addr(getenv); err != nil {
		return h, err
	}
	if h.Store, err = tablestore.SettingsFromEnv(getenv); err != nil {
		return h, err
	}
	if h.Auth, err = entraauth.ConfigFromEnv(getenv); err != nil {
		return h, err
	}
	if h.StoreTimeout, err = StoreTimeout(getenv); err != nil {
		return h, err
	}
	if h.DomainRefresh, err = Duration(getenv, "INVITE_DOMAIN_REFRESH", DefaultDomainRefresh, time.Second, time.Hour, ""); err != nil {
		return h, err
	}
	if h.SignupWindow, err = Duration(getenv, "INVITE_SIGNUP_WINDOW", server.DefaultSignupWindow, MinSignupWindow, MaxSignupWindow,
		"how long after start the submit of a sign-up may come"); err != nil {
		return h, err
	}
	if h.EmailIssuers, err = EmailIssuers(getenv); err != nil {
		return h, err
	}
	if h.Hasher, err = LogHasher(getenv); err != nil {
		return h, err
	}
	if h.LogLevel, err = LogLevel(getenv); err != nil {
		return h, err
	}
	return h, nil
}

// Addr reads FUNCTIONS_CUSTOMHANDLER_PORT, the port the Functions host
// chose, and returns the loopback address to listen on.
func Addr(getenv func(string) string) (string, error) {
	port := strings.TrimSpace(getenv("FUNCTIONS_CUSTOMHANDLER_PORT"))
	if port == "" {
		port = "8080"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("FUNCTIONS_CUSTOMHANDLER_PORT %q is not a port number", port)
	}
	return net.JoinHostPort("127.0.0.1", port), nil
}

// StoreTimeout reads INVITE_STORE_TIMEOUT (default 700ms): the budget of
// one request for everything it waits on.
func StoreTimeout(getenv func(string) string) (time.Duration, error) {
	return Duration(getenv, "INVITE_STORE_TIMEOUT", server.DefaultStoreTimeout, MinStoreTimeout, MaxStoreTimeout,
		"Entra waits at most 2s for the whole answer")
}

// EmailIssuers reads INVITE_EMAIL_ISSUERS: a comma-separated list of the
// federated issuers whose email attribute the gate trusts, exactly as Entra
// names them in identities (such as google.com, facebook.com, or a custom
// provider's issuer URL). Unset means DefaultEmailIssuers; "none" means no
// provider: only local accounts can sign up.
func EmailIssuers(getenv func(string) string) ([]string, error) {
	v := strings.TrimSpace(getenv("INVITE_EMAIL_ISSUERS"))
	switch {
	case v == "":
		return append([]string(nil), DefaultEmailIssuers...), nil
	case strings.EqualFold(v, "none"):
		return nil, nil
	}
	var out []string
	for _, part := range strings.Split(v, ",") {
		iss := strings.TrimSpace(part)
		switch {
		case iss == "":
			continue
		case strings.EqualFold(iss, "mail"), strings.EqualFold(iss, "phone"):
			return nil, fmt.Errorf("INVITE_EMAIL_ISSUERS lists %q: that is a local sign-in, not an identity provider; local accounts are always accepted, so leave it out", iss)
		case strings.ContainsFunc(iss, func(r rune) bool { return r <= ' ' || r == 0x7f }):
			return nil, fmt.Errorf("INVITE_EMAIL_ISSUERS entry %q holds a space or control character: separate issuers with commas", iss)
		}
		out = append(out, iss)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("INVITE_EMAIL_ISSUERS %q names no issuer: list issuers such as google.com, or write none", v)
	}
	return out, nil
}

// LogHasher reads INVITE_LOG_HASH_KEY, the key of the email digests in
// decision logs. Unset: logs carry no digest. A key shorter than
// logsafe.MinHashKeyBytes is refused: it could be guessed.
func LogHasher(getenv func(string) string) (logsafe.Hasher, error) {
	k := strings.TrimSpace(getenv("INVITE_LOG_HASH_KEY"))
	if k == "" {
		return logsafe.Hasher{}, nil
	}
	if strings.HasPrefix(strings.ToLower(k), "@microsoft.keyvault(") {
		// App Service passes a Key Vault reference it could not resolve
		// as its literal text, which anyone who can list the settings
		// reads: keying digests with it would make them guessable.
		return logsafe.Hasher{}, fmt.Errorf("INVITE_LOG_HASH_KEY is an unresolved Key Vault reference: give the app's identity the Key Vault Secrets User role on the vault, and check that the reference shows as resolved")
	}
	if len(k) < logsafe.MinHashKeyBytes {
		return logsafe.Hasher{}, fmt.Errorf("INVITE_LOG_HASH_KEY is %d characters: use at least %d random ones (for example: openssl rand -hex 32)", len(k), logsafe.MinHashKeyBytes)
	}
	return logsafe.NewHasher(k), nil
}

// LogLevel reads INVITE_LOG_LEVEL (default info).
func LogLevel(getenv func(string) string) (zerolog.Level, error) {
	lv := strings.TrimSpace(getenv("INVITE_LOG_LEVEL"))
	if lv == "" {
		return zerolog.InfoLevel, nil
	}
	switch l, err := zerolog.ParseLevel(strings.ToLower(lv)); {
	case err != nil, l == zerolog.NoLevel, l < zerolog.DebugLevel, l > zerolog.ErrorLevel:
		return 0, fmt.Errorf("INVITE_LOG_LEVEL %q is not a level: use debug, info, warn or error", lv)
	default:
		return l, nil
	}
}

// Duration reads the duration setting name through getenv: def when
// unset, otherwise it must parse and lie within [min, max]. why, when
// given, says why the bounds.
func Duration(getenv func(string) string, name string, def, min, max time.Duration, why string) (time.Duration, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a duration: write it like %s", name, v, def)
	}
	if d < min || d > max {
		msg := fmt.Sprintf("%s %s is out of range: use %s to %s", name, d, min, max)
		if why != "" {
			msg += " (" + why + ")"
		}
		return 0, fmt.Errorf("%s", msg)
	}
	return d, nil
}
