package signup_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invite/invitetest"
	"github.com/invitegate/invitegate/internal/signup"
)

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want string // "" when valid, else part of the error
	}{
		{"https://portal.contoso.com/signup?login_hint={email}", ""},
		{"https://portal.contoso.com/signup/{email}", ""},
		{"https://portal.contoso.com:8443/s?a=1&login_hint={email}#x", ""},
		{"https://portal.contoso.com/#/signup?hint={email}", ""},
		{"http://localhost:3000/signup?login_hint={email}", ""},
		{"http://127.0.0.1:3000/signup?login_hint={email}", ""},
		{"http://[::1]:3000/signup?login_hint={email}", ""},
		{"http://portal.contoso.com/signup?login_hint={email}", "https"},
		{"http://127.evil.example/signup?login_hint={email}", "https"},
		{"ftp://portal.contoso.com/{email}", "https"},
		{"https://portal.contoso.com/signup", "exactly once"},
		{"https://portal.contoso.com/?a={email}&b={email}", "exactly once"},
		{"https://{email}.contoso.com/signup", "host name"},
		{"https://portal.contoso.com{email}/x", "host name"},
		{"https://user:secret@portal.contoso.com/?h={email}", "user name or password"},
		{"/signup?login_hint={email}", "absolute"},
		{"portal.contoso.com/signup?login_hint={email}", "absolute"},
		{"https:///signup?login_hint={email}", "absolute"},
	} {
		err := signup.CheckURL(tc.url)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckURL(%q) = %v, want nil", tc.url, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("CheckURL(%q) = %v, want an error about %q", tc.url, err, tc.want)
		}
	}
}

func TestLinkEscapesTheAddress(t *testing.T) {
	for _, tc := range []struct{ template, email, want string }{
		{"https://portal.contoso.com/signup?login_hint={email}", "o'neil+x@example.org", "https://portal.contoso.com/signup?login_hint=o%27neil%2Bx%40example.org"},
		{"https://portal.contoso.com/signup?login_hint={email}&prompt=create", "jo&a=b@example.org", "https://portal.contoso.com/signup?login_hint=jo%26a%3Db%40example.org&prompt=create"},
		{"https://portal.contoso.com/signup/{email}", "jo@example.org", "https://portal.contoso.com/signup/jo%40example.org"},
	} {
		got, err := signup.Link(tc.template, tc.email)
		if err != nil || got != tc.want {
			t.Errorf("Link(%q, %q) = %q, %v; want %q", tc.template, tc.email, got, err, tc.want)
			continue
		}
		// What the application reads back is the address itself.
		u, err := url.Parse(got)
		if err != nil {
			t.Fatal(err)
		}
		if hint := u.Query().Get("login_hint"); strings.Contains(tc.template, "login_hint") && hint != tc.email {
			t.Errorf("login_hint of %q reads back as %q, want %q", got, hint, tc.email)
		}
	}
	if _, err := signup.Link("http://portal.contoso.com/?h={email}", "jo@example.org"); err == nil {
		t.Error("Link accepted a plain-http template for a public host")
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if c, err := signup.ConfigFromEnv(getenv); err != nil || c.DefaultURL != "" {
		t.Fatalf("unset: %+v, %v", c, err)
	}
	env[signup.EnvDefaultURL] = " https://contoso.com/join?login_hint={email} "
	if c, err := signup.ConfigFromEnv(getenv); err != nil || c.DefaultURL != "https://contoso.com/join?login_hint={email}" {
		t.Fatalf("set: %+v, %v", c, err)
	}
	env[signup.EnvDefaultURL] = "http://contoso.com/join?login_hint={email}"
	if _, err := signup.ConfigFromEnv(getenv); err == nil || !strings.Contains(err.Error(), signup.EnvDefaultURL) {
		t.Fatalf("plain http: %v, want an error naming %s", err, signup.EnvDefaultURL)
	}
}

const portalID = "5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f"

func TestLinksPerApplication(t *testing.T) {
	ctx := context.Background()
	store := invitetest.NewMemory()
	if err := store.PutApp(ctx, invite.App{ID: portalID, Name: "Contoso Portal", SignupURL: "https://portal.contoso.com/signup?login_hint={email}"}); err != nil {
		t.Fatal(err)
	}
	inv := func(app string) invite.Invitation {
		return invite.Invitation{Key: invite.Key{Subject: "jo@example.org", App: app}, Status: invite.StatusPending}
	}

	// Without a "*" entry or a default, an any-app invitation has no page.
	links := signup.NewLinks(store, signup.Config{})
	if _, _, err := links.For(ctx, inv(invite.AnyApp), "jo@example.org"); !errors.Is(err, signup.ErrNoSignupPage) || !strings.Contains(err.Error(), signup.EnvDefaultURL) {
		t.Fatalf("any-app invitation without a default: %v", err)
	}

	// INVITE_SIGNUP_URL is the default of "*"; the registry's entry wins.
	links = signup.NewLinks(store, signup.Config{DefaultURL: "https://contoso.com/join?login_hint={email}"})
	app, link, err := links.For(ctx, inv(invite.AnyApp), "jo@example.org")
	if err != nil || link != "https://contoso.com/join?login_hint=jo%40example.org" || app.Name != "contoso.com" {
		t.Fatalf("any-app invitation with the default: %+v %q %v", app, link, err)
	}
	app, link, err = links.For(ctx, inv(portalID), "jo@example.org")
	if err != nil || link != "https://portal.contoso.com/signup?login_hint=jo%40example.org" || app.Name != "Contoso Portal" {
		t.Fatalf("per-app invitation: %+v %q %v", app, link, err)
	}
	if err := store.PutApp(ctx, invite.App{ID: invite.AnyApp, Name: "Contoso", SignupURL: "https://www.contoso.com/start?hint={email}"}); err != nil {
		t.Fatal(err)
	}
	links = signup.NewLinks(store, signup.Config{DefaultURL: "https://contoso.com/join?login_hint={email}"})
	if app, link, err = links.For(ctx, inv(invite.AnyApp), "jo@example.org"); err != nil || link != "https://www.contoso.com/start?hint=jo%40example.org" || app.Name != "Contoso" {
		t.Fatalf("registered * over the default: %+v %q %v", app, link, err)
	}

	// An invitation for an unregistered app never falls back to another
	// application's page.
	other := "0c9b8a7d-3333-4c5d-9e8f-2b3c4d5e6f70"
	if _, _, err := links.For(ctx, inv(other), "jo@example.org"); !errors.Is(err, signup.ErrNoSignupPage) || !strings.Contains(err.Error(), "invitectl app set "+other) {
		t.Fatalf("unregistered app: %v", err)
	}

	// Answers are remembered: one registry call per application.
	links.For(ctx, inv(portalID), "jo@example.org")
	before := store.Calls()
	for range 3 {
		links.For(ctx, inv(portalID), "jo@example.org")
	}
	if n := store.Calls() - before; n != 0 {
		t.Errorf("%d registry calls for an application looked up before", n)
	}
}

func TestLinksStoreDown(t *testing.T) {
	store := invitetest.NewMemory()
	store.Err = invite.ErrUnavailable
	links := signup.NewLinks(store, signup.Config{DefaultURL: "https://contoso.com/join?login_hint={email}"})
	_, _, err := links.For(context.Background(), invite.Invitation{Key: invite.Key{Subject: "jo@example.org", App: invite.AnyApp}}, "jo@example.org")
	if !errors.Is(err, invite.ErrUnavailable) {
		t.Fatalf("store down: %v, want ErrUnavailable (never the default page)", err)
	}
}
