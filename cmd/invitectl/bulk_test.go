package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invitestats"
	"github.com/invitegate/invitegate/internal/testutil/azurite"
)

// TestBulk runs the bulk commands (import, export, list, stats, revoke and
// delete --file) end to end, on one Azurite with a table per subtest.
func TestBulk(t *testing.T) {
	conn := azurite.Connection(t)
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, c *ctl)
	}{
		{"RoundTrip", testRoundTrip},
		{"ReimportChangesNothing", testReimport},
		{"ImportUpdates", testImportUpdates},
		{"DryRun", testDryRun},
		{"BadInput", testBadInput},
		{"SkipInvalid", testSkipInvalid},
		{"AcceptedQuirks", testAcceptedQuirks},
		{"StdinPipe", testStdinPipe},
		{"List", testList},
		{"Stats", testStats},
		{"RevokeDeleteFile", testRevokeDeleteFile},
		{"PublicDomain", testPublicDomain},
		{"Large", testLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCtlOn(t, conn)
			c.mustRun("init")
			tc.run(t, c)
		})
	}
}

func (c *ctl) mustRunIn(stdin string, args ...string) string {
	c.t.Helper()
	code, out, errOut := c.runIn(strings.NewReader(stdin), args...)
	if code != exitOK {
		c.t.Fatalf("invitectl %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// all returns every invitation in the table.
func (c *ctl) all() []invite.Invitation {
	c.t.Helper()
	var out []invite.Invitation
	if err := c.store.List(context.Background(), "", func(inv invite.Invitation) error { out = append(out, inv); return nil }); err != nil {
		c.t.Fatal(err)
	}
	return out
}

// etags returns the ETag of every row, which changes whenever it is written.
func (c *ctl) etags() map[string]string {
	c.t.Helper()
	svc, err := aztables.NewServiceClientFromConnectionString(c.env["INVITATIONS_CONNECTION"], nil)
	if err != nil {
		c.t.Fatal(err)
	}
	pager := svc.NewClient(c.env["INVITATIONS_TABLE"]).NewListEntitiesPager(nil)
	tags := map[string]string{}
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			c.t.Fatal(err)
		}
		for _, raw := range page.Entities {
			var e struct {
				PK   string `json:"PartitionKey"`
				RK   string `json:"RowKey"`
				ETag string `json:"odata.etag"`
			}
			if err := json.Unmarshal(raw, &e); err != nil || e.ETag == "" {
				c.t.Fatalf("row without an ETag: %s (%v)", raw, err)
			}
			tags[e.PK+"|"+e.RK] = e.ETag
		}
	}
	return tags
}

const (
	appA = "5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f"
	appB = "0c9b8a7d-3333-4c5d-9e8f-2b3c4d5e6f70"
)

// seed fills the table with invitations of every kind the store keeps.
func seed(t *testing.T, c *ctl) {
	t.Helper()
	ctx := context.Background()
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 891e6, time.UTC)
	for _, inv := range []invite.Invitation{
		{Key: invite.Key{Subject: "jo@example.org", App: invite.AnyApp}, Status: invite.StatusPending, Created: t0,
			Expires: time.Date(2099, 2, 1, 0, 0, 0, 0, time.UTC), Note: "Partner, \"cohort 3\"\nsecond line — café ✓",
			Prefill: map[string]string{"givenName": "Jo", "surname": "Bloggs"}, Set: map[string]string{"companyName": "Example, Ltd"}},
		{Key: invite.Key{Subject: "jo@example.org", App: appA}, Status: invite.StatusRevoked, Created: t0, Note: " leading space"},
		{Key: invite.Key{Subject: "@partner.example", App: invite.AnyApp}, Status: invite.StatusPending, Created: t0,
			Set: map[string]string{"extension_abc_Level": "gold"}},
		{Key: invite.Key{Subject: "amy@example.org", App: appB}, Status: invite.StatusPending, Created: t0.Add(time.Hour),
			Note: "carriage\r\nreturn"},
		{Key: invite.Key{Subject: "old@example.org", App: invite.AnyApp}, Status: invite.StatusPending, Created: t0,
			Expires: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), Note: "=1+1", Set: map[string]string{"companyName": "@home"},
			SentRecord: invite.SentRecord{SentCount: 2, FirstSent: t0.Add(time.Minute), LastSent: t0.Add(26 * time.Hour)}},
	} {
		if err := c.store.Put(ctx, inv); err != nil {
			t.Fatal(err)
		}
	}
	amy := invite.Invitation{Key: invite.Key{Subject: "amy@example.org", App: appB}}
	for i, at := range []time.Time{t0.Add(2 * time.Hour), t0.Add(50 * time.Hour)} {
		if _, err := c.store.Redeem(ctx, amy, amy.Subject, fmt.Sprintf("corr-%d", i), at); err != nil {
			t.Fatal(err)
		}
	}
	dom := invite.Invitation{Key: invite.Key{Subject: "@partner.example", App: invite.AnyApp}}
	if _, err := c.store.Redeem(ctx, dom, "bob@partner.example", "corr-bob", t0); err != nil {
		t.Fatal(err)
	}
}

