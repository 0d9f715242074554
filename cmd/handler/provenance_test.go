package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/logsafe"
	"github.com/invitegate/invitegate/internal/testutil/azurite"
	"github.com/invitegate/invitegate/internal/testutil/fixtures"
)

func postBody(t *testing.T, url string, body []byte) string {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	return string(b)
}

// TestApprovalServesAnyInstance: start on one instance, submit on another
// (the approval is in the table, not in memory); an address typed in at
// submit that start did not approve is blocked on either.
func TestApprovalServesAnyInstance(t *testing.T) {
	conn := azurite.Connection(t)
	table := seedTable(t, conn)
	env := func() map[string]string {
		return map[string]string{"INVITATIONS_CONNECTION": conn, "INVITATIONS_TABLE": table, "ENTRA_AUTH": "off"}
	}
	a, _, _ := startRun(t, env())
	b, logsB, _ := startRun(t, env())

	if got := postBody(t, a+"/api/attributeStart", fixtures.Request(t, "start-google.json")); !strings.Contains(got, "continueWithDefaultBehavior") {
		t.Fatalf("Google start on instance A: %s", got)
	}
	// The approval is written after the answer: the submit may not find it
	// at once. Entra's own retry, or the person's few seconds on the form,
	// cover that; here the test waits for the row.
	waitFor(t, func() bool {
		return strings.Contains(postBody(t, b+"/api/attributeSubmit", fixtures.Request(t, "submit-google.json")), "continueWithDefaultBehavior")
	})
	typed := bytes.Replace(fixtures.Request(t, "submit-google.json"), []byte("alex.doe@gmail.com"), []byte("jo.bloggs@example.org"), 1)
	if got := postBody(t, b+"/api/attributeSubmit", typed); !strings.Contains(got, "showBlockPage") || strings.Contains(got, "Example Ltd") {
		t.Fatalf("another invitee's address typed in at submit: %s", got)
	}
	if !strings.Contains(logsB.String(), `"reason":"not_approved_at_start"`) {
		t.Errorf("instance B does not log why it blocked:\n%s", logsB)
	}
}

// TestLogsAreSafe: the decision log escapes line separators and bidi
// controls, and carries a keyed email digest only when a key is set.
func TestLogsAreSafe(t *testing.T) {
	conn := azurite.Connection(t)
	table := seedTable(t, conn)
	const key = "a-test-key-of-enough-length"
	base, logs, _ := startRun(t, map[string]string{"INVITATIONS_CONNECTION": conn, "INVITATIONS_TABLE": table, "ENTRA_AUTH": "off", "INVITE_LOG_HASH_KEY": key})
	evil := bytes.Replace(fixtures.Request(t, "start-email-otp.json"), []byte("e4f5a6b7-5555-4e6f-9a0b-4d5e6f708192"), []byte(`x\u2028{\"level\":\"info\"}\u202e`), 1)
	postBody(t, base+"/api/attributeStart", evil)
	out := logs.String()
	if strings.ContainsAny(out, "\u2028\u202e") {
		t.Fatalf("log holds a raw line separator or bidi control:\n%s", out)
	}
	if !strings.Contains(out, `x\u2028{\"level\":\"info\"}\u202e`) {
		t.Errorf("the correlation id is not in the log, escaped:\n%s", out)
	}
	want := logsafe.NewHasher(key).Email("jo.bloggs@example.org")
	if !strings.Contains(out, `"email_hash":"`+want+`"`) {
		t.Errorf("log lacks the keyed digest %s:\n%s", want, out)
	}

	unkeyed, logs2, _ := startRun(t, map[string]string{"INVITATIONS_CONNECTION": conn, "INVITATIONS_TABLE": table, "ENTRA_AUTH": "off"})
	postBody(t, unkeyed+"/api/attributeStart", fixtures.Request(t, "start-email-otp.json"))
	for _, line := range strings.Split(strings.TrimSpace(logs2.String()), "\n") {
		var v map[string]any
		if json.Unmarshal([]byte(line), &v) == nil && v["message"] == "decision" {
			if _, ok := v["email_hash"]; ok {
				t.Fatalf("a digest without a key: %s", line)
			}
			return
		}
	}
	t.Fatalf("no decision line:\n%s", logs2)
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
