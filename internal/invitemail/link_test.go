package invitemail_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invite/invitetest"
	"github.com/invitegate/invitegate/internal/invitemail"
	"github.com/invitegate/invitegate/internal/signup"
)

func TestLink(t *testing.T) {
	ctx := context.Background()
	store := invitetest.NewMemory()
	for _, i := range []invite.Invitation{
		inv("jo@example.org", nil),
		inv("amy@example.org", func(i *invite.Invitation) { i.App = portalApp }),
		inv("rev@example.org", func(i *invite.Invitation) { i.Status = invite.StatusRevoked }),
		inv("old@example.org", func(i *invite.Invitation) { i.Expires = now.Add(-time.Hour) }),
		inv("@partner.example", nil),
	} {
		if err := store.Put(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	links := signup.NewLinks(store, signup.Config{DefaultURL: "https://contoso.example/join?login_hint={email}"})
	key := func(subject, app string) invite.Key { return invite.Key{Subject: subject, App: app} }
	for _, tc := range []struct {
		name      string
		key       invite.Key
		want      string         // the link, when allowed
		outcome   invite.Outcome // the gate's outcome, when not
		otherApps string         // NotAllowedError.OtherApps
		is        error          // or an error of this kind
	}{
		{"invited", key("jo@example.org", invite.AnyApp), "https://contoso.example/join?login_hint=jo%40example.org", "", "", nil},
		{"through the domain", key("kim@partner.example", invite.AnyApp), "https://contoso.example/join?login_hint=kim%40partner.example", "", "", nil},
		{"revoked", key("rev@example.org", invite.AnyApp), "", invite.Revoked, "", nil},
		{"expired", key("old@example.org", invite.AnyApp), "", invite.Expired, "", nil},
		{"never invited", key("nobody@example.org", invite.AnyApp), "", invite.NotInvited, "", nil},
		{"invited to one app only", key("amy@example.org", invite.AnyApp), "", invite.NotInvited, portalApp, nil},
		{"an app without a sign-up page", key("amy@example.org", portalApp), "", "", "", signup.ErrNoSignupPage},
	} {
		link, err := invitemail.Link(ctx, store, links, tc.key, now)
		var na *invitemail.NotAllowedError
		var ce *invitemail.ConfigError
		switch {
		case tc.want != "":
			if err != nil || link != tc.want {
				t.Errorf("%s: %q, %v; want %q", tc.name, link, err, tc.want)
			}
		case tc.outcome != "":
			if !errors.As(err, &na) || na.Decision.Outcome != tc.outcome || strings.Join(na.OtherApps, ",") != tc.otherApps || link != "" {
				t.Errorf("%s: %q, %v (%+v); want not allowed: %s, other apps %q", tc.name, link, err, na, tc.outcome, tc.otherApps)
			}
		default:
			if !errors.As(err, &ce) || !errors.Is(err, tc.is) || link != "" {
				t.Errorf("%s: %q, %v; want a ConfigError: %v", tc.name, link, err, tc.is)
			}
		}
	}
	store.Err = invite.ErrUnavailable
	if _, err := invitemail.Link(ctx, store, links, key("jo@example.org", invite.AnyApp), now); !errors.Is(err, invite.ErrUnavailable) {
		t.Errorf("store down: %v", err)
	}
}
