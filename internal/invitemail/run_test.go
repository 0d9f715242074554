package invitemail_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

const portalApp = "5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f"

// campaign is a store holding invitations, a scripted SMTP server, and
// what a Run reported.
type campaign struct {
	t       *testing.T
	store   *invitetest.Memory
	server  *mailtest.Server
	results []string // "OUTCOME SUBJECT"
	sending []int
}

func newCampaign(t *testing.T, invitations ...invite.Invitation) *campaign {
	t.Helper()
	c := &campaign{t: t, store: invitetest.NewMemory(), server: mailtest.Start(t)}
	for _, i := range invitations {
		if err := c.store.Put(context.Background(), i); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// mailer returns a Mailer on the campaign's store that sends through its
// server with cfg's credentials, or, with dryRun, without a transport.
func (c *campaign) mailer(templates string, cfg mail.Config, dryRun bool) *invitemail.Mailer {
	c.t.Helper()
	tmpl, err := mail.LoadTemplates(templates)
	if err != nil {
		c.t.Fatal(err)
	}
	var transport invitemail.Transport
	if !dryRun {
		cfg.Host, cfg.Port = c.server.Host, c.server.Port
		sender := mail.NewSender(cfg, mail.SenderOptions{Rate: mail.Rate{Count: 1000, Per: time.Second}, Retries: -1})
		c.t.Cleanup(func() { sender.Close() })
		transport = sender
	}
	return invitemail.New(c.store, transport, invitemail.Options{
		From: "invitations@contoso.example", Templates: tmpl,
		Links: signup.NewLinks(c.store, signup.Config{DefaultURL: "https://contoso.example/join?login_hint={email}"}),
		Now:   func() time.Time { return now },
	})
}

func (c *campaign) options(dryRun bool) invitemail.RunOptions {
	return invitemail.RunOptions{
		DryRun: dryRun,
		Result: func(t invitemail.Target, r invitemail.Result) {
			if r.Key != t.Key {
				c.t.Errorf("result for %v reported for target %v", r.Key, t.Key)
			}
			c.results = append(c.results, string(r.Outcome)+" "+t.Key.Subject)
		},
		Sending: func(n int) { c.sending = append(c.sending, n) },
	}
}

func keys(subjects ...string) []invitemail.Target {
	out := make([]invitemail.Target, len(subjects))
	for i, s := range subjects {
		out[i] = invitemail.Target{Line: i + 2, Key: invite.Key{Subject: s, App: invite.AnyApp}}
	}
	return out
}

func (c *campaign) sentCount(subject, app string) int64 {
	c.t.Helper()
	got, err := c.store.Get(context.Background(), invite.Key{Subject: subject, App: app})
	if err != nil {
		c.t.Fatal(err)
	}
	return got.SentCount
}

func TestRunCounts(t *testing.T) {
	c := newCampaign(t,
		inv("ok1@example.org", nil),
		inv("refused@example.org", nil),
		inv("@example.org", nil),
		inv("revoked@example.org", func(i *invite.Invitation) { i.Status = invite.StatusRevoked }),
		inv("recent@example.org", func(i *invite.Invitation) { i.RecordSent(now.Add(-time.Hour)) }),
		inv("ok2@example.org", nil),
	)
	c.server.Script("refused@example.org", 550)
	targets := keys("ok1@example.org", "refused@example.org", "@example.org", "revoked@example.org", "missing@example.org", "recent@example.org", "ok2@example.org")

	sum, err := c.mailer("", mail.Config{}, false).Run(context.Background(), targets, c.options(false))
	if err != nil {
		t.Fatal(err)
	}
	want := invitemail.Summary{Ready: 3, Sent: 2, Skipped: 2, Failed: 3}
	if sum != want {
		t.Errorf("summary %+v, want %+v", sum, want)
	}
	// The first pass reports what gets no message; the second, in order,
	// every message tried. A refused recipient does not stop the run.
	wantResults := []string{
		"skipped @example.org", "failed revoked@example.org", "failed missing@example.org", "skipped recent@example.org",
		"sent ok1@example.org", "failed refused@example.org", "sent ok2@example.org",
	}
	if strings.Join(c.results, "\n") != strings.Join(wantResults, "\n") {
		t.Errorf("results:\n%s\nwant:\n%s", strings.Join(c.results, "\n"), strings.Join(wantResults, "\n"))
	}
	if len(c.sending) != 1 || c.sending[0] != 3 {
		t.Errorf("Sending called with %v, want [3]", c.sending)
	}
	for subject, want := range map[string]int64{"ok1@example.org": 1, "ok2@example.org": 1, "refused@example.org": 0, "revoked@example.org": 0, "recent@example.org": 1} {
		if got := c.sentCount(subject, invite.AnyApp); got != want {
			t.Errorf("%s: sent count %d, want %d", subject, got, want)
		}
	}
	if n := len(c.server.Received()); n != 2 {
		t.Errorf("the server received %d messages, want 2", n)
	}
}

func TestRunStopsBeforeSendingWhenAMessageCannotBeBuilt(t *testing.T) {
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, mail.TextFile), []byte("Hi {{.Nmae}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		templates string
		targets   []invitemail.Target
		want      error
		wantLine  int
	}{
		{"a template that does not render", broken, keys("jo@example.org", "bo@example.org"), nil, 2},
		{"an application without a sign-up page", "", append(keys("jo@example.org"),
			invitemail.Target{Line: 9, Key: invite.Key{Subject: "bo@example.org", App: portalApp}}), signup.ErrNoSignupPage, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCampaign(t, inv("jo@example.org", nil), inv("bo@example.org", nil),
				inv("bo@example.org", func(i *invite.Invitation) { i.App = portalApp }))
			sum, err := c.mailer(tc.templates, mail.Config{}, false).Run(context.Background(), tc.targets, c.options(false))
			var te *invitemail.TargetError
			var ce *invitemail.ConfigError
			if !errors.As(err, &te) || !errors.As(err, &ce) || te.Target.Line != tc.wantLine {
				t.Fatalf("Run = %+v, %v; want a TargetError for line %d", sum, err, tc.wantLine)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if tc.templates != "" && !strings.Contains(err.Error(), "Nmae") {
				t.Errorf("error %v does not name the template's fault", err)
			}
			if len(c.server.Received()) != 0 || c.server.Attempts("jo@example.org") != 0 || c.sentCount("jo@example.org", invite.AnyApp) != 0 {
				t.Error("a message went out before the run was stopped")
			}
			if len(c.sending) != 0 || sum.Sent != 0 {
				t.Errorf("the sending started: %v, %+v", c.sending, sum)
			}
		})
	}
}

func TestRunStopsWhenEveryMessageWouldFail(t *testing.T) {
	c := newCampaign(t, inv("jo@example.org", nil), inv("bo@example.org", nil), inv("amy@example.org", nil))
	c.server.RequireLogin("sender", "right")
	m := c.mailer("", mail.Config{Username: "sender", Password: "wrong"}, false)

	sum, err := m.Run(context.Background(), keys("jo@example.org", "bo@example.org", "amy@example.org"), c.options(false))
	if err != nil {
		t.Fatal(err)
	}
	if sum.StoppedBy == nil || sum.StoppedBy.Stage != mail.StageLogin || !sum.StoppedBy.AffectsAll() || !sum.Stopped() || sum.Interrupted {
		t.Fatalf("StoppedBy = %v (%+v), want the refused sign-in", sum.StoppedBy, sum)
	}
	if sum.Ready != 3 || sum.Failed != 1 || sum.Sent != 0 || sum.NotTried != 2 {
		t.Errorf("summary %+v, want 3 ready, 1 failed, 2 not tried", sum)
	}
	if strings.Join(c.results, ",") != "failed jo@example.org" {
		t.Errorf("results %v, want only the first, failed", c.results)
	}
	for _, s := range []string{"jo@example.org", "bo@example.org", "amy@example.org"} {
		if c.sentCount(s, invite.AnyApp) != 0 {
			t.Errorf("%s marked sent", s)
		}
	}
}

func TestRunInterrupted(t *testing.T) {
	c := newCampaign(t, inv("jo@example.org", nil), inv("bo@example.org", nil), inv("amy@example.org", nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := c.options(false)
	o.Result = func(invitemail.Target, invitemail.Result) { cancel() } // Ctrl-C after the first message
	sum, err := c.mailer("", mail.Config{}, false).Run(ctx, keys("jo@example.org", "bo@example.org", "amy@example.org"), o)
	if err != nil || !sum.Interrupted || sum.StoppedBy != nil || sum.Sent != 1 || sum.NotTried != 2 {
		t.Fatalf("Run = %+v, %v; want interrupted after 1 sent, 2 not tried", sum, err)
	}
	if c.sentCount("jo@example.org", invite.AnyApp) != 1 || len(c.server.Received()) != 1 {
		t.Error("the message accepted before the interruption is not recorded")
	}

	// Interrupted during the first pass: nothing is sent.
	c = newCampaign(t, inv("jo@example.org", nil))
	if _, err := c.mailer("", mail.Config{}, false).Run(ctx, keys("jo@example.org"), c.options(false)); err == nil || !strings.Contains(err.Error(), "before anything was sent") {
		t.Fatalf("Run after the end of its context: %v", err)
	}
	if len(c.server.Received()) != 0 {
		t.Error("sent after the end of the context")
	}
}

func TestRunStoreFailureSendsNothing(t *testing.T) {
	c := newCampaign(t, inv("jo@example.org", nil))
	m := c.mailer("", mail.Config{}, false)
	c.store.Err = invite.ErrUnavailable
	_, err := m.Run(context.Background(), keys("jo@example.org"), c.options(false))
	if !errors.Is(err, invite.ErrUnavailable) || !strings.Contains(err.Error(), "nothing was sent") {
		t.Fatalf("Run with the store down: %v", err)
	}
	if len(c.server.Received()) != 0 {
		t.Error("sent with the store down")
	}
}

func TestRunDryRunWritesNothing(t *testing.T) {
	recent := inv("recent@example.org", func(i *invite.Invitation) { i.RecordSent(now.Add(-time.Hour)) })
	c := newCampaign(t, inv("jo@example.org", nil), inv("bo@example.org", nil), recent)
	m := c.mailer("", mail.Config{}, true) // no transport

	var previews []string
	o := c.options(true)
	o.Preview = func(t invitemail.Target, msg mail.Message, i, n int) {
		previews = append(previews, fmt.Sprintf("%s %d/%d", msg.To, i, n))
	}
	sum, err := m.Run(context.Background(), keys("jo@example.org", "recent@example.org", "bo@example.org"), o)
	if err != nil {
		t.Fatal(err)
	}
	if want := (invitemail.Summary{Ready: 2, Skipped: 1}); sum != want {
		t.Errorf("summary %+v, want %+v", sum, want)
	}
	if strings.Join(previews, ",") != "jo@example.org 0/2,bo@example.org 1/2" {
		t.Errorf("previews %v", previews)
	}
	if len(c.sending) != 0 {
		t.Error("a dry run started sending")
	}
	got, _ := c.store.Get(context.Background(), invite.Key{Subject: "jo@example.org", App: invite.AnyApp})
	if got.SentCount != 0 || len(c.server.Received()) != 0 {
		t.Errorf("a dry run sent or recorded: %+v", got.SentRecord)
	}
	if got, _ := c.store.Get(context.Background(), recent.Key); got.SentRecord != recent.SentRecord {
		t.Errorf("a dry run changed %+v to %+v", recent.SentRecord, got.SentRecord)
	}

	// Without a transport only a dry run runs.
	if _, err := m.Run(context.Background(), keys("jo@example.org"), c.options(false)); !errors.Is(err, invitemail.ErrNoTransport) {
		t.Errorf("Run without a transport: %v", err)
	}
}

func TestSelectAndNeverMailed(t *testing.T) {
	day := 24 * time.Hour
	c := newCampaign(t,
		inv("due@example.org", nil),
		inv("fresh@example.org", func(i *invite.Invitation) { i.Created = now.Add(-2 * day) }),
		inv("mailed@example.org", func(i *invite.Invitation) { i.RecordSent(now.Add(-30 * day)) }),
		inv("revoked@example.org", func(i *invite.Invitation) { i.Status = invite.StatusRevoked }),
		inv("expired@example.org", func(i *invite.Invitation) { i.Expires = now.Add(-time.Hour) }),
		inv("@example.org", nil),
	)
	ctx := context.Background()
	got, err := invitemail.Select(ctx, c.store, invitemail.Selection{Status: invite.StatusPending, OlderThan: 7 * day}, now)
	if err != nil {
		t.Fatal(err)
	}
	if s := subjects(got); s != "due@example.org,mailed@example.org" {
		t.Errorf("Select reminders = %s", s)
	}
	for _, t2 := range got {
		if t2.Inv == nil || t2.Inv.Key != t2.Key {
			t.Errorf("Select did not keep the invitation it read: %+v", t2)
		}
	}
	all := keys("due@example.org", "fresh@example.org", "mailed@example.org", "revoked@example.org", "expired@example.org", "@example.org", "missing@example.org")
	fresh, err := invitemail.NeverMailed(ctx, c.store, all, now)
	if err != nil {
		t.Fatal(err)
	}
	if s := subjects(fresh); s != "due@example.org,fresh@example.org" {
		t.Errorf("NeverMailed = %s", s)
	}
	if fresh[0].Line != 2 || fresh[1].Line != 3 || fresh[0].Inv == nil {
		t.Errorf("NeverMailed lost the lines or the invitations: %+v", fresh)
	}
	c.store.Err = invite.ErrUnavailable
	if _, err := invitemail.Select(ctx, c.store, invitemail.Selection{}, now); !errors.Is(err, invite.ErrUnavailable) {
		t.Errorf("Select with the store down: %v", err)
	}
	if got, err := invitemail.NeverMailed(ctx, c.store, all, now); !errors.Is(err, invite.ErrUnavailable) || got != nil {
		t.Errorf("NeverMailed with the store down = %v, %v; want no targets and the store's error", got, err)
	}
}

func subjects(ts []invitemail.Target) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.Key.Subject)
	}
	return strings.Join(s, ",")
}