func testRoundTrip(t *testing.T, c *ctl) {
	seed(t, c)
	first := c.mustRun("export")
	wantHead := "email,app,expires,note,status,created,redeemed_first,redeemed_last,redemptions,sent,sent_first,sent_last,prefill.givenName,prefill.surname,set.companyName,set.extension_abc_Level\n"
	if !strings.HasPrefix(first, wantHead) {
		t.Fatalf("export header:\n%s\nwant %s", first, wantHead)
	}
	for _, row := range []string{
		"\n'@partner.example,,,,pending,2026-03-04T05:06:07.891Z,,,0,0,,,,,,gold\n", // a spreadsheet would take @ for a formula
		"amy@example.org," + appB + ",,\"carriage\r\nreturn\",redeemed,2026-03-04T06:06:07.891Z,2026-03-04T07:06:07.891Z,2026-03-06T07:06:07.891Z,2,0,,,,,,\n",
		"jo@example.org,,2099-02-01T00:00:00Z,\"Partner, \"\"cohort 3\"\"\nsecond line — café ✓\",pending,2026-03-04T05:06:07.891Z,,,0,0,,,Jo,Bloggs,\"Example, Ltd\",\n",
		"jo@example.org," + appA + ",,\" leading space\",revoked,2026-03-04T05:06:07.891Z,,,0,0,,,,,,\n",
		"\nold@example.org,,2020-01-01T00:00:00Z,'=1+1,pending,2026-03-04T05:06:07.891Z,,,0,2,2026-03-04T05:07:07.891Z,2026-03-05T07:06:07.891Z,,,'@home,\n",
	} {
		if !strings.Contains(first, row) {
			t.Errorf("export lacks the row %q:\n%s", row, first)
		}
	}
	if n := strings.Count(first, "\n") - 2; n != 6 { // 2 newlines inside notes
		t.Errorf("export has %d lines, want header + 5 rows", n)
	}

	// Export → import into an empty table → export: the same bytes.
	file := filepath.Join(t.TempDir(), "backup.csv")
	c.mustRun("export", file)
	if b, err := os.ReadFile(file); err != nil || string(b) != first {
		t.Fatalf("export FILE differs from export to standard output (%v)", err)
	}
	copy := newCtlOn(t, c.env["INVITATIONS_CONNECTION"])
	copy.mustRun("init")
	out := copy.mustRun("import", file)
	if !strings.Contains(out, "imported 5 rows: 5 new, 0 updated, 0 unchanged") {
		t.Fatalf("import said %q", out)
	}
	if second := copy.mustRun("export"); second != first {
		t.Fatalf("export after import differs:\n%s\nwant\n%s", second, first)
	}
	if got, want := copy.all(), c.all(); !reflect.DeepEqual(got, want) {
		t.Fatalf("imported invitations differ:\n got %+v\nwant %+v", got, want)
	}
}

