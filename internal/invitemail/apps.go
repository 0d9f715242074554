package invitemail

import (
	"context"
	"errors"
	"strings"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/signup"
)

// AppRegistry is the registry of the applications messages link to, as
// the invitation store keeps it.
type AppRegistry interface {
	GetApp(ctx context.Context, id string) (invite.App, error)
	PutApp(ctx context.Context, app invite.App) error
}

// Errors of SetApp for a change that cannot be made.
var (
	// ErrAppIncomplete: a new application needs both a name and a
	// sign-up URL.
	ErrAppIncomplete = errors.New("a new application needs a name and a sign-up URL")
	// ErrNoChange: the change names neither a name nor a sign-up URL.
	ErrNoChange = errors.New("nothing to change: give a name, a sign-up URL or both")
)

// BadSignupURLError: the sign-up URL of a change fails signup.CheckURL.
type BadSignupURLError struct{ Err error }

func (e *BadSignupURLError) Error() string { return e.Err.Error() }

func (e *BadSignupURLError) Unwrap() error { return e.Err }

// AppChange registers an application or changes its entry: a name or
// sign-up URL given replaces the registered one; one not given ("", after
// trimming spaces) is kept.
type AppChange struct {
	// ID is the application's appId, or invite.AnyApp, parsed.
	ID string
	// Name is the name messages show ("" keeps it).
	Name string
	// SignupURL is the sign-up page, checked by signup.CheckURL ("" keeps
	// it).
	SignupURL string
}

func (ch AppChange) trimmed() AppChange {
	ch.Name, ch.SignupURL = strings.TrimSpace(ch.Name), strings.TrimSpace(ch.SignupURL)
	return ch
}

// Check checks what the change can be checked for without the registry:
// its sign-up URL (a *BadSignupURLError).
func (ch AppChange) Check() error {
	if ch = ch.trimmed(); ch.SignupURL != "" {
		if err := signup.CheckURL(ch.SignupURL); err != nil {
			return &BadSignupURLError{err}
		}
	}
	return nil
}

// SetApp applies ch to the registry and returns the entry as written.
// A new application needs both a name and a sign-up URL
// (ErrAppIncomplete); a change needs one of them (ErrNoChange).
func SetApp(ctx context.Context, reg AppRegistry, ch AppChange) (invite.App, error) {
	if err := ch.Check(); err != nil {
		return invite.App{}, err
	}
	ch = ch.trimmed()
	app, err := reg.GetApp(ctx, ch.ID)
	switch {
	case errors.Is(err, invite.ErrAppNotFound):
		if ch.Name == "" || ch.SignupURL == "" {
			return invite.App{}, ErrAppIncomplete
		}
		app = invite.App{ID: ch.ID}
	case err != nil:
		return invite.App{}, err
	case ch.Name == "" && ch.SignupURL == "":
		return invite.App{}, ErrNoChange
	}
	if ch.Name != "" {
		app.Name = ch.Name
	}
	if ch.SignupURL != "" {
		app.SignupURL = ch.SignupURL
	}
	if err := reg.PutApp(ctx, app); err != nil {
		return invite.App{}, err
	}
	return app, nil
}
