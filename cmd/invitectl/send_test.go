package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/testutil/mailpit"
)

const portalApp = "5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f"

var mailSeq atomic.Int64

// uniq returns an address no other test (or test process sharing the
// Mailpit) uses.
func uniq(local string) string {
	return fmt.Sprintf("%s.%d.%d@example.org", local, time.Now().UnixNano()%1e9, mailSeq.Add(1))
}

// newMailCtl is newCtl with sending set up: a Mailpit on loopback, a
// sender, the default sign-up page, and an initialised table.
func newMailCtl(t *testing.T, s *mailpit.Server) *ctl {
	t.Helper()
	c := newCtl(t)
	c.env["INVITE_SMTP_URL"] = "smtp://" + s.SMTPHost + ":" + strconv.Itoa(s.SMTPPort)
	c.env["INVITE_MAIL_FROM"] = "Contoso Invitations <invitations@contoso.example>"
	c.env["INVITE_SIGNUP_URL"] = "https://contoso.example/join?login_hint={email}"
	c.mustRun("init")
	return c
}

func (c *ctl) sent(subject, app string) invite.SentRecord {
	c.t.Helper()
	inv, err := c.get(subject, app)
	if err != nil {
		c.t.Fatalf("get %s: %v", subject, err)
	}
	return inv.SentRecord
}

var textLink = regexp.MustCompile(`https://\S+`)

func loginHint(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("link %q: %v", link, err)
	}
	return u.Query().Get("login_hint")
}