// testReimport runs the same import again later the same UTC day: nothing
// is written, although the file has a relative expiry (30d), which lasts
// through the end of the day it reaches. On the next day it moves on.
func testReimport(t *testing.T, c *ctl) {
	in := "email,app,expires,note,prefill.givenName\n" +
		"amy@example.org,,2099-01-31,first,Amy\n" +
		"bob@example.org," + appA + ",,second,\n" +
		"@partner.example,,30d,domain,\n"
	clock := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return clock }
	out := c.mustRunIn(in, "import", "-")
	if !strings.Contains(out, "imported 3 rows: 3 new, 0 updated, 0 unchanged") {
		t.Fatalf("first import said %q", out)
	}
	before := c.etags()
	if len(before) != 3 {
		t.Fatalf("%d rows after importing 3", len(before))
	}
	for _, later := range []time.Duration{time.Second, 23*time.Hour + 59*time.Minute} {
		clock = clock.Add(later)
		out = c.mustRunIn(in, "import", "-")
		if !strings.Contains(out, "imported 3 rows: 0 new, 0 updated, 3 unchanged") {
			t.Fatalf("import again at %v said %q", clock, out)
		}
	}
	if after := c.etags(); !reflect.DeepEqual(after, before) {
		t.Fatalf("re-import rewrote rows: ETags %v, then %v", before, after)
	}
	clock = clock.Add(time.Minute) // the next UTC day
	if out = c.mustRunIn(in, "import", "-", "--verbose"); !strings.Contains(out, "line 4      update  @partner.example: expires\n") {
		t.Fatalf("import on the next day said %q", out)
	}
	if inv, _ := c.get("@partner.example", invite.AnyApp); !inv.Expires.Equal(time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("30d imported on 2026-11-27 expires %v, want the end of 2026-12-27", inv.Expires)
	}
}

