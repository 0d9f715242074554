package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"os"
	"path/filepath"
	"sort"
	"strings"
	texttemplate "text/template"
	"time"
)

// Template files: a folder given as Config.Templates may hold any of them;
// the built-in ones fill in the rest.
const (
	SubjectFile = "subject.tmpl" // text/template, one line
	TextFile    = "text.tmpl"    // text/template, the plain-text part
	HTMLFile    = "html.tmpl"    // html/template, the HTML part
)

//go:embed templates/*.tmpl
var builtin embed.FS

// Data is what the templates see.
type Data struct {
	// Email is the invited address, the message's recipient.
	Email string
	// App is the application's name; AppID its appId, or "*" for an
	// invitation valid for any application.
	App, AppID string
	// Link is the sign-up link.
	Link string
	// Expires is when the invitation stops being valid (zero: never).
	Expires time.Time
	// Message is the administrator's personal note to the recipient, if
	// one was written (send --message).
	Message string
	// GivenName is the givenName the invitation prefills or sets, if any.
	GivenName string
	// Reminder is set when a message about this invitation went out before.
	Reminder bool
	// Subject is the rendered subject, for the HTML title (empty while the
	// subject itself renders).
	Subject string
}

// ExpiresOn renders Expires for people: "31 January 2027" for an
// invitation valid through the end of that day (UTC), else the instant
// with its time, or "" when it never expires.
func (d Data) ExpiresOn() string {
	if d.Expires.IsZero() {
		return ""
	}
	e := d.Expires.UTC()
	if e.Hour() == 0 && e.Minute() == 0 && e.Second() == 0 && e.Nanosecond() == 0 {
		return e.Add(-time.Nanosecond).Format("2 January 2006") // valid through the previous day
	}
	return e.Format("2 January 2006, 15:04 MST")
}

// Content is a rendered message: subject and both parts.
type Content struct {
	Subject, Text, HTML string
}

// Templates render invitation messages.
type Templates struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
	// source says where each template came from, for error messages.
	source map[string]string
}

// LoadTemplates returns the built-in templates with those in dir, when it
// is not "", in their place. dir must hold at least one template file and
// no other .tmpl file, so that a misspelt name is not silently ignored.
func LoadTemplates(dir string) (*Templates, error) {
	t := &Templates{source: map[string]string{}}
	read := func(name string) ([]byte, error) {
		t.source[name] = "built-in " + name
		return builtin.ReadFile("templates/" + name)
	}
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("template folder: %v", err)
		}
		found := map[string]bool{}
		var unknown []string
		for _, e := range entries {
			switch n := e.Name(); {
			case n == SubjectFile || n == TextFile || n == HTMLFile:
				found[n] = true
			case strings.HasSuffix(n, ".tmpl"):
				unknown = append(unknown, n)
			}
		}
		sort.Strings(unknown)
		switch {
		case len(unknown) > 0:
			return nil, fmt.Errorf("template folder %s: unknown template %s: the templates are %s, %s and %s", dir, strings.Join(unknown, ", "), SubjectFile, TextFile, HTMLFile)
		case len(found) == 0:
			return nil, fmt.Errorf("template folder %s holds none of %s, %s and %s", dir, SubjectFile, TextFile, HTMLFile)
		}
		read = func(name string) ([]byte, error) {
			if !found[name] {
				t.source[name] = "built-in " + name
				return builtin.ReadFile("templates/" + name)
			}
			t.source[name] = filepath.Join(dir, name)
			return os.ReadFile(filepath.Join(dir, name))
		}
	}
	for _, name := range []string{SubjectFile, TextFile, HTMLFile} {
		b, err := read(name)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %v", t.source[name], err)
		}
		switch name {
		case HTMLFile:
			t.html, err = htmltemplate.New(name).Option("missingkey=error").Parse(string(b))
		default:
			var tt *texttemplate.Template
			tt, err = texttemplate.New(name).Option("missingkey=error").Parse(string(b))
			if name == SubjectFile {
				t.subject = tt
			} else {
				t.text = tt
			}
		}
		if err != nil {
			return nil, &TemplateError{Source: t.source[name], Err: err}
		}
	}
	return t, nil
}

// TemplateError is a template that does not parse or render.
type TemplateError struct {
	Source string // the file, or "built-in NAME"
	Err    error
}

func (e *TemplateError) Error() string { return fmt.Sprintf("template %s: %v", e.Source, e.Err) }

func (e *TemplateError) Unwrap() error { return e.Err }

// Render renders the subject and both parts for d. The subject must be
// one line, and no part may be empty.
func (t *Templates) Render(d Data) (Content, error) {
	var c Content
	var b bytes.Buffer
	d.Subject = ""
	if err := t.subject.Execute(&b, d); err != nil {
		return c, &TemplateError{Source: t.source[SubjectFile], Err: err}
	}
	c.Subject = strings.TrimSpace(b.String())
	switch {
	case c.Subject == "":
		return c, &TemplateError{Source: t.source[SubjectFile], Err: errors.New("the subject is empty")}
	case strings.ContainsAny(c.Subject, "\r\n"):
		return c, &TemplateError{Source: t.source[SubjectFile], Err: errors.New("the subject spans more than one line")}
	}
	d.Subject = c.Subject
	b.Reset()
	if err := t.text.Execute(&b, d); err != nil {
		return c, &TemplateError{Source: t.source[TextFile], Err: err}
	}
	c.Text = b.String()
	b.Reset()
	if err := t.html.Execute(&b, d); err != nil {
		return c, &TemplateError{Source: t.source[HTMLFile], Err: err}
	}
	c.HTML = b.String()
	for name, part := range map[string]string{TextFile: c.Text, HTMLFile: c.HTML} {
		if strings.TrimSpace(part) == "" {
			return c, &TemplateError{Source: t.source[name], Err: errors.New("it renders nothing")}
		}
	}
	return c, nil
}
