package main

import (
	"strings"
	"testing"
)

func TestDoctorCommand(t *testing.T) {
	c := newCtl(t)
	c.env["ENTRA_AUTH"] = "off"

	// The table does not exist yet: a failed check, exit 1, and the fix.
	code, out, _ := c.run("doctor", "--timeout", "10s")
	if code != exitFailure || !strings.Contains(out, "FAIL  store reachable") || !strings.Contains(out, "invitectl init") {
		t.Fatalf("doctor before init: exit %d\n%s", code, out)
	}

	c.mustRun("init")
	out = c.mustRun("doctor", "--timeout", "10s")
	for _, want := range []string{"PASS  store reachable", "PASS  domain invitations", "WARN  auth settings"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor after init lacks %q:\n%s", want, out)
		}
	}

	// Store flags override the settings, as for every command.
	code, out, _ = c.run("doctor", "--timeout", "10s", "--table", "nosuchtable")
	if code != exitFailure || !strings.Contains(out, "FAIL  store reachable") {
		t.Fatalf("doctor --table nosuchtable: exit %d\n%s", code, out)
	}
}