func testImportUpdates(t *testing.T, c *ctl) {
	seed(t, c)
	before := c.all()
	// No status column: the revoked invitation stays revoked; history and
	// created stay; columns the file lacks (expires, set.*) stay.
	in := "email,app,note,prefill.givenName,redemptions,created\n" +
		"jo@example.org," + appA + ",now noted,,,\n" +
		"amy@example.org," + appB + ",\"carriage\r\nreturn\",Amy,0,2001-01-01T00:00:00Z\n" +
		"jo@example.org,,\"Partner, \"\"cohort 3\"\"\nsecond line — café ✓\",Joanne,,\n"
	out := c.mustRunIn(in, "import", "-", "--verbose")
	if !strings.Contains(out, "imported 3 rows: 0 new, 3 updated, 0 unchanged") {
		t.Fatalf("import said %q", out)
	}
	for _, line := range []string{
		"line 2      update  jo@example.org (app " + appA + "): note\n",
		"line 3      update  amy@example.org (app " + appB + "): prefill.givenName\n",
		"line 5      update  jo@example.org: prefill.givenName\n", // amy's note spans lines 3 and 4
	} {
		if !strings.Contains(out, line) {
			t.Errorf("--verbose lacks %q:\n%s", line, out)
		}
	}
	get := func(subject, app string) invite.Invitation {
		inv, err := c.get(subject, app)
		if err != nil {
			t.Fatal(err)
		}
		return inv
	}
	if inv := get("jo@example.org", appA); inv.Status != invite.StatusRevoked || inv.Note != "now noted" {
		t.Errorf("revoked invitation after import: %+v, want still revoked, note changed", inv)
	}
	amy := get("amy@example.org", appB)
	if amy.Count != 2 || amy.Status != invite.StatusRedeemed || !amy.Created.Equal(before[1].Created) || amy.Prefill["givenName"] != "Amy" {
		t.Errorf("redeemed invitation after import: %+v, want its history and created kept", amy)
	}
	if jo := get("jo@example.org", invite.AnyApp); jo.Prefill["givenName"] != "Joanne" || jo.Prefill["surname"] != "Bloggs" ||
		jo.Set["companyName"] != "Example, Ltd" || !jo.Expires.Equal(time.Date(2099, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("columns the file lacks changed: %+v", jo)
	}
	// A sign-up the gate counted before the import is still counted once.
	if rec, err := c.store.Redeem(context.Background(), amy, amy.Subject, "corr-1", time.Now()); err != nil || rec {
		t.Errorf("a retried sign-up after import: recorded %v, %v; want not counted again", rec, err)
	}

	// A status column revokes, and un-revokes (as redeemed, when used).
	out = c.mustRunIn("email,app,status\njo@example.org,"+appA+",pending\namy@example.org,"+appB+",revoked\n", "import", "-")
	if want := "lifted 1 revocation:\n  line 2      jo@example.org (app " + appA + ")\n"; !strings.HasSuffix(out, want) {
		t.Errorf("the summary does not list the revocation lifted:\n%s", out)
	}
	if s := get("jo@example.org", appA).Status; s != invite.StatusPending {
		t.Errorf("status pending left %s", s)
	}
	if s := get("amy@example.org", appB).Status; s != invite.StatusRevoked {
		t.Errorf("status revoked left %s", s)
	}
	c.mustRunIn("email,app,status\namy@example.org,"+appB+",redeemed\n", "import", "-")
	if s := get("amy@example.org", appB).Status; s != invite.StatusRedeemed {
		t.Errorf("un-revoking a used invitation left %s", s)
	}
}

func testDryRun(t *testing.T, c *ctl) {
	c.mustRunIn("email,note\njo@example.org,old\n", "import", "-")
	before := c.etags()
	out := c.mustRunIn("email,note\njo@example.org,new\namy@example.org,hi\nbob@example.org,\n@partner.example,x\n", "import", "-", "--dry-run", "--concurrency", "2")
	want := "line 2      update  jo@example.org: note\n" +
		"line 3      new     amy@example.org\n" +
		"line 4      new     bob@example.org\n" +
		"line 5      new     @partner.example\n" +
		"dry run: 4 rows: 3 new, 1 updated, 0 unchanged; nothing was written\n" +
		"would create 1 whole-domain invitation:\n" +
		"  line 5      @partner.example\n"
	if out != want {
		t.Fatalf("dry run said:\n%s\nwant:\n%s", out, want)
	}
	if after := c.etags(); !reflect.DeepEqual(after, before) {
		t.Fatalf("dry run wrote: %v, then %v", before, after)
	}
}

func testBadInput(t *testing.T, c *ctl) {
	huge := strings.Repeat("x", 10<<20)
	for _, tc := range []struct {
		name, in string
		line     int
		msg      string
	}{
		{"empty file", "", 1, "the file is empty"},
		{"only a BOM", "\uFEFF", 1, "the file is empty"},
		{"missing header", "jo@example.org,,30d\n", 1, "looks like data"},
		{"no email column", "address,app\njo@example.org,\n", 1, "no email column"},
		{"duplicate column", "email,note,NOTE\njo@example.org,a,b\n", 1, "columns 2 and 3 are both NOTE"},
		{"unknown column", "email,colour\njo@example.org,red\n", 1, "unknown column colour"},
		{"unclosed quote", "email,note\namy@example.org,ok\njo@example.org,\"never closed\nbob@example.org,x\n", 3, "never closed"},
		{"bare quote", "email,note\namy@example.org,ok\njo@example.org,say \"hi\"\n", 3, "has a quote"},
		{"text after quote", "email,note\r\namy@example.org,\"ok\"x\r\n", 2, "after its closing quote"},
		{"conflicting duplicate", "email,note\njo@example.org,a\namy@example.org,b\nJo@Example.org,c\n", 4, "also on line 2"},
		{"non-UTF-8", "email,note\namy@example.org,ok\njo@example.org,caf\xe9\n", 3, "not UTF-8"},
		{"wrong field count", "email,note\namy@example.org,ok,extra\n", 2, "3 fields, but the header has 2"},
		{"bad address", "email\namy@example.org\n\njo@@example.org\n", 4, "not an email address"},
		{"10 MB line", "email,note\namy@example.org,ok\njo@example.org," + huge + "\nbob@example.org,x\n", 3, "longer than 1 MiB"},
		{"10 MB header", huge + "\n", 1, "longer than 1 MiB"},
		{"note over 64 KiB", "email,note\namy@example.org,ok\njo@example.org," + strings.Repeat("é", 40000) + "\n", 3, "the note is 40000 characters long"},
		{"public domain", "email\namy@example.org\n'@GMAIL.com\n", 3, "@gmail.com is a public mail provider"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := c.runIn(strings.NewReader(tc.in), "import", "-")
			if code != exitUsage {
				t.Errorf("exit %d, want %d (stdout %q)", code, exitUsage, out)
			}
			if want := fmt.Sprintf("line %d: ", tc.line); !strings.Contains(errOut, want) || !strings.Contains(errOut, tc.msg) {
				t.Errorf("stderr %.300q; want %q and %q", errOut, want, tc.msg)
			}
			if len(errOut) > 2000 {
				t.Errorf("stderr is %d bytes: it quotes the input", len(errOut))
			}
			if n := len(c.all()); n != 0 {
				t.Errorf("the table has %d rows after a rejected import", n)
			}
		})
	}
}

