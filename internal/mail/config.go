// Package mail builds invitation messages from templates and sends them
// over SMTP, which every mail provider speaks (Azure Communication Services
// Email included, through its SMTP relay). Messages are MIME-encoded by
// github.com/wneessen/go-mail and sent with its SMTP client.
//
// The transport refuses to send credentials or messages in clear text to
// anything but this machine: smtp:// requires STARTTLS unless the host is a
// loopback address; smtps:// is TLS from the first byte.
package mail

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/invitegate/invitegate/internal/loopback"
)

// Setting names.
const (
	EnvURL       = "INVITE_SMTP_URL"
	EnvFrom      = "INVITE_MAIL_FROM"
	EnvTemplates = "INVITE_MAIL_TEMPLATES"
)

// Config says how messages are sent and what they look like.
type Config struct {
	// Host and Port name the SMTP server.
	Host string
	Port int
	// ImplicitTLS is set for smtps://: TLS from the first byte. Otherwise
	// the connection is upgraded with STARTTLS, which is required unless
	// Host is a loopback address.
	ImplicitTLS bool
	// Username and Password authenticate, when Username is set.
	Username, Password string
	// From is the sender, "Contoso <invitations@contoso.com>" or a bare
	// address; the mail provider must allow it.
	From string
	// Templates is a folder whose subject.tmpl, text.tmpl and html.tmpl
	// replace the built-in templates ("" for the built-in ones).
	Templates string
	// Timeout bounds connecting and each SMTP command (default 30s).
	Timeout time.Duration

	// DialContext, when set, opens the connections: tests point a host
	// name that is not loopback at a local server.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// RootCAs, when set, replaces the system's trusted certificate
	// authorities (tests).
	RootCAs *x509.CertPool
}

// ConfigFromEnv reads INVITE_SMTP_URL, INVITE_MAIL_FROM and
// INVITE_MAIL_TEMPLATES through getenv. Unset settings stay empty (a dry
// run needs no server); malformed ones are an error naming the setting.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var c Config
	if raw := strings.TrimSpace(getenv(EnvURL)); raw != "" {
		var err error
		if c, err = ParseURL(raw); err != nil {
			return c, err
		}
	}
	c.From = strings.TrimSpace(getenv(EnvFrom))
	if c.From != "" {
		if _, err := mail.ParseAddress(c.From); err != nil {
			return c, fmt.Errorf("%s %q is not an email address: use invitations@contoso.com or \"Contoso <invitations@contoso.com>\"", EnvFrom, c.From)
		}
	}
	c.Templates = strings.TrimSpace(getenv(EnvTemplates))
	return c, nil
}

// ParseURL reads an SMTP server URL: smtp://user:password@host:587
// (STARTTLS, port 587 by default) or smtps://user:password@host:465 (TLS
// from the start, port 465 by default). Characters of the user name or
// password that a URL reserves, such as "|" or "@", are percent-encoded.
// Its errors never repeat the password.
func ParseURL(raw string) (Config, error) {
	var c Config
	bad := func(why string) error {
		return fmt.Errorf("%s is not an SMTP server URL (%s): use smtp://user:password@host:587, or smtps://user:password@host:465 for TLS from the start", EnvURL, why)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return c, bad("it does not parse")
	}
	switch u.Scheme {
	case "smtp":
		c.Port = 587
	case "smtps":
		c.ImplicitTLS, c.Port = true, 465
	default:
		return c, bad("the scheme must be smtp or smtps")
	}
	if c.Host = u.Hostname(); c.Host == "" {
		return c, bad("it names no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return c, bad("the port must be 1 to 65535")
		}
		c.Port = n
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return c, bad("it has a path, query or fragment; only user, password, host and port are read")
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
		if c.Username == "" {
			return c, bad("a password without a user name")
		}
	}
	return c, nil
}

// RequireTLS reports whether the connection must be encrypted: always,
// except with a loopback host.
func (c Config) RequireTLS() bool { return c.ImplicitTLS || !loopback.Host(c.Host) }

// Addr is host:port.
func (c Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// Where describes the server in words that are safe to print: never the
// password.
func (c Config) Where() string {
	s := "smtp://" + c.Addr()
	switch {
	case c.ImplicitTLS:
		s = "smtps://" + c.Addr() + " (TLS)"
	case c.RequireTLS():
		s += " (STARTTLS required)"
	default:
		s += " (loopback: STARTTLS if offered)"
	}
	if c.Username != "" {
		s += ", signing in as " + c.Username
	} else {
		s += ", without signing in"
	}
	return s
}

// CheckSend says what is missing before anything can be sent.
func (c Config) CheckSend() error {
	var missing []string
	if c.Host == "" {
		missing = append(missing, EnvURL+" (the SMTP server, smtp://user:password@host:587)")
	}
	if c.From == "" {
		missing = append(missing, EnvFrom+" (the sender's address)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: set %s", ErrNotConfigured, strings.Join(missing, " and "))
	}
	return nil
}

// ErrNotConfigured: the settings needed to send are missing.
var ErrNotConfigured = errors.New("sending mail is not configured")

func (c Config) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 30 * time.Second
	}
	return c.Timeout
}
