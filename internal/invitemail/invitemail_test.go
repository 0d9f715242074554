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
	"github.com/invitegate/invitegate/internal/mail"
	"github.com/invitegate/invitegate/internal/mail/mailtest"
	"github.com/invitegate/invitegate/internal/signup"
)

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func inv(subject string, mod func(*invite.Invitation)) invite.Invitation {
	i := invite.Invitation{Key: invite.Key{Subject: subject, App: invite.AnyApp}, Status: invite.StatusPending, Created: now.Add(-10 * 24 * time.Hour)}
	if mod != nil {
		mod(&i)
	}
	return i
}

func TestJudge(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		name  string
		inv   invite.Invitation
		force bool
		want  invitemail.Outcome
		why   string
	}{
		{"pending", inv("jo@example.org", nil), false, invitemail.Sent, ""},
		{"redeemed", inv("jo@example.org", func(i *invite.Invitation) { i.Status = invite.StatusRedeemed }), false, invitemail.Sent, ""},
		{"domain", inv("@example.org", nil), true, invitemail.Skipped, "whole-domain"},
		{"revoked", inv("jo@example.org", func(i *invite.Invitation) { i.Status = invite.StatusRevoked }), true, invitemail.Failed, "revoked"},
		{"unknown status", inv("jo@example.org", func(i *invite.Invitation) { i.Status = "paused" }), true, invitemail.Failed, "unknown"},
		{"expired", inv("jo@example.org", func(i *invite.Invitation) { i.Expires = now }), true, invitemail.Failed, "expired"},
		{"valid until later", inv("jo@example.org", func(i *invite.Invitation) { i.Expires = now.Add(time.Second) }), false, invitemail.Sent, ""},
		{"mailed 3h ago", inv("jo@example.org", func(i *invite.Invitation) { i.RecordSent(now.Add(-3 * time.Hour)) }), false, invitemail.Skipped, "mailed 3 hours ago"},
		{"mailed 3h ago, forced", inv("jo@example.org", func(i *invite.Invitation) { i.RecordSent(now.Add(-3 * time.Hour)) }), true, invitemail.Sent, ""},
		{"mailed just under a day ago", inv("jo@example.org", func(i *invite.Invitation) { i.RecordSent(now.Add(-day + time.Second)) }), false, invitemail.Skipped, "--force"},
		{"mailed a day ago", inv("jo@example.org", func(i *invite.Invitation) { i.RecordSent(now.Add(-day)) }), false, invitemail.Sent, ""},
	} {
		v := invitemail.Judge(tc.inv, now, invitemail.DefaultWindow, tc.force)
		if v.Outcome != tc.want || !strings.Contains(v.Reason, tc.why) {
			t.Errorf("%s: %+v, want %s (%q)", tc.name, v, tc.want, tc.why)
		}
	}
}

