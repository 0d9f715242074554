package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/tablestore"
	"github.com/invitegate/invitegate/internal/testutil/azurite"
)

var basicSeq atomic.Int64

// ctl runs invitectl against a table of its own in Azurite.
type ctl struct {
	t     testing.TB
	env   map[string]string
	store *tablestore.Store
	// now is invitectl's clock (default time.Now).
	now func() time.Time
}

func newCtl(t *testing.T) *ctl {
	t.Helper()
	return newCtlOn(t, azurite.Connection(t))
}

// newCtlOn is newCtl on a given Azurite, for subtests that share one.
func newCtlOn(t testing.TB, conn string) *ctl {
	t.Helper()
	table := fmt.Sprintf("cli%d%d", time.Now().UnixNano()%1e9, basicSeq.Add(1))
	s, err := tablestore.Open(tablestore.Settings{Connection: conn, Table: table}, tablestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &ctl{t: t, env: map[string]string{"INVITATIONS_CONNECTION": conn, "INVITATIONS_TABLE": table}, store: s}
}

func (c *ctl) run(args ...string) (code int, stdout, stderr string) {
	return c.runIn(strings.NewReader(""), args...)
}

// runIn runs invitectl with stdin as its standard input.
func (c *ctl) runIn(stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	cl := &cli{ctx: context.Background(), getenv: func(k string) string { return c.env[k] }, stdin: stdin, stdout: &out, stderr: &errOut,
		now: time.Now, openStore: openTableStore}
	if c.now != nil {
		cl.now = c.now
	}
	code = cl.main(args)
	return code, out.String(), errOut.String()
}

func (c *ctl) mustRun(args ...string) string {
	c.t.Helper()
	code, out, errOut := c.run(args...)
	if code != exitOK {
		c.t.Fatalf("invitectl %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func (c *ctl) get(subject, app string) (invite.Invitation, error) {
	return c.store.Get(context.Background(), invite.Key{Subject: subject, App: app})
}

func TestAddShowRevoke(t *testing.T) {
	c := newCtl(t)
	c.mustRun("init")
	c.mustRun("init") // idempotent
	out := c.mustRun("add", "Jo.Bloggs@Example.org", "--expires", "2099-01-31", "--prefill", "givenName=Jo",
		"--set", "companyName=Example Ltd", "--note", "cohort 3")
	if !strings.Contains(out, "invited jo.bloggs@example.org") || !strings.Contains(out, "2099-02-01T00:00:00Z") {
		t.Fatalf("add said %q", out)
	}
	inv, err := c.get("jo.bloggs@example.org", invite.AnyApp)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Status != invite.StatusPending || inv.Prefill["givenName"] != "Jo" || inv.Set["companyName"] != "Example Ltd" ||
		inv.Note != "cohort 3" || !inv.Expires.Equal(time.Date(2099, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("stored %+v", inv)
	}

	out = c.mustRun("show", "jo.bloggs@example.org")
	for _, want := range []string{"status:      pending", "prefill:     givenName=Jo", "set:         companyName=Example Ltd", "note:        cohort 3"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}

	c.mustRun("revoke", "jo.bloggs@example.org")
	if inv, _ := c.get("jo.bloggs@example.org", invite.AnyApp); inv.Status != invite.StatusRevoked || inv.Note != "cohort 3" {
		t.Fatalf("after revoke: %+v", inv)
	}
	// A re-invitation of a revoked address makes it pending again.
	c.mustRun("add", "jo.bloggs@example.org")
	if inv, _ := c.get("jo.bloggs@example.org", invite.AnyApp); inv.Status != invite.StatusPending {
		t.Fatalf("after re-invite: %s", inv.Status)
	}

	// Table output drops C1 controls and bidirectional overrides.
	c.mustRun("add", "mo@example.org", "--note", "invoice\u202egpj.exe\u0085\u009b2J")
	if out := c.mustRun("show", "mo@example.org"); !strings.Contains(out, "note:        invoicegpj.exe2J\n") {
		t.Errorf("show printed the note as:\n%s", out)
	}
	if out := c.mustRun("list"); !strings.Contains(out, " invoicegpj.exe2J\n") || strings.ContainsAny(out, "\u202e\u0085\u009b") {
		t.Errorf("list printed the note as:\n%s", out)
	}

	// App-scoped and domain invitations.
	app := "5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f"
	c.mustRun("add", "@Partner.Example", "--app", strings.ToUpper(app))
	if _, err := c.get("@partner.example", app); err != nil {
		t.Fatalf("domain invitation: %v", err)
	}
	code, _, errOut := c.run("show", "amy@partner.example")
	if code != exitFailure || !strings.Contains(errOut, "the domain invitation @partner.example covers it") {
		t.Errorf("show for a domain-covered address: exit %d, %q", code, errOut)
	}
	c.mustRun("delete", "@partner.example", "--app", app)
	if _, err := c.get("@partner.example", app); err == nil {
		t.Fatal("delete left the invitation")
	}
}

func TestReinviteKeepsHistory(t *testing.T) {
	c := newCtl(t)
	c.mustRun("init")
	c.mustRun("add", "jo@example.org")
	inv, _ := c.get("jo@example.org", invite.AnyApp)
	if _, err := c.store.Redeem(context.Background(), inv, "jo@example.org", "corr-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	c.mustRun("add", "jo@example.org", "--note", "again")
	inv, _ = c.get("jo@example.org", invite.AnyApp)
	if inv.Count != 1 || inv.Status != invite.StatusRedeemed || inv.Note != "again" {
		t.Fatalf("re-invite lost history: %+v", inv)
	}
}

func TestExitCodes(t *testing.T) {
	c := newCtl(t)
	c.mustRun("init")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"add", "not-an-email"}, exitUsage, "not an email address"},
		{[]string{"add", "jo@example.org", "--app", "portal"}, exitUsage, "not an application id"},
		{[]string{"add", "jo@example.org", "--expires", "31/01/2027"}, exitUsage, "not an expiry"},
		{[]string{"add", "jo@example.org", "--expires", "2001-01-01"}, exitUsage, "in the past"},
		{[]string{"add", "jo@example.org", "--prefill", "givenName"}, exitUsage, "NAME=VALUE"},
		{[]string{"add", "jo@example.org", "--bogus"}, exitUsage, "bogus"},
		{[]string{"add"}, exitUsage, "expected one EMAIL"},
		{[]string{"add", "jo@example.org", "--note", strings.Repeat("x", 40000)}, exitUsage, "the note is 40000 characters long"},
		{[]string{"add", "@hotmail.com"}, exitUsage, "public mail provider"},
		{[]string{"frobnicate"}, exitUsage, "unknown command"},
		{[]string{"show", "nobody@example.org"}, exitFailure, "no invitation for nobody@example.org"},
		{[]string{"revoke", "nobody@example.org"}, exitFailure, "no invitation"},
		{[]string{"delete", "nobody@example.org"}, exitFailure, "no invitation"},
		{[]string{"show", "jo@example.org", "--table", "no-such"}, exitUsage, "INVITATIONS_TABLE"},
		{[]string{"show", "jo@example.org", "--table", "nosuchtable"}, exitFailure, "invitectl init"},
	} {
		code, out, errOut := c.run(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("invitectl %s: exit %d, stderr %q; want exit %d mentioning %q", strings.Join(tc.args, " "), code, errOut, tc.code, tc.msg)
		}
		if strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("invitectl %s: error is not one line: %q", strings.Join(tc.args, " "), errOut)
		}
		_ = out
	}
	// Nothing half-written by the failures above.
	if _, err := c.get("jo@example.org", invite.AnyApp); err == nil {
		t.Error("a rejected add wrote an invitation")
	}
}

func TestStoreDownExitsOne(t *testing.T) {
	port := azurite.FreePort(t)
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := run(ctx, []string{"add", "jo@example.org", "--connection", azurite.ConnectionString(port)},
		func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	if code != exitFailure || !strings.Contains(errOut.String(), "unavailable") {
		t.Fatalf("exit %d, %q; want 1 and a store error", code, errOut.String())
	}
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, func(string) string { return "" }, nil, &out, &out); code != exitOK {
		t.Fatalf("--help exit %d", code)
	}
	for _, cmd := range commandList() {
		if !strings.Contains(out.String(), "  "+cmd.name+" ") {
			t.Errorf("--help does not list %s", cmd.name)
		}
		var cmdOut bytes.Buffer
		if code := run(context.Background(), []string{cmd.name, "--help"}, func(string) string { return "" }, nil, &cmdOut, &cmdOut); code != exitOK {
			t.Errorf("%s --help exit %d", cmd.name, code)
		}
		if !strings.Contains(cmdOut.String(), "Examples:") {
			t.Errorf("%s --help has no examples", cmd.name)
		}
	}
}
