// Package invitemail decides which invitations get a message, builds each
// message (application, link, expiry, note) and keeps the sent bookkeeping:
// a message counts as sent only once the mail server accepted it, and an
// invitation mailed within the last 24 hours is not mailed again unless
// forced, so re-running a batch never mails anyone twice by accident.
//
// Mailer.Run mails a batch (Select picks one from the store), checking
// every message before it sends the first; Link gives one address its
// sign-up link, as the gate would admit it; SetApp keeps the registry of
// the applications the messages link to. Commands print what these report.
package invitemail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/mail"
	"github.com/invitegate/invitegate/internal/signup"
)

// DefaultWindow is how long after a message the same invitation is not
// mailed again without Force.
const DefaultWindow = 24 * time.Hour

// Store is what sending needs of the invitation store.
type Store interface {
	Get(ctx context.Context, k invite.Key) (invite.Invitation, error)
	Update(ctx context.Context, k invite.Key, fn func(cur *invite.Invitation) (*invite.Invitation, error)) error
}

// Transport sends one message; mail.Sender is one.
type Transport interface {
	Send(ctx context.Context, m mail.Message) (mail.Result, error)
}

// Options configure a Mailer.
type Options struct {
	// From is the sender of every message.
	From string
	// Templates render the messages.
	Templates *mail.Templates
	// Links find each invitation's sign-up page.
	Links *signup.Links
	// Message is the administrator's personal note to the recipients (""
	// for none).
	Message string
	// Force sends even to invitations mailed within Window.
	Force bool
	// Window is how long a message protects against another (default
	// DefaultWindow).
	Window time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Mailer sends invitation messages and records them.
type Mailer struct {
	store     Store
	transport Transport
	o         Options
}

// New returns a Mailer. transport may be nil for a Mailer that only
// checks and previews.
func New(s Store, t Transport, o Options) *Mailer {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Mailer{store: s, transport: t, o: o}
}

// Outcome is what became of one invitation.
type Outcome string

// Outcomes.
const (
	Sent    Outcome = "sent"
	Skipped Outcome = "skipped" // nothing to do; not a failure
	Failed  Outcome = "failed"
)

// Verdict says whether an invitation gets a message now, and why not.
type Verdict struct {
	Outcome Outcome // Sent when it gets one
	Reason  string
}

// Judge applies the rules to inv at now (a pure function):
//
//   - a whole-domain invitation has no one to send to: skipped;
//   - a revoked or expired invitation would lead to a block page: failed;
//   - an invitation mailed less than window ago: skipped, unless force;
//   - otherwise (pending or redeemed, valid): it gets a message.
func Judge(inv invite.Invitation, now time.Time, window time.Duration, force bool) Verdict {
	switch {
	case inv.IsDomain():
		return Verdict{Skipped, "a whole-domain invitation has no one to send to"}
	case inv.Status == invite.StatusRevoked:
		return Verdict{Failed, "the invitation is revoked: nothing sent (invitectl add makes it valid again)"}
	case inv.Status != invite.StatusPending && inv.Status != invite.StatusRedeemed:
		return Verdict{Failed, fmt.Sprintf("the invitation's status %q is unknown: nothing sent", inv.Status)}
	case inv.Expired(now):
		return Verdict{Failed, "the invitation expired on " + inv.Expires.UTC().Format(time.RFC3339) + ": nothing sent (extend it with invitectl add --expires)"}
	case !force && inv.SentWithin(window, now):
		return Verdict{Skipped, fmt.Sprintf("mailed %s ago, within %s: --force sends again", ago(now.Sub(inv.LastSent)), ago(window))}
	}
	return Verdict{Outcome: Sent}
}

func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes", int(d/time.Minute))
	default:
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	}
}

// Judge applies the rules with the Mailer's clock and options.
func (m *Mailer) Judge(inv invite.Invitation) Verdict {
	return Judge(inv, m.o.Now(), m.o.Window, m.o.Force)
}

// ConfigError is a message that cannot be built for reasons that hold for
// the whole run: a template that does not render, an application without
// a sign-up page. Nothing should be sent until it is fixed.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }

func (e *ConfigError) Unwrap() error { return e.Err }

// Build renders the message for inv. Its error is a *ConfigError, or a
// store failure (invite.ErrUnavailable) looking up the application.
func (m *Mailer) Build(ctx context.Context, inv invite.Invitation) (mail.Message, error) {
	msg, _, err := m.build(ctx, inv)
	return msg, err
}

func (m *Mailer) build(ctx context.Context, inv invite.Invitation) (mail.Message, invite.App, error) {
	app, link, err := m.o.Links.For(ctx, inv, inv.Subject)
	if err != nil {
		if errors.Is(err, invite.ErrUnavailable) {
			return mail.Message{}, app, err
		}
		return mail.Message{}, app, &ConfigError{err}
	}
	name := app.Name
	if name == "" {
		name = "the application"
	}
	given := inv.Set["givenName"]
	if given == "" {
		given = inv.Prefill["givenName"]
	}
	content, err := m.o.Templates.Render(mail.Data{
		Email: inv.Subject, App: name, AppID: app.ID, Link: link, Expires: inv.Expires,
		Message: m.o.Message, GivenName: given, Reminder: inv.SentCount > 0,
	})
	if err != nil {
		return mail.Message{}, app, &ConfigError{err}
	}
	return mail.Message{From: m.o.From, To: inv.Subject, Content: content}, app, nil
}

// Result is what became of one invitation.
type Result struct {
	Key invite.Key
	Verdict
	// Err is the failure when Outcome is Failed; a *mail.Error when the
	// server refused.
	Err error
	// Attempts is how often the message was tried.
	Attempts int
	// App is the application's name, when known.
	App string
}

// Send mails one invitation: it reads it again (another run may have sent
// it meanwhile), judges it, builds the message, sends it and, once the
// server has accepted it, records it. A failure to record after the
// server accepted is reported as a failure that says so.
func (m *Mailer) Send(ctx context.Context, k invite.Key) Result {
	res := Result{Key: k}
	fail := func(err error) Result {
		res.Outcome, res.Err = Failed, err
		if res.Reason == "" {
			res.Reason = err.Error()
		}
		return res
	}
	inv, err := m.store.Get(ctx, k)
	switch {
	case errors.Is(err, invite.ErrNotFound):
		res.Reason = "no such invitation"
		return fail(err)
	case err != nil:
		return fail(err)
	}
	if res.Verdict = m.Judge(inv); res.Outcome != Sent {
		if res.Outcome == Failed {
			res.Err = errors.New(res.Reason)
		}
		return res
	}
	msg, app, err := m.build(ctx, inv)
	res.App = app.Name
	if err != nil {
		return fail(err)
	}
	sent, err := m.transport.Send(ctx, msg)
	res.Attempts = sent.Attempts
	if err != nil {
		return fail(err)
	}
	at := m.o.Now().UTC().Truncate(time.Second)
	err = m.store.Update(context.WithoutCancel(ctx), k, func(cur *invite.Invitation) (*invite.Invitation, error) {
		if cur == nil {
			return nil, nil // deleted meanwhile: nothing to record
		}
		cur.RecordSent(at)
		return cur, nil
	})
	if err != nil {
		res.Reason = "the server accepted the message, but recording it failed: " + err.Error() + " (a re-run within 24 hours would mail this address again)"
		return fail(err)
	}
	return res
}
