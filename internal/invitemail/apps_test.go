package invitemail_test

import (
	"context"
	"errors"
	"testing"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invite/invitetest"
	"github.com/invitegate/invitegate/internal/invitemail"
)

func TestSetApp(t *testing.T) {
	ctx := context.Background()
	store := invitetest.NewMemory()
	const url = "https://portal.contoso.example/signup?login_hint={email}"
	for _, tc := range []struct {
		name   string
		change invitemail.AppChange
		want   invite.App
		is     error
	}{
		{"new without a URL", invitemail.AppChange{ID: portalApp, Name: "Portal"}, invite.App{}, invitemail.ErrAppIncomplete},
		{"new without a name", invitemail.AppChange{ID: portalApp, SignupURL: url}, invite.App{}, invitemail.ErrAppIncomplete},
		{"new", invitemail.AppChange{ID: portalApp, Name: " Contoso Portal ", SignupURL: url + " "}, invite.App{ID: portalApp, Name: "Contoso Portal", SignupURL: url}, nil},
		{"rename keeps the URL", invitemail.AppChange{ID: portalApp, Name: "Portal"}, invite.App{ID: portalApp, Name: "Portal", SignupURL: url}, nil},
		{"nothing to change", invitemail.AppChange{ID: portalApp, Name: "  "}, invite.App{}, invitemail.ErrNoChange},
	} {
		got, err := invitemail.SetApp(ctx, store, tc.change)
		if got != tc.want || !errors.Is(err, tc.is) {
			t.Errorf("%s: %+v, %v; want %+v, %v", tc.name, got, err, tc.want, tc.is)
		}
		if stored, _ := store.GetApp(ctx, portalApp); tc.is == nil && stored != tc.want {
			t.Errorf("%s: registered %+v", tc.name, stored)
		}
	}
	bad := invitemail.AppChange{ID: portalApp, SignupURL: "http://portal.contoso.example/?h={email}"}
	var be *invitemail.BadSignupURLError
	if err := bad.Check(); !errors.As(err, &be) {
		t.Errorf("Check(http URL) = %v", err)
	}
	if _, err := invitemail.SetApp(ctx, store, bad); !errors.As(err, &be) {
		t.Errorf("SetApp(http URL) = %v", err)
	}
	if stored, _ := store.GetApp(ctx, portalApp); stored.SignupURL != url {
		t.Errorf("a refused change was written: %+v", stored)
	}
}
