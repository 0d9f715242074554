// Package signup builds the links invitation messages carry: an
// application's own sign-up page with the invited address filled in.
// Entra External ID applications start sign-up themselves (MSAL with
// prompt=create and login_hint), so the link is the application's URL, not
// an authorize URL.
package signup

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/loopback"
)

// Placeholder marks where the invited address goes in a sign-up URL.
const Placeholder = "{email}"

// EnvDefaultURL names the setting with the sign-up page of invitations
// valid for any application, used when the registry has no entry for "*".
const EnvDefaultURL = "INVITE_SIGNUP_URL"

// Config holds the links' settings.
type Config struct {
	// DefaultURL is the sign-up page for invitations valid for any
	// application when the registry has no "*" entry ("" for none).
	DefaultURL string
}

// ConfigFromEnv reads INVITE_SIGNUP_URL through getenv and checks it.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{DefaultURL: strings.TrimSpace(getenv(EnvDefaultURL))}
	if c.DefaultURL != "" {
		if err := CheckURL(c.DefaultURL); err != nil {
			return c, fmt.Errorf("%s: %v", EnvDefaultURL, err)
		}
	}
	return c, nil
}

// CheckURL checks a sign-up URL template: an absolute https URL (http only
// for a loopback host), without user information, with {email} once, in
// its path, query or fragment.
func CheckURL(template string) error {
	if n := strings.Count(template, Placeholder); n != 1 {
		return fmt.Errorf("%q must contain %s exactly once, where the invited address goes, such as https://portal.contoso.com/signup?login_hint=%s", template, Placeholder, Placeholder)
	}
	// A neutral stand-in, so that the URL parses and the host can be told
	// apart from the place of the address.
	const probe = "invitee"
	u, err := url.Parse(strings.Replace(template, Placeholder, probe, 1))
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return fmt.Errorf("%q is not an absolute URL: use https://host/path?login_hint=%s", template, Placeholder)
	case u.User != nil:
		return fmt.Errorf("%q holds a user name or password: a link people receive must not", template)
	case strings.Index(template, Placeholder) < authorityEnd(template):
		return fmt.Errorf("%q puts %s in the host name: put it in the path or the query", template, Placeholder)
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback.URL(u):
	default:
		return fmt.Errorf("%q must use https (http is allowed for a loopback host only)", template)
	}
	return nil
}

// authorityEnd returns where the host (and port) of an absolute URL end.
func authorityEnd(s string) int {
	start := strings.Index(s, "://")
	if start < 0 {
		return 0
	}
	start += len("://")
	if end := strings.IndexAny(s[start:], "/?#"); end >= 0 {
		return start + end
	}
	return len(s)
}

// Link returns the sign-up link of template for email: {email} replaced
// by the address, escaped for a URL query (so "+" stays a plus and "'"
// cannot end an attribute). The result is checked as CheckURL checks the
// template.
func Link(template, email string) (string, error) {
	if err := CheckURL(template); err != nil {
		return "", err
	}
	return strings.Replace(template, Placeholder, url.QueryEscape(email), 1), nil
}

// Registry is where the links find an application: the registry of
// applications in the invitation store.
type Registry interface {
	GetApp(ctx context.Context, id string) (invite.App, error)
}

// Links finds each invitation's sign-up page. It asks the registry once
// per application and remembers the answer; it is safe for concurrent use.
type Links struct {
	registry Registry
	config   Config

	mu    sync.Mutex
	found map[string]appResult
}

type appResult struct {
	app invite.App
	err error
}

// NewLinks returns Links that look applications up in r.
func NewLinks(r Registry, c Config) *Links {
	return &Links{registry: r, config: c, found: map[string]appResult{}}
}

// ErrNoSignupPage: an application has no sign-up page to send people to.
var ErrNoSignupPage = errors.New("no sign-up page")

// App returns the registered application id (an appId or invite.AnyApp).
// An invitation for one application never falls back to another's page:
// that page's sign-up would not match the invitation. An invitation for
// any application uses the registry's "*" entry, or else Config.DefaultURL
// with the page's host as its name.
func (l *Links) App(ctx context.Context, id string) (invite.App, error) {
	if id == "" {
		id = invite.AnyApp
	}
	l.mu.Lock()
	r, ok := l.found[id]
	l.mu.Unlock()
	if ok {
		return r.app, r.err
	}
	app, err := l.registry.GetApp(ctx, id)
	switch {
	case err == nil:
		if err = CheckURL(app.SignupURL); err != nil {
			err = fmt.Errorf("the sign-up URL registered for %s: %v: fix it with invitectl app set %s --signup-url URL", describe(id), err, id)
		}
	case errors.Is(err, invite.ErrAppNotFound) && id == invite.AnyApp && l.config.DefaultURL != "":
		app, err = invite.App{ID: id, SignupURL: l.config.DefaultURL}, nil
		if u, perr := url.Parse(strings.Replace(app.SignupURL, Placeholder, "x", 1)); perr == nil {
			app.Name = u.Hostname()
		}
	case errors.Is(err, invite.ErrAppNotFound) && id == invite.AnyApp:
		err = fmt.Errorf("%w for invitations valid for any application: set %s, or register one with invitectl app set '*' --name NAME --signup-url URL", ErrNoSignupPage, EnvDefaultURL)
	case errors.Is(err, invite.ErrAppNotFound):
		err = fmt.Errorf("%w for application %s: register it with invitectl app set %s --name NAME --signup-url URL", ErrNoSignupPage, id, id)
	}
	if err != nil && !errors.Is(err, ErrNoSignupPage) && !errors.Is(err, invite.ErrUnavailable) {
		err = fmt.Errorf("%w: %v", ErrNoSignupPage, err)
	}
	if errors.Is(err, invite.ErrUnavailable) {
		return app, err // a store failure is not remembered: it may pass
	}
	l.mu.Lock()
	l.found[id] = appResult{app, err}
	l.mu.Unlock()
	return app, err
}

// For returns the application of inv and the link that email receives.
func (l *Links) For(ctx context.Context, inv invite.Invitation, email string) (invite.App, string, error) {
	app, err := l.App(ctx, inv.App)
	if err != nil {
		return app, "", err
	}
	link, err := Link(app.SignupURL, email)
	return app, link, err
}

func describe(id string) string {
	if id == invite.AnyApp {
		return "any application (*)"
	}
	return "application " + id
}
