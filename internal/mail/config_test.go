package mail_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/invitegate/invitegate/internal/mail"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want mail.Config
	}{
		{"smtp://smtp.azurecomm.net", mail.Config{Host: "smtp.azurecomm.net", Port: 587}},
		{"smtp://res.1111.2222:s3cr~et@smtp.azurecomm.net:587", mail.Config{Host: "smtp.azurecomm.net", Port: 587, Username: "res.1111.2222", Password: "s3cr~et"}},
		{"smtp://res%7C1111%7C2222:p%40ss%2Fw@smtp.azurecomm.net:25", mail.Config{Host: "smtp.azurecomm.net", Port: 25, Username: "res|1111|2222", Password: "p@ss/w"}},
		{"smtps://u:p@mail.example.org", mail.Config{Host: "mail.example.org", Port: 465, ImplicitTLS: true, Username: "u", Password: "p"}},
		{"smtp://127.0.0.1:1025/", mail.Config{Host: "127.0.0.1", Port: 1025}},
		{"smtp://[::1]:1025", mail.Config{Host: "::1", Port: 1025}},
	} {
		got, err := mail.ParseURL(tc.url)
		if err != nil || got.Host != tc.want.Host || got.Port != tc.want.Port || got.ImplicitTLS != tc.want.ImplicitTLS || got.Username != tc.want.Username || got.Password != tc.want.Password {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", tc.url, got, err, tc.want)
		}
	}
	for _, bad := range []string{"http://mail.example.org", "smtp://", "smtp://:pw@mail.example.org", "smtp://u:topsecret@mail.example.org:0", "smtp://u:topsecret@mail.example.org:99999", "smtp://u:topsecret@mail.example.org/path", "smtp://mail.example.org?x=1", "mail.example.org:587"} {
		_, err := mail.ParseURL(bad)
		if err == nil {
			t.Errorf("ParseURL(%q) accepted it", bad)
			continue
		}
		if strings.Contains(err.Error(), "topsecret") {
			t.Errorf("ParseURL(%q) error shows the password: %v", bad, err)
		}
	}
}

func TestRequireTLS(t *testing.T) {
	for host, want := range map[string]bool{"localhost": false, "127.0.0.1": false, "::1": false, "127.evil.example": true, "smtp.azurecomm.net": true, "192.0.2.2": true} {
		if got := (mail.Config{Host: host}).RequireTLS(); got != want {
			t.Errorf("RequireTLS(%s) = %v, want %v", host, got, want)
		}
	}
	if !(mail.Config{Host: "localhost", ImplicitTLS: true}).RequireTLS() {
		t.Error("smtps on loopback does not require TLS")
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	c, err := mail.ConfigFromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckSend(); !errors.Is(err, mail.ErrNotConfigured) || !strings.Contains(err.Error(), mail.EnvURL) || !strings.Contains(err.Error(), mail.EnvFrom) {
		t.Fatalf("nothing set: %v", err)
	}
	env[mail.EnvURL] = "smtp://user:hunter2@smtp.azurecomm.net"
	env[mail.EnvFrom] = "Contoso <DoNotReply@contoso.example>"
	env[mail.EnvTemplates] = " /srv/templates "
	if c, err = mail.ConfigFromEnv(getenv); err != nil || c.CheckSend() != nil || c.Templates != "/srv/templates" {
		t.Fatalf("all set: %+v, %v", c, err)
	}
	if w := c.Where(); strings.Contains(w, "hunter2") || !strings.Contains(w, "STARTTLS required") || !strings.Contains(w, "user") {
		t.Errorf("Where() = %q", w)
	}
	env[mail.EnvFrom] = "not an address"
	if _, err := mail.ConfigFromEnv(getenv); err == nil || !strings.Contains(err.Error(), mail.EnvFrom) {
		t.Errorf("bad sender: %v", err)
	}
	env[mail.EnvFrom] = "a@contoso.example"
	env[mail.EnvURL] = "smtp://user:hunter2@"
	if _, err := mail.ConfigFromEnv(getenv); err == nil || !strings.Contains(err.Error(), mail.EnvURL) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad URL: %v", err)
	}
}
