package invitemail

import (
	"context"
	"errors"
	"fmt"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/mail"
)

// Target is one invitation to mail: its key, the line of the file that
// named it (0 when none), and the invitation when already read (nil: Run
// reads it).
type Target struct {
	Line int
	Key  invite.Key
	Inv  *invite.Invitation
}

// RunOptions configure one Run. The callbacks are called on the caller's
// goroutine, one at a time, and may be nil.
type RunOptions struct {
	// DryRun builds every message and neither sends nor records any.
	DryRun bool
	// Result is called with what became of each target: in the first pass
	// for those that get no message (skipped, failed, not found), in the
	// second for every one sent or tried.
	Result func(Target, Result)
	// Sending is called once between the passes, with the number of
	// messages about to be sent (not in a dry run).
	Sending func(n int)
	// Preview is called in a dry run, after the first pass, with each
	// message that would be sent, in order.
	Preview func(t Target, msg mail.Message, i, n int)
}

// Summary is what a Run did.
type Summary struct {
	// Ready is the number of targets whose message was built in the first
	// pass: those sent, or tried, or that would be in a dry run.
	Ready int
	// Sent, Skipped and Failed count the outcomes reported.
	Sent, Skipped, Failed int
	// Interrupted is set when the context ended while sending.
	Interrupted bool
	// StoppedBy is the failure that stopped the sending because every
	// other message would fail the same way, such as a refused sign-in.
	StoppedBy *mail.Error
	// NotTried is the number of ready messages left when the sending
	// stopped (Interrupted or StoppedBy).
	NotTried int
}

// Stopped reports whether the sending ended before the last message.
func (s Summary) Stopped() bool { return s.Interrupted || s.StoppedBy != nil }

// TargetError is a message of the run that cannot be built for reasons
// that hold for the whole run (Err is a *ConfigError); nothing was sent.
type TargetError struct {
	Target Target
	Err    error
}

func (e *TargetError) Error() string { return e.Err.Error() }

func (e *TargetError) Unwrap() error { return e.Err }

// ErrNoTransport: a Run that is not a dry run needs a Mailer with a
// Transport.
var ErrNoTransport = errors.New("invitemail: sending needs a transport (or a dry run)")

// Run mails targets in two passes. The first reads and judges every
// invitation and builds its message without sending, so that a template
// that does not render, or an application without a sign-up page, stops
// the run before the first message (a *TargetError). The second sends,
// one at a time at the transport's rate, and records each message the
// server accepted; a failure that affects every message, such as a
// refused sign-in, stops it (Summary.StoppedBy), and so does the end of
// ctx. A dry run ends after the first pass, with Preview.
//
// An error means nothing was sent: the context ended or the store failed
// during the first pass, or a message cannot be built. Failures of single
// messages are results, not errors.
func (m *Mailer) Run(ctx context.Context, targets []Target, o RunOptions) (Summary, error) {
	var sum Summary
	if !o.DryRun && m.transport == nil {
		return sum, ErrNoTransport
	}
	report := func(t Target, r Result) {
		switch r.Outcome {
		case Sent:
			sum.Sent++
		case Skipped:
			sum.Skipped++
		default:
			sum.Failed++
		}
		if o.Result != nil {
			o.Result(t, r)
		}
	}

	// First pass: judge and build every message; send nothing.
	var ready []Target
	for _, t := range targets {
		if ctx.Err() != nil {
			return sum, errors.New("interrupted before anything was sent")
		}
		if t.Inv == nil {
			inv, err := m.store.Get(ctx, t.Key)
			if errors.Is(err, invite.ErrNotFound) {
				report(t, Result{Key: t.Key, Verdict: Verdict{Outcome: Failed, Reason: "no such invitation"}, Err: err})
				continue
			} else if err != nil {
				return sum, fmt.Errorf("nothing was sent: %w", err)
			}
			t.Inv = &inv
		}
		if v := m.Judge(*t.Inv); v.Outcome != Sent {
			r := Result{Key: t.Key, Verdict: v}
			if v.Outcome == Failed {
				r.Err = errors.New(v.Reason)
			}
			report(t, r)
			continue
		}
		if _, err := m.Build(ctx, *t.Inv); err != nil {
			var ce *ConfigError
			if errors.As(err, &ce) {
				return sum, &TargetError{Target: t, Err: err}
			}
			return sum, fmt.Errorf("nothing was sent: %w", err)
		}
		ready = append(ready, t)
	}
	sum.Ready = len(ready)

	if o.DryRun {
		// The messages are built again rather than kept from the first
		// pass, so that a large run never holds them all.
		for i, t := range ready {
			msg, err := m.Build(ctx, *t.Inv)
			if err != nil {
				return sum, fmt.Errorf("nothing was sent: %w", err)
			}
			if o.Preview != nil {
				o.Preview(t, msg, i, len(ready))
			}
		}
		return sum, nil
	}

	// Second pass: send, one at a time. Send reads each invitation again:
	// another run may have mailed it since the first pass.
	if o.Sending != nil {
		o.Sending(len(ready))
	}
	for i, t := range ready {
		r := m.Send(ctx, t.Key)
		report(t, r)
		if ctx.Err() != nil {
			sum.Interrupted, sum.NotTried = true, len(ready)-i-1
			break
		}
		var me *mail.Error
		if errors.As(r.Err, &me) && me.AffectsAll() {
			sum.StoppedBy, sum.NotTried = me, len(ready)-i-1
			break
		}
	}
	return sum, nil
}
