package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invitemail"
	"github.com/invitegate/invitegate/internal/signup"
)

// appStore is the registry of applications that invitation messages link
// to; the Table store and the memory store keep one.
type appStore interface {
	PutApp(ctx context.Context, app invite.App) error
	GetApp(ctx context.Context, id string) (invite.App, error)
	DeleteApp(ctx context.Context, id string) error
	ListApps(ctx context.Context, fn func(invite.App) error) error
}

// apps returns the store's registry of applications.
func (c *cli) apps() (appStore, error) {
	s, err := c.open()
	if err != nil {
		return nil, err
	}
	a, ok := s.(appStore)
	if !ok {
		return nil, fmt.Errorf("this store keeps no registry of applications")
	}
	return a, nil
}

func appCommand() command {
	var name, signupURL string
	return command{
		name:    "app",
		summary: "register the applications invitation messages link to (set, list, remove)",
		usage:   "set APPID|'*' --name NAME --signup-url URL\n  invitectl app list\n  invitectl app remove APPID|'*'",
		examples: []string{
			"invitectl app set 5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f --name 'Contoso Portal' --signup-url 'https://portal.contoso.com/signup?login_hint={email}'",
			"invitectl app set '*' --name Contoso --signup-url 'https://contoso.com/join?login_hint={email}'   (invitations for any application; INVITE_SIGNUP_URL is its default)",
			"invitectl app list",
			"invitectl app remove 5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f",
		},
		flags: func(fs *flag.FlagSet, c *cli) {
			fs.StringVar(&name, "name", "", "with set: the application's `NAME` as people know it, shown in messages")
			fs.StringVar(&signupURL, "signup-url", "", "with set: its sign-up page, https, with {email} where the invited address goes (`URL`)")
		},
		run: func(c *cli, fs *flag.FlagSet) error {
			a := fs.Args()
			if len(a) == 0 {
				return usagef("expected set, list or remove")
			}
			switch a[0] {
			case "set":
				if len(a) != 2 {
					return usagef("expected app set APPID|'*' --name NAME --signup-url URL")
				}
				return appSet(c, a[1], name, signupURL)
			case "list":
				if len(a) != 1 || name != "" || signupURL != "" {
					return usagef("app list takes no arguments")
				}
				return appList(c)
			case "remove":
				if len(a) != 2 || name != "" || signupURL != "" {
					return usagef("expected app remove APPID|'*'")
				}
				return appRemove(c, a[1])
			}
			return usagef("unknown app command %q: use set, list or remove", a[0])
		},
	}
}

func appSet(c *cli, rawID, name, signupURL string) error {
	id, err := invite.ParseApp(rawID)
	if err != nil {
		return usageError{err.Error()}
	}
	change := invitemail.AppChange{ID: id, Name: name, SignupURL: signupURL}
	if err := change.Check(); err != nil {
		return usagef("--signup-url: %v", err)
	}
	reg, err := c.apps()
	if err != nil {
		return err
	}
	app, err := invitemail.SetApp(c.ctx, reg, change)
	switch {
	case errors.Is(err, invitemail.ErrAppIncomplete):
		return usagef("a new application needs --name and --signup-url")
	case errors.Is(err, invitemail.ErrNoChange):
		return usagef("nothing to change: give --name, --signup-url or both")
	case err != nil:
		return err
	}
	fmt.Fprintf(c.stdout, "registered %s: %s, sign-up page %s\n", appLabel(id), printable(app.Name), printable(app.SignupURL))
	return nil
}

func appLabel(id string) string {
	if id == invite.AnyApp {
		return "* (any application)"
	}
	return id
}

func appList(c *cli) error {
	reg, err := c.apps()
	if err != nil {
		return err
	}
	const format = "%-36s  %-24s  %s\n"
	fmt.Fprintf(c.stdout, format, "APP", "NAME", "SIGN-UP URL")
	n, hasAny := 0, false
	err = reg.ListApps(c.ctx, func(a invite.App) error {
		n++
		hasAny = hasAny || a.ID == invite.AnyApp
		_, err := fmt.Fprintf(c.stdout, format, a.ID, oneLine(a.Name, 24), printable(a.SignupURL))
		return err
	})
	if err != nil {
		return err
	}
	if def := strings.TrimSpace(c.getenv(signup.EnvDefaultURL)); !hasAny && def != "" {
		n++
		fmt.Fprintf(c.stdout, format, "*", "(from "+signup.EnvDefaultURL+")", printable(def))
	}
	fmt.Fprintf(c.stdout, "(%s)\n", plural(n, "application", "applications"))
	return nil
}

func appRemove(c *cli, rawID string) error {
	id, err := invite.ParseApp(rawID)
	if err != nil {
		return usageError{err.Error()}
	}
	reg, err := c.apps()
	if err != nil {
		return err
	}
	if err := reg.DeleteApp(c.ctx, id); err != nil {
		if errors.Is(err, invite.ErrAppNotFound) {
			return fmt.Errorf("%s is not registered (invitectl app list shows what is)", appLabel(id))
		}
		return err
	}
	fmt.Fprintf(c.stdout, "removed %s; its invitations stay, but messages cannot be sent for them until it is registered again\n", appLabel(id))
	return nil
}
