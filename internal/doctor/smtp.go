package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/invitegate/invitegate/internal/mail"
	"github.com/invitegate/invitegate/internal/signup"
)

// RunSMTP checks what invitectl send needs, and writes one line per check
// as Run does: the mail settings, the templates, and the SMTP server
// itself (it connects, upgrades to TLS and signs in, then says goodbye
// without sending). Without INVITE_SMTP_URL it only says that sending is
// not set up: the gate does not need it.
func RunSMTP(ctx context.Context, o Options, w io.Writer) []Result {
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	var results []Result
	report := func(r Result) {
		results = append(results, r)
		r.write(w)
	}
	cfg, err := mail.ConfigFromEnv(o.Getenv)
	if err != nil {
		report(Result{Name: "mail settings", Status: Fail, Detail: err.Error(), Fix: "set " + mail.EnvURL + " and " + mail.EnvFrom + " as the message says"})
		return results
	}
	if cfg.Host == "" {
		report(Result{Name: "mail settings", Status: Skip, Detail: mail.EnvURL + " is not set: invitectl send cannot mail invitations (the gate does not need it)"})
		return results
	}
	if err := cfg.CheckSend(); err != nil {
		report(Result{Name: "mail settings", Status: Fail, Detail: err.Error(), Fix: "set " + mail.EnvFrom + " to an address the mail service lets you send from"})
	} else if _, err := signup.ConfigFromEnv(o.Getenv); err != nil {
		report(Result{Name: "mail settings", Status: Fail, Detail: err.Error(), Fix: "set " + signup.EnvDefaultURL + " to an https sign-up page with {email}"})
	} else {
		report(Result{Name: "mail settings", Status: Pass, Detail: "from " + cfg.From + " through " + cfg.Where()})
	}
	if _, err := mail.LoadTemplates(cfg.Templates); err != nil {
		report(Result{Name: "mail templates", Status: Fail, Detail: err.Error(), Fix: "fix the template folder (" + mail.EnvTemplates + "), or unset it for the built-in templates"})
	} else if cfg.Templates != "" {
		report(Result{Name: "mail templates", Status: Pass, Detail: "templates from " + cfg.Templates})
	}

	cctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	cfg.Timeout = o.Timeout
	rep, err := mail.Check(cctx, cfg)
	if err != nil {
		report(Result{Name: "smtp server", Status: Fail, Detail: err.Error(), Fix: smtpFix(err)})
		return results
	}
	detail := cfg.Addr() + " answered"
	if rep.TLS != "" {
		detail += ", " + rep.TLS
	} else {
		detail += ", without TLS (loopback)"
	}
	if rep.Auth != "" {
		detail += fmt.Sprintf(", signed in as %s with %s", cfg.Username, rep.Auth)
	}
	report(Result{Name: "smtp server", Status: Pass, Detail: detail + "; nothing was sent"})
	return results
}

func smtpFix(err error) string {
	var me *mail.Error
	if !errors.As(err, &me) {
		return ""
	}
	switch me.Stage {
	case mail.StageConnect:
		return "check the host and port in " + mail.EnvURL + ", and that outbound traffic to that port is allowed"
	case mail.StageTLS:
		return "the server must offer STARTTLS on that port with a certificate for its name (or use smtps:// for TLS from the first byte)"
	case mail.StageLogin:
		return "check the user name and password in " + mail.EnvURL + " (percent-encode reserved characters); for Azure Communication Services: the SMTP username, or <resource>.<Entra app id>.<tenant id>, and a client secret of that app"
	}
	return ""
}