func testSkipInvalid(t *testing.T, c *ctl) {
	in := "email,expires\namy@example.org,30d\nnot-an-address,\nbob@example.org,soon\ncarl@example.org,\ncarl@example.org,2099-01-01\ndee@example.org,\n"
	code, _, errOut := c.runIn(strings.NewReader(in), "import", "-")
	for _, want := range []string{"line 3: email:", "line 4: expires:", "line 6: carl@example.org is also on line 5", "3 rows are invalid; nothing was written"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if code != exitUsage || len(c.all()) != 0 {
		t.Fatalf("exit %d with %d rows written; want 2 and none", code, len(c.all()))
	}
	out := c.mustRunIn(in, "import", "-", "--skip-invalid")
	if !strings.Contains(out, "imported 2 rows: 2 new, 0 updated, 0 unchanged; 3 invalid rows skipped") {
		t.Fatalf("--skip-invalid said %q", out)
	}
	var got []string
	for _, inv := range c.all() {
		got = append(got, inv.Subject)
	}
	if want := []string{"amy@example.org", "dee@example.org"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("--skip-invalid wrote %q, want %q (conflicting rows are both skipped)", got, want)
	}
}

// testAcceptedQuirks covers input that is odd but unambiguous.
func testAcceptedQuirks(t *testing.T, c *ctl) {
	in := "\uFEFFEmail,App,Note\r\n" + // byte order mark, CRLF, capitalised names
		"jo@example.org,,\"two\r\nlines\"\r\n" +
		"\r\n" + // blank line
		"JO@example.org,*,\"two\r\nlines\"\r\n" + // identical duplicate
		",,\r\n" + // a spreadsheet's empty row
		"amy@example.org,,plain\r\n"
	out := c.mustRunIn(in, "import", "-")
	if !strings.Contains(out, "imported 2 rows: 2 new, 0 updated, 0 unchanged; 1 row identical to an earlier one ignored (line 5)") {
		t.Fatalf("import said %q", out)
	}
	jo, err := c.get("jo@example.org", invite.AnyApp)
	if err != nil || jo.Note != "two\r\nlines" {
		t.Fatalf("jo: %+v, %v", jo, err)
	}
	if amy, err := c.get("amy@example.org", invite.AnyApp); err != nil || amy.Note != "plain" {
		t.Fatalf("amy: %+v, %v (a CR left at the end of a line?)", amy, err)
	}
}

// testStdinPipe imports from a standard input that cannot seek, as a pipe.
func testStdinPipe(t *testing.T, c *ctl) {
	pipe := struct{ io.Reader }{strings.NewReader("email\njo@example.org\n")}
	code, out, errOut := c.runIn(pipe, "import", "-")
	if code != exitOK || !strings.Contains(out, "1 new") {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
}

func testList(t *testing.T, c *ctl) {
	seed(t, c)
	out := c.mustRun("list")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 7 || !strings.HasPrefix(lines[0], "EMAIL ") || lines[6] != "(5 invitations)" {
		t.Fatalf("list:\n%s", out)
	}
	wantRow := fmt.Sprintf(tableFormat, "jo@example.org", "pending", "2099-02-01T00:00:00Z", "0", "0", "*", "Partner, \"cohort 3\" second line — café ✓")
	if lines[3]+"\n" != wantRow {
		t.Fatalf("list row:\n%q\nwant\n%q", lines[3], wantRow)
	}
	statusCol := strings.Index(lines[0], "STATUS")
	for _, l := range lines[1:6] {
		if l[statusCol-1] != ' ' {
			t.Errorf("columns are not aligned:\n%s", out)
		}
	}

	subjects := func(args ...string) []string {
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(c.mustRun(append([]string{"list", "--output", "json"}, args...)...)), "\n") {
			var j jsonInvitation
			if err := json.Unmarshal([]byte(l), &j); err != nil {
				t.Fatalf("list --output json line %q: %v", l, err)
			}
			got = append(got, j.Email+" "+j.App+" "+j.Status)
		}
		return got
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"@partner.example * pending", "amy@example.org " + appB + " redeemed", "jo@example.org * pending", "jo@example.org " + appA + " revoked", "old@example.org * expired"}},
		{[]string{"--status", "expired"}, []string{"old@example.org * expired"}},
		{[]string{"--status", "pending"}, []string{"@partner.example * pending", "jo@example.org * pending"}},
		{[]string{"--app", strings.ToUpper(appA)}, []string{"jo@example.org " + appA + " revoked"}},
		{[]string{"--app", "*", "--domain", "example.org"}, []string{"jo@example.org * pending", "old@example.org * expired"}},
		{[]string{"--domain", "@Partner.example"}, []string{"@partner.example * pending"}},
		// Filters on mail select only addresses: a domain has no one to mail.
		{[]string{"--sent"}, []string{"old@example.org * expired"}},
		{[]string{"--not-sent"}, []string{"amy@example.org " + appB + " redeemed", "jo@example.org * pending", "jo@example.org " + appA + " revoked"}},
		{[]string{"--not-sent", "--status", "pending"}, []string{"jo@example.org * pending"}},
	} {
		if got := subjects(tc.args...); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("list %q = %q, want %q", tc.args, got, tc.want)
		}
	}
	var j jsonInvitation
	json.Unmarshal([]byte(strings.Split(c.mustRun("list", "--output", "json", "--status", "redeemed"), "\n")[0]), &j)
	if j.Redemptions != 2 || j.RedeemedLast != "2026-03-06T07:06:07.891Z" || j.Note != "carriage\r\nreturn" {
		t.Errorf("json fields: %+v", j)
	}
	if out := c.mustRun("list", "--output", "json", "--status", "redeemed"); strings.Contains(out, `"sent`) {
		t.Errorf("json of an invitation never mailed has sent fields: %s", out)
	}
	j = jsonInvitation{}
	json.Unmarshal([]byte(strings.Split(c.mustRun("list", "--output", "json", "--sent"), "\n")[0]), &j)
	if j.Sent != 2 || j.SentFirst != "2026-03-04T05:07:07.891Z" || j.SentLast != "2026-03-05T07:06:07.891Z" {
		t.Errorf("json sent fields: %+v", j)
	}

	csvOut := c.mustRun("list", "--output", "csv", "--status", "revoked")
	want := "email,app,expires,note,status,created,redeemed_first,redeemed_last,redemptions,sent,sent_first,sent_last\n" +
		"jo@example.org," + appA + ",,\" leading space\",revoked,2026-03-04T05:06:07.891Z,,,0,0,,\n"
	if csvOut != want {
		t.Errorf("list --output csv:\n%s\nwant\n%s", csvOut, want)
	}

	for _, args := range [][]string{{"list", "--status", "gone"}, {"list", "--output", "xml"}, {"list", "--app", "portal"}, {"list", "--domain", "x"}, {"list", "extra"},
		{"list", "--sent", "--not-sent"}, {"list", "--older-than", "7"}, {"list", "--older-than", "2027-01-31"}} {
		if code, _, _ := c.run(args...); code != exitUsage {
			t.Errorf("invitectl %s: exit %d, want 2", strings.Join(args, " "), code)
		}
	}
}

