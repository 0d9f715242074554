package mail

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"regexp"
	"strings"
)

// Stage is the step of the SMTP conversation where sending failed.
type Stage string

// Stages, in the order of a conversation.
const (
	StageConnect   Stage = "connect"   // reaching the server, its greeting, EHLO
	StageTLS       Stage = "tls"       // STARTTLS or the TLS handshake
	StageLogin     Stage = "login"     // AUTH
	StageSender    Stage = "sender"    // MAIL FROM
	StageRecipient Stage = "recipient" // RCPT TO
	StageMessage   Stage = "message"   // DATA and the message itself
)

// Error is a failure to send. Its text never holds a recipient's address:
// addresses in the server's reply are replaced by [address].
type Error struct {
	Stage Stage
	// Code is the server's SMTP reply code (0 when it did not reply, as
	// with a network or TLS failure).
	Code int
	// Enhanced is the enhanced status code, such as 5.1.1, when the server
	// sent one.
	Enhanced string
	// Temporary is set for failures that may pass when tried again: 4xx
	// replies and broken connections. 5xx replies are permanent.
	Temporary bool
	// Reply is the server's reply text, or what went wrong, addresses
	// redacted.
	Reply string
	cause error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(stageText[e.Stage])
	b.WriteString(": ")
	if e.Code != 0 {
		fmt.Fprintf(&b, "%d ", e.Code)
	}
	b.WriteString(e.Reply)
	if e.Temporary {
		b.WriteString(" (temporary)")
	} else {
		b.WriteString(" (permanent)")
	}
	return b.String()
}

// Unwrap returns the cause when it carries no reply text: a network,
// TLS or context error.
func (e *Error) Unwrap() error { return e.cause }

// AffectsAll reports whether the failure concerns the server or the
// sender, not one recipient or message: every other message would fail
// the same way.
func (e *Error) AffectsAll() bool {
	switch e.Stage {
	case StageConnect, StageTLS, StageLogin, StageSender:
		return true
	}
	return false
}

var stageText = map[Stage]string{
	StageConnect:   "connecting to the SMTP server",
	StageTLS:       "securing the connection",
	StageLogin:     "signing in to the SMTP server",
	StageSender:    "the server refused the sender",
	StageRecipient: "the server refused the recipient",
	StageMessage:   "the server refused the message",
}

var addressLike = regexp.MustCompile(`[^\s<>()\[\]"',;:]*@[^\s<>()\[\]"',;:]+`)

// redact replaces everything that looks like an email address in s.
func redact(s string) string {
	return addressLike.ReplaceAllString(strings.TrimSpace(s), "[address]")
}

// classify turns an error of one stage into an *Error: SMTP replies by
// their code, anything else (the network, TLS, a dropped connection) as
// temporary unless permanent is set.
func classify(stage Stage, err error, permanent bool) *Error {
	if err == nil {
		return nil
	}
	var me *Error
	if errors.As(err, &me) {
		return me
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		e := &Error{Stage: stage, Code: te.Code, Temporary: te.Code >= 400 && te.Code < 500, Reply: redact(te.Msg)}
		if m := enhancedCode.FindString(te.Msg); m != "" && m[0] == byte('0'+te.Code/100) {
			e.Enhanced = m
		}
		return e
	}
	e := &Error{Stage: stage, Temporary: !permanent, Reply: redact(err.Error()), cause: err}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		e.Reply = "interrupted"
	}
	return e
}

var enhancedCode = regexp.MustCompile(`\b[245]\.\d{1,3}\.\d{1,3}\b`)
