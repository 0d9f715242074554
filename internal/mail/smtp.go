package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/wneessen/go-mail/smtp"
)

// Client is one SMTP connection, secured and signed in.
type Client struct {
	cfg    Config
	conn   net.Conn
	c      *smtp.Client
	tls    string // the TLS version in use, "" for none
	mech   string // the AUTH mechanism used, "" for none
	broken bool   // the connection failed: it cannot send again
}

// Dial connects to the server, upgrades the connection to TLS (required
// unless the host is a loopback address) and signs in when the
// configuration has a user name. Nothing is sent in clear text to a
// server that is not loopback: without STARTTLS, Dial fails before EHLO's
// answer is acted on.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Host == "" {
		return nil, &Error{Stage: StageConnect, Reply: EnvURL + " is not set"}
	}
	dial := cfg.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: cfg.timeout()}).DialContext
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.timeout())
	defer cancel()
	conn, err := dial(dctx, "tcp", cfg.Addr())
	if err != nil {
		return nil, classify(StageConnect, err, false)
	}
	cl := &Client{cfg: cfg, conn: conn}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if err := cl.open(dctx); err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return nil, classify(err.Stage, ctx.Err(), false)
		}
		return nil, err
	}
	return cl, nil
}

func (cl *Client) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: cl.cfg.Host, MinVersion: tls.VersionTLS12, RootCAs: cl.cfg.RootCAs}
}

func (cl *Client) open(ctx context.Context) *Error {
	cfg := cl.cfg
	cl.conn.SetDeadline(time.Now().Add(cfg.timeout()))
	if cfg.ImplicitTLS {
		tc := tls.Client(cl.conn, cl.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return classify(StageTLS, err, true)
		}
		cl.conn = tc
	}
	c, err := smtp.NewClient(cl.conn, cfg.Host)
	if err != nil {
		return classify(StageConnect, err, false)
	}
	cl.c = c
	if err := c.Hello(helloName()); err != nil {
		return classify(StageConnect, err, false)
	}
	if !cfg.ImplicitTLS {
		offered, _ := c.Extension("STARTTLS")
		switch {
		case offered:
			if err := c.StartTLS(cl.tlsConfig()); err != nil {
				return classify(StageTLS, err, true)
			}
		case cfg.RequireTLS():
			return &Error{Stage: StageTLS, Reply: fmt.Sprintf("the server does not offer STARTTLS, and %s is not a loopback host: nothing is sent in clear text (use smtps:// if the server expects TLS from the first byte)", cfg.Host)}
		}
	}
	if st, ok := c.TLSConnectionState(); ok {
		cl.tls = tls.VersionName(st.Version)
	}
	if cfg.Username == "" {
		return nil
	}
	offered, mechs := c.Extension("AUTH")
	if !offered {
		return &Error{Stage: StageLogin, Reply: "the server offers no AUTH: remove the user name from " + EnvURL + " if it accepts mail without signing in"}
	}
	auth, mech := cl.chooseAuth(strings.Fields(strings.ToUpper(mechs)))
	if auth == nil {
		return &Error{Stage: StageLogin, Reply: fmt.Sprintf("the server offers AUTH %s; invitectl signs in with SCRAM-SHA-256, PLAIN or LOGIN", mechs)}
	}
	if err := c.Auth(auth); err != nil {
		return classify(StageLogin, err, true)
	}
	cl.mech = mech
	return nil
}

// chooseAuth picks the strongest mechanism both sides know. PLAIN and
// LOGIN send the password itself: they are used over TLS, or in clear
// text only on loopback (RequireTLS is false only there).
func (cl *Client) chooseAuth(offered []string) (smtp.Auth, string) {
	cfg := cl.cfg
	clear := !cfg.RequireTLS()
	for _, mech := range []string{"SCRAM-SHA-256", "PLAIN", "LOGIN"} {
		if !slices.Contains(offered, mech) {
			continue
		}
		switch mech {
		case "SCRAM-SHA-256":
			return smtp.ScramSHA256Auth(cfg.Username, cfg.Password), mech
		case "PLAIN":
			return smtp.PlainAuth("", cfg.Username, cfg.Password, cfg.Host, clear), mech
		case "LOGIN":
			return smtp.LoginAuth(cfg.Username, cfg.Password, cfg.Host, clear), mech
		}
	}
	return nil, ""
}

func helloName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

// TLSVersion is the TLS version of the connection, "" without TLS.
func (cl *Client) TLSVersion() string { return cl.tls }

// AuthMechanism is the SASL mechanism Dial signed in with, "" when it did
// not sign in.
func (cl *Client) AuthMechanism() string { return cl.mech }

// Broken reports whether the connection failed and cannot send again.
func (cl *Client) Broken() bool { return cl.broken }

// Send sends m. It returns nil only once the server accepted the message
// (its reply to the end of DATA).
func (cl *Client) Send(ctx context.Context, m Message) error {
	if cl.broken {
		return &Error{Stage: StageConnect, Temporary: true, Reply: "the connection failed earlier"}
	}
	msg, err := m.mime()
	if err != nil {
		return &Error{Stage: StageMessage, Reply: err.Error()}
	}
	stop := context.AfterFunc(ctx, func() { cl.conn.SetDeadline(time.Now()) })
	defer stop()
	cl.conn.SetDeadline(time.Now().Add(cl.cfg.timeout()))
	fail := func(stage Stage, err error) error {
		e := classify(stage, err, false)
		if ctx.Err() != nil {
			e = classify(stage, ctx.Err(), false)
		}
		if e.Code == 0 || e.Code == 421 {
			cl.broken = true // no reply, or the server is closing the connection
		} else if rerr := cl.c.Reset(); rerr != nil {
			cl.broken = true
		}
		return e
	}
	from, err := envelope(m.From)
	if err != nil {
		return &Error{Stage: StageSender, Reply: "the sender is not an address: check " + EnvFrom}
	}
	to, err := envelope(m.To)
	if err != nil {
		return &Error{Stage: StageRecipient, Reply: "the recipient is not an address"}
	}
	if err := cl.c.Mail(from); err != nil {
		return fail(StageSender, err)
	}
	if err := cl.c.Rcpt(to); err != nil {
		return fail(StageRecipient, err)
	}
	w, err := cl.c.Data()
	if err != nil {
		return fail(StageMessage, err)
	}
	if _, err := msg.WriteTo(w); err != nil {
		cl.broken = true // the server may have part of a message: never reuse
		return classify(StageMessage, err, false)
	}
	if err := w.Close(); err != nil {
		return fail(StageMessage, err)
	}
	return nil
}

// envelope returns "<address>" for "Name <address>" or "address", as
// MAIL FROM and RCPT TO take it.
func envelope(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", err
	}
	return "<" + a.Address + ">", nil
}

// Close ends the conversation politely and closes the connection.
func (cl *Client) Close() error {
	if cl.c == nil {
		return cl.conn.Close()
	}
	if !cl.broken {
		cl.conn.SetDeadline(time.Now().Add(5 * time.Second))
		if err := cl.c.Quit(); err == nil {
			return nil
		}
	}
	err := cl.c.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