func testStats(t *testing.T, c *ctl) {
	seed(t, c)
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	jo := invite.Invitation{Key: invite.Key{Subject: "jo@example.org", App: invite.AnyApp}}
	dom := invite.Invitation{Key: invite.Key{Subject: "@partner.example", App: invite.AnyApp}}
	for _, r := range []struct {
		inv   invite.Invitation
		email string
		at    time.Time
	}{
		{jo, "jo@example.org", now.Add(-time.Hour)},
		{dom, "cy@partner.example", now.Add(-3 * 24 * time.Hour)},
		{dom, "di@partner.example", now.Add(-10 * time.Minute)},
	} {
		if _, err := c.store.Redeem(ctx, r.inv, r.email, "corr-"+r.email, r.at); err != nil {
			t.Fatal(err)
		}
	}
	var st invitestats.Stats
	if err := json.Unmarshal([]byte(c.mustRun("stats", "--output", "json", "--top", "1")), &st); err != nil {
		t.Fatal(err)
	}
	perDay := st.SignUps.PerDay
	st.SignUps.PerDay = nil
	want := invitestats.Stats{
		Invitations: 5,
		ByStatus:    map[string]int{"pending": 1, "redeemed": 2, "expired": 1, "revoked": 1}, // jo signed up
		ByApp:       map[string]int{"*": 3, appA: 1, appB: 1},
		Domains:     2,
		TopDomains:  []invitestats.Domain{{Domain: "example.org", Invitations: 4, SignUps: 3}},
		SignUps:     invitestats.SignUps{Total: 6, ThroughDomains: 3, Last24h: 2, Last7d: 3},
	}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("stats:\n got %+v\nwant %+v", st, want)
	}
	// jo and di first signed up today, cy three days ago; amy and bob in
	// March, before the 30 days.
	days := map[string]int{}
	for _, d := range perDay {
		if d.Addresses > 0 {
			days[d.Date] = d.Addresses
		}
	}
	if len(perDay) != 30 || perDay[29].Date != "2026-11-26" || !reflect.DeepEqual(days, map[string]int{"2026-11-26": 2, "2026-11-23": 1}) {
		t.Fatalf("sign-ups per day: %d days ending %v, %v", len(perDay), perDay[len(perDay)-1], days)
	}
	text := c.mustRun("stats")
	for _, line := range []string{"invitations", "  expired", "  * (any application)", "  partner.example", "addresses signed up in the last 24 h",
		fmt.Sprintf("%-42s %8d %s\n", "  2026-11-26", 2, strings.Repeat("#", 30)),
		fmt.Sprintf("%-42s %8d %s\n", "  2026-11-23", 1, strings.Repeat("#", 15)),
		fmt.Sprintf("%-42s %8d\n", "  2026-10-28", 0)} {
		if !strings.Contains(text, line) {
			t.Errorf("stats lacks %q:\n%s", line, text)
		}
	}
}