func TestSendArrivesWithTheAppsLink(t *testing.T) {
	mp := mailpit.Shared(t)
	c := newMailCtl(t, mp)
	c.mustRun("app", "set", portalApp, "--name", "Contoso Portal", "--signup-url", "https://portal.contoso.example/signup?login_hint={email}&prompt=create")
	oneil, anyone := uniq("o'neil+x"), uniq("amy")
	c.mustRun("add", oneil, "--app", portalApp, "--expires", "2099-01-31", "--prefill", "givenName=Siobhan")
	c.mustRun("add", anyone)

	before := time.Now().UTC().Truncate(time.Second)
	out := c.mustRun("send", oneil, "--app", portalApp, "--message", "See you at the kick-off.")
	c.mustRun("send", anyone)
	if strings.Contains(out, oneil) || strings.Contains(out, "login_hint") {
		t.Errorf("send output shows the address or the link:\n%s", out)
	}
	if !strings.Contains(out, "1 sent, 0 skipped, 0 failed") {
		t.Errorf("send said:\n%s", out)
	}

	got := mp.To(t, oneil)
	if len(got) != 1 {
		t.Fatalf("%d messages for the per-app invitation, want 1", len(got))
	}
	m := got[0]
	if m.From.Address != "invitations@contoso.example" || m.To[0].Address != oneil || m.Subject != "You're invited to Contoso Portal" {
		t.Errorf("from %+v to %+v subject %q", m.From, m.To, m.Subject)
	}
	for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
		for _, want := range []string{"Siobhan", "Contoso Portal", "See you at the kick-off.", "31 January 2099"} {
			if !strings.Contains(body, want) {
				t.Errorf("the %s part lacks %q:\n%s", part, want, body)
			}
		}
	}
	link := textLink.FindString(m.Text)
	if !strings.HasPrefix(link, "https://portal.contoso.example/signup?login_hint=") || loginHint(t, link) != oneil || !strings.Contains(link, "o%27neil%2Bx.") {
		t.Errorf("per-app link %q: login_hint %q, want %q escaped", link, loginHint(t, link), oneil)
	}
	if !strings.Contains(m.HTML, `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) {
		t.Errorf("the HTML part does not link to %q:\n%s", link, m.HTML)
	}

	// The any-app invitation uses INVITE_SIGNUP_URL, the default of "*".
	got = mp.To(t, anyone)
	if len(got) != 1 {
		t.Fatalf("%d messages for the any-app invitation, want 1", len(got))
	}
	if link := textLink.FindString(got[0].Text); !strings.HasPrefix(link, "https://contoso.example/join?login_hint=") || loginHint(t, link) != anyone {
		t.Errorf("default link %q", link)
	}

	// Bookkeeping, and show displays it.
	r := c.sent(oneil, portalApp)
	if r.SentCount != 1 || r.FirstSent.Before(before) || !r.LastSent.Equal(r.FirstSent) {
		t.Fatalf("sent record %+v", r)
	}
}

func TestSendDryRunSendsAndWritesNothing(t *testing.T) {
	mp := mailpit.Shared(t)
	c := newMailCtl(t, mp)
	jo := uniq("jo")
	c.mustRun("add", jo)
	delete(c.env, "INVITE_SMTP_URL") // a preview needs no server
	out := c.mustRun("send", jo, "--dry-run")
	for _, want := range []string{"From: Contoso Invitations <invitations@contoso.example>", "To: " + jo, "Subject: You're invited to contoso.example",
		"text/plain", "text/html", "login_hint=" + url.QueryEscape(jo), "dry run: 1 message would be sent"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if n := len(mp.To(t, jo)); n != 0 {
		t.Fatalf("a dry run sent %d messages", n)
	}
	if r := c.sent(jo, invite.AnyApp); r.SentCount != 0 {
		t.Fatalf("a dry run wrote %+v", r)
	}
	// Without a server a real run is refused before anything happens.
	code, _, errOut := c.run("send", jo)
	if code != exitUsage || !strings.Contains(errOut, "INVITE_SMTP_URL") {
		t.Fatalf("send without a server: exit %d, %s", code, errOut)
	}
}

func TestSendTwiceWithinADay(t *testing.T) {
	mp := mailpit.Shared(t)
	c := newMailCtl(t, mp)
	jo, bo := uniq("jo"), uniq("bo")
	c.mustRun("add", jo)
	c.mustRun("add", bo)
	file := filepath.Join(t.TempDir(), "batch.txt")
	if err := os.WriteFile(file, []byte(jo+"\n"+bo+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.mustRun("send", "--file", file, "--rate", "100/s")
	out := c.mustRun("send", "--file", file, "--rate", "100/s") // the re-run of a batch
	if !strings.Contains(out, "0 sent, 2 skipped, 0 failed") || !strings.Contains(out, "--force sends again") {
		t.Fatalf("re-run within a day:\n%s", out)
	}
	if n, m := len(mp.To(t, jo)), len(mp.To(t, bo)); n != 1 || m != 1 {
		t.Fatalf("after a re-run: %d and %d messages, want 1 each", n, m)
	}
	c.mustRun("send", jo, "--force")
	got := mp.To(t, jo)
	if len(got) != 2 || !strings.HasPrefix(got[1].Subject, "Reminder:") {
		t.Fatalf("--force: %d messages (%+v), want a second one, a reminder", len(got), got)
	}
	if r := c.sent(jo, invite.AnyApp); r.SentCount != 2 || !r.LastSent.After(r.FirstSent) && !r.LastSent.Equal(r.FirstSent) {
		t.Fatalf("sent record after --force: %+v", r)
	}
}

func TestSendDomainIsNotAFailure(t *testing.T) {
	c := newMailCtl(t, mailpit.Shared(t))
	c.mustRun("add", "@partner.example")
	out := c.mustRun("send", "@partner.example")
	if !strings.Contains(out, "whole-domain invitation has no one to send to") || !strings.Contains(out, "0 sent, 1 skipped, 0 failed") {
		t.Fatalf("send to a domain:\n%s", out)
	}
}

func TestSendRefusedRecipient(t *testing.T) {
	mp := mailpit.Start(t, "--smtp-allowed-recipients", `^ok\.`)
	c := newMailCtl(t, mp)
	ok1, refused, ok2, missing := uniq("ok"), uniq("no"), uniq("ok"), uniq("ok")
	for _, a := range []string{ok1, refused, ok2} {
		c.mustRun("add", a)
	}
	code, out, errOut := c.run("send", ok1, refused, ok2, missing, "--rate", "100/s")
	if code != exitFailure {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "2 sent, 0 skipped, 2 failed") || !strings.Contains(out, "n***@example.org (contoso.example): the server refused the recipient: 5") || !strings.Contains(out, "no such invitation") {
		t.Errorf("report:\n%s", out)
	}
	if strings.Contains(out+errOut, refused) {
		t.Errorf("the report shows the refused address:\n%s", out)
	}
	if c.sent(ok1, invite.AnyApp).SentCount != 1 || c.sent(ok2, invite.AnyApp).SentCount != 1 || c.sent(refused, invite.AnyApp).SentCount != 0 {
		t.Fatal("the sent records do not match what the server accepted")
	}
	if len(mp.To(t, ok1)) != 1 || len(mp.To(t, ok2)) != 1 || mp.Count(t) != 2 {
		t.Fatalf("the server holds %d messages, want 2", mp.Count(t))
	}
}

func TestSendLoginRefused(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("right"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	auth := filepath.Join(t.TempDir(), "passwords")
	if err := os.WriteFile(auth, []byte("sender:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mp := mailpit.Start(t, "--smtp-auth-file", auth, "--smtp-auth-allow-insecure")
	c := newMailCtl(t, mp)
	jo, bo := uniq("jo"), uniq("bo")
	c.mustRun("add", jo)
	c.mustRun("add", bo)
	c.env["INVITE_SMTP_URL"] = "smtp://sender:wrong-password@" + mp.SMTPHost + ":" + strconv.Itoa(mp.SMTPPort)
	code, out, errOut := c.run("send", jo, bo, "--rate", "100/s")
	if code != exitFailure || !strings.Contains(out, "0 sent, 0 skipped, 1 failed") || !strings.Contains(out, "535") || !strings.Contains(out, "1 invitation not tried") {
		t.Fatalf("login refused: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "wrong-password") {
		t.Error("the output shows the password")
	}
	if c.sent(jo, invite.AnyApp).SentCount != 0 || c.sent(bo, invite.AnyApp).SentCount != 0 || mp.Count(t) != 0 {
		t.Fatal("something was sent or marked sent without a sign-in")
	}
	c.env["INVITE_SMTP_URL"] = "smtp://sender:right@" + mp.SMTPHost + ":" + strconv.Itoa(mp.SMTPPort)
	if out := c.mustRun("send", jo, bo, "--rate", "100/s"); !strings.Contains(out, "2 sent") {
		t.Fatalf("with the right password:\n%s", out)
	}
}

func TestSendReminders(t *testing.T) {
	mp := mailpit.Shared(t)
	c := newMailCtl(t, mp)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	day := 24 * time.Hour
	put := func(subject string, mod func(*invite.Invitation)) string {
		inv := invite.Invitation{Key: invite.Key{Subject: subject, App: invite.AnyApp}, Status: invite.StatusPending, Created: now.Add(-10 * day)}
		if mod != nil {
			mod(&inv)
		}
		if err := c.store.Put(ctx, inv); err != nil {
			t.Fatal(err)
		}
		return subject
	}
	due := put(uniq("due"), nil)
	dueAgain := put(uniq("again"), func(i *invite.Invitation) { i.RecordSent(now.Add(-9 * day)) })
	fresh := put(uniq("fresh"), func(i *invite.Invitation) { i.Created = now.Add(-2 * day) })
	reminded := put(uniq("reminded"), func(i *invite.Invitation) { i.RecordSent(now.Add(-day)) })
	redeemed := put(uniq("redeemed"), func(i *invite.Invitation) { i.Status, i.Count = invite.StatusRedeemed, 1 })
	revoked := put(uniq("revoked"), func(i *invite.Invitation) { i.Status = invite.StatusRevoked })
	expired := put(uniq("expired"), func(i *invite.Invitation) { i.Expires = now.Add(-time.Hour) })
	put("@reminders.example", nil)

	out := c.mustRun("list", "--status", "pending", "--older-than", "7d", "--output", "json")
	if !strings.Contains(out, due) || !strings.Contains(out, dueAgain) || strings.Contains(out, fresh) || strings.Contains(out, reminded) {
		t.Errorf("list --older-than 7d:\n%s", out)
	}
	out = c.mustRun("send", "--status", "pending", "--older-than", "7d", "--rate", "100/s")
	if !strings.Contains(out, "2 sent, 0 skipped, 0 failed") {
		t.Fatalf("reminders:\n%s", out)
	}
	for addr, want := range map[string]int{due: 1, dueAgain: 1, fresh: 0, reminded: 0, redeemed: 0, revoked: 0, expired: 0} {
		if got := len(mp.To(t, addr)); got != want {
			t.Errorf("%s: %d messages, want %d", addr, got, want)
		}
	}
	if got := mp.To(t, dueAgain); len(got) == 1 && !strings.HasPrefix(got[0].Subject, "Reminder:") {
		t.Errorf("a second message is not called a reminder: %q", got[0].Subject)
	}
	// --not-sent: only those never mailed (due is mailed now).
	out = c.mustRun("send", "--status", "pending", "--not-sent", "--dry-run")
	if !strings.Contains(out, "To: "+fresh) || strings.Contains(out, "To: "+due) || strings.Contains(out, "To: "+reminded) {
		t.Errorf("--not-sent dry run:\n%s", out)
	}
}

func TestSendBrokenTemplateStopsFirst(t *testing.T) {
	mp := mailpit.Shared(t)
	c := newMailCtl(t, mp)
	jo, bo := uniq("jo"), uniq("bo")
	c.mustRun("add", jo)
	c.mustRun("add", bo, "--app", portalApp) // no sign-up page registered
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "text.tmpl"), []byte("Hi {{.Nmae}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := c.run("send", jo, "--templates", dir)
	if code != exitUsage || !strings.Contains(errOut, "Nmae") || !strings.Contains(errOut, "nothing was sent") {
		t.Fatalf("broken template: exit %d, %s", code, errOut)
	}
	code, _, errOut = c.run("send", "--file", writeFile(t, "email,app\n"+jo+",\n"+bo+","+portalApp+"\n"))
	if code != exitUsage || !strings.Contains(errOut, "invitectl app set "+portalApp) || !strings.Contains(errOut, "nothing was sent") {
		t.Fatalf("unregistered app: exit %d, %s", code, errOut)
	}
	if len(mp.To(t, jo)) != 0 || c.sent(jo, invite.AnyApp).SentCount != 0 {
		t.Fatal("a message went out before the run was stopped")
	}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "f.csv")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestLinkAndApps(t *testing.T) {
	c := newMailCtl(t, mailpit.Shared(t))
	jo := "o'neil+x@example.org"
	c.mustRun("add", jo)
	c.mustRun("add", "amy@example.org", "--app", portalApp)
	if got := strings.TrimSpace(c.mustRun("link", jo)); got != "https://contoso.example/join?login_hint=o%27neil%2Bx%40example.org" {
		t.Errorf("link (default page) = %q", got)
	}
	code, _, errOut := c.run("link", "amy@example.org")
	if code != exitFailure || !strings.Contains(errOut, "use --app") {
		t.Errorf("link for an app-only invitation without --app: exit %d, %s", code, errOut)
	}
	code, _, errOut = c.run("link", "amy@example.org", "--app", portalApp)
	if code != exitUsage || !strings.Contains(errOut, "invitectl app set") {
		t.Errorf("link to an unregistered app: exit %d, %s", code, errOut)
	}
	c.mustRun("app", "set", portalApp, "--name", "Contoso Portal", "--signup-url", "https://portal.contoso.example/signup?login_hint={email}")
	if got := strings.TrimSpace(c.mustRun("link", "amy@example.org", "--app", portalApp)); got != "https://portal.contoso.example/signup?login_hint=amy%40example.org" {
		t.Errorf("per-app link = %q", got)
	}
	// An any-app invitation is valid for the portal too.
	if got := strings.TrimSpace(c.mustRun("link", jo, "--app", portalApp)); !strings.HasPrefix(got, "https://portal.contoso.example/") {
		t.Errorf("any-app invitation, portal link = %q", got)
	}
	c.mustRun("revoke", jo)
	if code, _, errOut := c.run("link", jo); code != exitFailure || !strings.Contains(errOut, "revoked") {
		t.Errorf("link for a revoked invitation: exit %d, %s", code, errOut)
	}
	if code, _, _ := c.run("link", "nobody@example.org"); code != exitFailure {
		t.Errorf("link for an address never invited: exit %d", code)
	}

	// The registry: rename keeps the URL; * overrides INVITE_SIGNUP_URL.
	c.mustRun("app", "set", portalApp, "--name", "Portal")
	c.mustRun("app", "set", "*", "--name", "Contoso", "--signup-url", "https://www.contoso.example/start?hint={email}")
	out := c.mustRun("app", "list")
	for _, want := range []string{portalApp + "  Portal", "https://portal.contoso.example/signup?login_hint={email}", "*   ", "https://www.contoso.example/start?hint={email}", "(2 applications)"} {
		if !strings.Contains(out, want) {
			t.Errorf("app list lacks %q:\n%s", want, out)
		}
	}
	c.mustRun("add", "bo@example.org")
	if got := strings.TrimSpace(c.mustRun("link", "bo@example.org")); got != "https://www.contoso.example/start?hint=bo%40example.org" {
		t.Errorf("link with a registered * = %q", got)
	}
	for _, bad := range [][]string{
		{"app", "set", portalApp, "--signup-url", "http://portal.contoso.example/?h={email}"},
		{"app", "set", "not-a-guid", "--name", "x", "--signup-url", "https://x.example/?h={email}"},
		{"app", "set", "0c9b8a7d-3333-4c5d-9e8f-2b3c4d5e6f70", "--name", "New"},
		{"app", "frobnicate"},
	} {
		if code, _, _ := c.run(bad...); code != exitUsage {
			t.Errorf("invitectl %s: exit %d, want 2", strings.Join(bad, " "), code)
		}
	}
	c.mustRun("app", "remove", portalApp)
	if code, _, _ := c.run("app", "remove", portalApp); code != exitFailure {
		t.Errorf("removing it twice: exit %d, want 1", code)
	}
	// The registry is not a list of invitations.
	if out := c.mustRun("list"); strings.Contains(out, "~app") || !strings.Contains(out, "(3 invitations)") {
		t.Errorf("list shows the registry:\n%s", out)
	}
}

func TestAddAndImportSend(t *testing.T) {
	mp := mailpit.Shared(t)
	c := newMailCtl(t, mp)
	jo, amy, dee := uniq("jo"), uniq("amy"), uniq("dee")
	out := c.mustRun("add", jo, "--send", "--message", "Welcome to the pilot.")
	if !strings.Contains(out, "invited "+jo) || !strings.Contains(out, "1 sent") {
		t.Fatalf("add --send:\n%s", out)
	}
	if got := mp.To(t, jo); len(got) != 1 || !strings.Contains(got[0].Text, "Welcome to the pilot.") {
		t.Fatalf("add --send: %d messages", len(got))
	}
	// A re-invitation keeps the sent record, so --send does not mail twice.
	out = c.mustRun("add", jo, "--note", "again", "--send")
	if !strings.Contains(out, "re-invited") || !strings.Contains(out, "0 sent, 1 skipped") || len(mp.To(t, jo)) != 1 || c.sent(jo, invite.AnyApp).SentCount != 1 {
		t.Fatalf("re-invite --send within a day:\n%s", out)
	}

	file := writeFile(t, "email,expires\n"+jo+",30d\n"+amy+",30d\n@import.example,\n")
	out = c.mustRun("import", file, "--send", "--dry-run")
	if len(mp.To(t, amy)) != 0 || strings.Contains(out, "sent") && !strings.Contains(out, "dry run") {
		t.Fatalf("import --dry-run --send mailed someone:\n%s", out)
	}
	out = c.mustRun("import", file, "--send")
	if !strings.Contains(out, "2 invitations already mailed, revoked, expired or for a whole domain") || !strings.Contains(out, "1 sent, 0 skipped, 0 failed") {
		t.Fatalf("import --send:\n%s", out)
	}
	if len(mp.To(t, amy)) != 1 || len(mp.To(t, jo)) != 1 {
		t.Fatalf("import --send: %d and %d messages, want 1 each", len(mp.To(t, amy)), len(mp.To(t, jo)))
	}
	// Re-running the import mails nobody again, even past the 24 hours.
	out = c.mustRun("import", file, "--send")
	if !strings.Contains(out, "3 invitations already mailed") || len(mp.To(t, amy)) != 1 {
		t.Fatalf("re-run of import --send:\n%s", out)
	}
	if code, _, errOut := c.runIn(strings.NewReader("email\n"+dee+"\n"), "import", "-", "--send"); code != exitUsage || !strings.Contains(errOut, "give a file name") {
		t.Fatalf("import - --send: exit %d, %s", code, errOut)
	}
	out = c.mustRun("show", jo)
	if !strings.Contains(out, "mailed:      1") || !strings.Contains(out, "last mail:") {
		t.Errorf("show lacks the sent record:\n%s", out)
	}
}
