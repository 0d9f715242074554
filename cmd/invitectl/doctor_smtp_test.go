package main

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/invitegate/invitegate/internal/testutil/mailpit"
)

func TestDoctorSMTP(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("right"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	auth := filepath.Join(t.TempDir(), "passwords")
	if err := os.WriteFile(auth, []byte("sender:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mp := mailpit.Start(t, "--smtp-auth-file", auth, "--smtp-auth-allow-insecure")
	c := newCtl(t)
	c.env["ENTRA_AUTH"] = "off"
	c.mustRun("init")

	// Not set up: the gate does not need it, so it is no failure.
	out := c.mustRun("doctor", "--timeout", "5s")
	if !strings.Contains(out, "SKIP  mail settings") {
		t.Fatalf("doctor without INVITE_SMTP_URL:\n%s", out)
	}

	server := mp.SMTPHost + ":" + strconv.Itoa(mp.SMTPPort)
	c.env["INVITE_SMTP_URL"] = "smtp://sender:right@" + server
	c.env["INVITE_MAIL_FROM"] = "invitations@contoso.example"
	out = c.mustRun("doctor", "--timeout", "5s")
	for _, want := range []string{"PASS  mail settings", "PASS  smtp server", "signed in as sender with PLAIN; nothing was sent"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor with a working server lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "right@") {
		t.Errorf("doctor shows the password:\n%s", out)
	}

	c.env["INVITE_SMTP_URL"] = "smtp://sender:wrong@" + server
	code, out, _ := c.run("doctor", "--timeout", "5s")
	if code != exitFailure || !strings.Contains(out, "FAIL  smtp server") || !strings.Contains(out, "535") || !strings.Contains(out, "check the user name and password") {
		t.Fatalf("doctor with a wrong password: exit %d\n%s", code, out)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	c.env["INVITE_SMTP_URL"] = "smtp://" + closed
	code, out, _ = c.run("doctor", "--timeout", "5s")
	if code != exitFailure || !strings.Contains(out, "FAIL  smtp server") || !strings.Contains(out, "check the host and port") {
		t.Fatalf("doctor with nothing listening: exit %d\n%s", code, out)
	}
	delete(c.env, "INVITE_MAIL_FROM")
	c.env["INVITE_SMTP_URL"] = "smtp://sender:right@" + server
	if code, out, _ = c.run("doctor", "--timeout", "5s"); code != exitFailure || !strings.Contains(out, "FAIL  mail settings") || !strings.Contains(out, "INVITE_MAIL_FROM") {
		t.Fatalf("doctor without a sender: exit %d\n%s", code, out)
	}
	if n := mp.Count(t); n != 0 {
		t.Fatalf("the doctor sent %d messages", n)
	}
}