func testRevokeDeleteFile(t *testing.T, c *ctl) {
	c.mustRunIn("email,app\namy@example.org,\nbob@example.org,\ncarl@example.org,"+appA+"\n@partner.example,\n", "import", "-")
	dir := t.TempDir()
	list := filepath.Join(dir, "leavers.txt")
	os.WriteFile(list, []byte("amy@example.org\n\nBob@Example.org\namy@example.org\nnobody@example.org\n"), 0o600)
	out := c.mustRun("revoke", "--file", list)
	if out != "3 invitations: 2 revoked, 0 already revoked, 1 not found\n" {
		t.Fatalf("revoke --file said %q", out)
	}
	for _, s := range []string{"amy@example.org", "bob@example.org"} {
		if inv, _ := c.get(s, invite.AnyApp); inv.Status != invite.StatusRevoked {
			t.Errorf("%s is %s after revoke --file", s, inv.Status)
		}
	}
	if out := c.mustRun("revoke", "--file", list); out != "3 invitations: 0 revoked, 2 already revoked, 1 not found\n" {
		t.Fatalf("revoke --file again said %q", out)
	}

	// An invalid line: nothing is done.
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("amy@example.org\nnot an address\n"), 0o600)
	if code, _, errOut := c.run("delete", "--file", bad); code != exitUsage || !strings.Contains(errOut, "line 2: ") {
		t.Fatalf("delete --file with a bad line: exit %d, %q", code, errOut)
	}
	if _, err := c.get("amy@example.org", invite.AnyApp); err != nil {
		t.Fatal("a rejected delete --file deleted")
	}

	// CSV with email and app columns, such as list --output csv writes.
	revoked := c.mustRun("list", "--status", "revoked", "--output", "csv")
	out = c.mustRunIn(revoked+"carl@example.org,"+appA+",,,,,,,0,0,,\n", "delete", "--file", "-", "--verbose")
	want := "line 2      deleted         amy@example.org\n" +
		"line 3      deleted         bob@example.org\n" +
		"line 4      deleted         carl@example.org (app " + appA + ")\n" +
		"3 invitations: 3 deleted, 0 not found\n"
	if out != want {
		t.Fatalf("delete --file said:\n%s\nwant:\n%s", out, want)
	}
	var left []string
	for _, inv := range c.all() {
		left = append(left, inv.Key.String())
	}
	if !reflect.DeepEqual(left, []string{"@partner.example"}) {
		t.Fatalf("left after delete --file: %q", left)
	}

	for _, args := range [][]string{
		{"delete", "amy@example.org", "--file", list},
		{"revoke", "--file", list, "--app", "portal"},
		{"revoke", "--file", filepath.Join(dir, "missing.txt")},
		{"delete", "--file", list, "--concurrency", "0"},
	} {
		if code, _, _ := c.run(args...); code != exitUsage {
			t.Errorf("invitectl %s: exit %d, want 2", strings.Join(args, " "), code)
		}
	}
	withApp := filepath.Join(dir, "with-app.csv")
	os.WriteFile(withApp, []byte("email,app\namy@example.org,\n"), 0o600)
	if code, _, errOut := c.run("delete", "--file", withApp, "--app", appA); code != exitUsage || !strings.Contains(errOut, "line 1: ") {
		t.Errorf("an app column and --app: exit %d, %q", code, errOut)
	}
}

