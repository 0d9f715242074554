package mail_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/mail"
)

var data = mail.Data{
	Email: "o'neil+x@example.org", App: "Contoso <Portal>", AppID: "5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f",
	Link:    "https://portal.contoso.example/signup?login_hint=o%27neil%2Bx%40example.org&prompt=create",
	Expires: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), Message: "Welcome aboard! <b>not bold</b>", GivenName: "Jo",
}

func TestBuiltinTemplates(t *testing.T) {
	tmpl, err := mail.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	c, err := tmpl.Render(data)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "You're invited to Contoso <Portal>" {
		t.Errorf("subject %q", c.Subject)
	}
	for _, want := range []string{"Hello Jo,", "Contoso <Portal>", data.Email, data.Link, "31 January 2027", "Welcome aboard! <b>not bold</b>"} {
		if !strings.Contains(c.Text, want) {
			t.Errorf("text part lacks %q:\n%s", want, c.Text)
		}
	}
	for _, want := range []string{"Contoso &lt;Portal&gt;", `href="https://portal.contoso.example/signup?login_hint=o%27neil%2Bx%40example.org&amp;prompt=create"`,
		"31 January 2027", "Welcome aboard! &lt;b&gt;not bold&lt;/b&gt;", "o&#39;neil&#43;x@example.org"} {
		if !strings.Contains(c.HTML, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, c.HTML)
		}
	}
	if strings.Contains(c.HTML, "<b>not bold") {
		t.Error("the administrator's message reached the HTML unescaped")
	}

	// A reminder says so; no message, no given name, no expiry: no gaps.
	plain := mail.Data{Email: "jo@example.org", App: "Contoso", Link: "https://contoso.example/?h=jo%40example.org", Reminder: true}
	c, err = tmpl.Render(plain)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "Reminder: you're invited to Contoso" || !strings.HasPrefix(c.Text, "Hello,\n") || strings.Contains(c.Text, "valid until") || strings.Contains(c.HTML, "valid until") {
		t.Errorf("reminder without extras:\nsubject %q\n%s", c.Subject, c.Text)
	}
}

func TestExpiresOn(t *testing.T) {
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Time{}, ""},
		{time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), "31 January 2027"},
		{time.Date(2027, 1, 31, 17, 30, 0, 0, time.UTC), "31 January 2027, 17:30 UTC"},
	} {
		if got := (mail.Data{Expires: tc.at}).ExpiresOn(); got != tc.want {
			t.Errorf("ExpiresOn(%v) = %q, want %q", tc.at, got, tc.want)
		}
	}
}

func writeTemplates(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestTemplateFolder(t *testing.T) {
	dir := writeTemplates(t, map[string]string{"subject.tmpl": "{{.App}}: your invitation\n", "README.md": "notes"})
	tmpl, err := mail.LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tmpl.Render(data)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "Contoso <Portal>: your invitation" || !strings.Contains(c.Text, data.Link) {
		t.Fatalf("subject from the folder, parts built in: %q\n%s", c.Subject, c.Text)
	}

	for name, tc := range map[string]struct {
		files map[string]string
		want  string // in the error of LoadTemplates, or of Render when it loads
	}{
		"typo":          {map[string]string{"subjct.tmpl": "x"}, "unknown template subjct.tmpl"},
		"empty folder":  {map[string]string{"README.md": "x"}, "holds none of"},
		"parse error":   {map[string]string{"text.tmpl": "{{.Link"}, "text.tmpl"},
		"unknown field": {map[string]string{"html.tmpl": "<a href=\"{{.Url}}\">x</a>"}, "Url"},
		"two lines":     {map[string]string{"subject.tmpl": "one\ntwo"}, "more than one line"},
		"empty subject": {map[string]string{"subject.tmpl": "{{if false}}x{{end}}"}, "subject is empty"},
		"empty part":    {map[string]string{"text.tmpl": "   "}, "renders nothing"},
	} {
		t.Run(name, func(t *testing.T) {
			tmpl, err := mail.LoadTemplates(writeTemplates(t, tc.files))
			if err == nil {
				_, err = tmpl.Render(data)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one about %q", err, tc.want)
			}
			var te *mail.TemplateError
			if strings.Contains(name, "folder") || name == "typo" {
				return
			}
			if !errors.As(err, &te) {
				t.Fatalf("error %T is not a *TemplateError", err)
			}
		})
	}
	if _, err := mail.LoadTemplates(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("a missing folder was accepted")
	}
}

func TestPreviewAndMIME(t *testing.T) {
	tmpl, err := mail.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	c, err := tmpl.Render(data)
	if err != nil {
		t.Fatal(err)
	}
	m := mail.Message{From: "Contoso <invitations@contoso.example>", To: data.Email, Content: c}
	var b bytes.Buffer
	if err := m.Preview(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"From: Contoso <invitations@contoso.example>\n", "To: " + data.Email + "\n", "Subject: " + c.Subject + "\n", "text/plain", "text/html", data.Link} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("preview lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"multipart/alternative", "text/plain; charset=UTF-8", "text/html; charset=UTF-8", "Message-ID: <", "Date: "} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("MIME lacks %q", want)
		}
	}
}