func TestSelection(t *testing.T) {
	day := 24 * time.Hour
	reminders := invitemail.Selection{Status: invite.StatusPending, OlderThan: 7 * day}
	for _, tc := range []struct {
		name string
		inv  invite.Invitation
		sel  invitemail.Selection
		want bool
	}{
		{"pending, created 10 days ago", inv("jo@example.org", nil), reminders, true},
		{"pending, created 2 days ago", inv("jo@example.org", func(i *invite.Invitation) { i.Created = now.Add(-2 * day) }), reminders, false},
		{"pending, reminded yesterday", inv("jo@example.org", func(i *invite.Invitation) { i.RecordSent(now.Add(-day)) }), reminders, false},
		{"pending, mailed 8 days ago", inv("jo@example.org", func(i *invite.Invitation) { i.RecordSent(now.Add(-8 * day)) }), reminders, true},
		{"redeemed", inv("jo@example.org", func(i *invite.Invitation) { i.Status = invite.StatusRedeemed }), reminders, false},
		{"revoked", inv("jo@example.org", func(i *invite.Invitation) { i.Status = invite.StatusRevoked }), reminders, false},
		{"expired", inv("jo@example.org", func(i *invite.Invitation) { i.Expires = now.Add(-time.Hour) }), reminders, false},
		{"domain", inv("@example.org", nil), reminders, false},
		{"never mailed", inv("jo@example.org", nil), invitemail.Selection{NotSent: true}, true},
		{"mailed once", inv("jo@example.org", func(i *invite.Invitation) { i.RecordSent(now.Add(-30 * day)) }), invitemail.Selection{NotSent: true}, false},
		{"any", inv("jo@example.org", func(i *invite.Invitation) { i.Status = invite.StatusRevoked }), invitemail.Selection{}, true},
	} {
		if got := tc.sel.Match(tc.inv, now); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func mailer(t *testing.T, store *invitetest.Memory, server *mailtest.Server) *invitemail.Mailer {
	t.Helper()
	tmpl, err := mail.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	sender := mail.NewSender(mail.Config{Host: server.Host, Port: server.Port}, mail.SenderOptions{Rate: mail.Rate{Count: 1000, Per: time.Second}, Retries: -1})
	t.Cleanup(func() { sender.Close() })
	return invitemail.New(store, sender, invitemail.Options{
		From: "invitations@contoso.example", Templates: tmpl,
		Links: signup.NewLinks(store, signup.Config{DefaultURL: "https://contoso.example/join?login_hint={email}"}),
		Now:   func() time.Time { return now },
	})
}

func TestSendRecordsOnlyAccepted(t *testing.T) {
	ctx := context.Background()
	store, server := invitetest.NewMemory(), mailtest.Start(t)
	for _, s := range []string{"ok@example.org", "gone@example.org"} {
		if err := store.Put(ctx, inv(s, nil)); err != nil {
			t.Fatal(err)
		}
	}
	server.Script("gone@example.org", 550)
	m := mailer(t, store, server)

	res := m.Send(ctx, invite.Key{Subject: "ok@example.org", App: invite.AnyApp})
	if res.Outcome != invitemail.Sent || res.Attempts != 1 {
		t.Fatalf("Send(ok) = %+v", res)
	}
	got, _ := store.Get(ctx, res.Key)
	if got.SentRecord != (invite.SentRecord{SentCount: 1, FirstSent: now, LastSent: now}) {
		t.Fatalf("after an accepted message: %+v", got.SentRecord)
	}

	res = m.Send(ctx, invite.Key{Subject: "gone@example.org", App: invite.AnyApp})
	var me *mail.Error
	if res.Outcome != invitemail.Failed || !errors.As(res.Err, &me) || me.Code != 550 {
		t.Fatalf("Send(gone) = %+v", res)
	}
	if got, _ := store.Get(ctx, res.Key); got.SentCount != 0 {
		t.Fatalf("a refused message was recorded: %+v", got.SentRecord)
	}

	// Again at once: the accepted one is not mailed twice.
	res = m.Send(ctx, invite.Key{Subject: "ok@example.org", App: invite.AnyApp})
	if res.Outcome != invitemail.Skipped || len(server.Received()) != 1 {
		t.Fatalf("re-send within a day = %+v, %d received", res, len(server.Received()))
	}
	if res = m.Send(ctx, invite.Key{Subject: "nobody@example.org", App: invite.AnyApp}); res.Outcome != invitemail.Failed || !errors.Is(res.Err, invite.ErrNotFound) {
		t.Fatalf("Send(missing) = %+v", res)
	}
}

func TestBuildNeedsASignupPage(t *testing.T) {
	store := invitetest.NewMemory()
	m := mailer(t, store, mailtest.Start(t))
	_, err := m.Build(context.Background(), inv("jo@example.org", func(i *invite.Invitation) { i.App = "0c9b8a7d-3333-4c5d-9e8f-2b3c4d5e6f70" }))
	var ce *invitemail.ConfigError
	if !errors.As(err, &ce) || !errors.Is(err, signup.ErrNoSignupPage) {
		t.Fatalf("Build for an unregistered app: %v, want a ConfigError", err)
	}
	msg, err := m.Build(context.Background(), inv("jo@example.org", func(i *invite.Invitation) {
		i.Prefill = map[string]string{"givenName": "Jo"}
		i.RecordSent(now.Add(-48 * time.Hour))
	}))
	if err != nil || !strings.HasPrefix(msg.Subject, "Reminder:") || !strings.Contains(msg.Text, "Hello Jo,") || !strings.Contains(msg.Text, "login_hint=jo%40example.org") {
		t.Fatalf("Build of a reminder: %v\n%s\n%s", err, msg.Subject, msg.Text)
	}
}