// testPublicDomain: a whole-domain invitation for a public mail provider
// needs --allow-public-domain; an address there does not.
func testPublicDomain(t *testing.T, c *ctl) {
	if code, _, errOut := c.run("add", "@GMail.com"); code != exitUsage || !strings.Contains(errOut, "@gmail.com is a public mail provider") {
		t.Fatalf("add @GMail.com: exit %d, %q", code, errOut)
	}
	c.mustRun("add", "amy@gmail.com")
	c.mustRun("add", "@gmail.com", "--app", appA, "--allow-public-domain")
	if _, err := c.get("@gmail.com", appA); err != nil {
		t.Fatalf("add --allow-public-domain: %v", err)
	}
	in := "email,note\nbob@outlook.com,x\n'@outlook.com,y\n@partner.example,z\n"
	code, _, errOut := c.runIn(strings.NewReader(in), "import", "-")
	if code != exitUsage || !strings.Contains(errOut, "line 3: email: @outlook.com is a public mail provider") {
		t.Fatalf("import of @outlook.com: exit %d, %q", code, errOut)
	}
	out := c.mustRunIn(in, "import", "-", "--allow-public-domain", "--dry-run")
	if want := "would create 2 whole-domain invitations:\n  line 3      @outlook.com\n  line 4      @partner.example\n"; !strings.HasSuffix(out, want) {
		t.Fatalf("dry run said:\n%s\nwant it to end\n%s", out, want)
	}
	out = c.mustRunIn(in, "import", "-", "--allow-public-domain")
	if want := "imported 3 rows: 3 new, 0 updated, 0 unchanged\ncreated 2 whole-domain invitations:\n"; !strings.Contains(out, want) {
		t.Fatalf("import said:\n%s", out)
	}
}
