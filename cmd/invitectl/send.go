package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invitecsv"
	"github.com/invitegate/invitegate/internal/invitemail"
	"github.com/invitegate/invitegate/internal/logsafe"
	"github.com/invitegate/invitegate/internal/mail"
	"github.com/invitegate/invitegate/internal/signup"
)

// sendFlags are the flags of send; add --send and import --send use the
// defaults with their own few.
type sendFlags struct {
	app, file, status, olderThan, rate, templates, message string
	notSent, force, dryRun, verbose                        bool
}

func sendCommand() command {
	var f sendFlags
	return command{
		name:    "send",
		summary: "email invited people their sign-up link; remind those who have not signed up",
		usage: "EMAIL... [--app APPID]\n  invitectl send --file FILE|-\n" +
			"  invitectl send --status pending [--not-sent] [--older-than 7d]\n" +
			"  (all: [--dry-run] [--force] [--rate 30/m] [--templates DIR] [--message TEXT] [--verbose])",
		examples: []string{
			"invitectl send jo.bloggs@example.org --dry-run",
			"invitectl send jo.bloggs@example.org --message 'Welcome to the partner pilot!'",
			"invitectl send --file partners.csv",
			"invitectl send --status pending --not-sent                 (everyone not mailed yet)",
			"invitectl send --status pending --older-than 7d            (a weekly reminder)",
		},
		flags: func(fs *flag.FlagSet, c *cli) {
			fs.StringVar(&f.app, "app", "", "with EMAIL: the `APPID` of the invitation (default: the any-application invitation)")
			fs.StringVar(&f.file, "file", "", "send to every invitation `FILE` names: one EMAIL per line, or CSV with an email column (and optionally app), such as an import file; - for standard input")
			fs.StringVar(&f.status, "status", "", "send to every invitation in this `STATE`: pending (not signed up, not expired) or redeemed")
			fs.BoolVar(&f.notSent, "not-sent", false, "with --status: only invitations never mailed")
			fs.StringVar(&f.olderThan, "older-than", "", "with --status: only invitations not mailed (or, never mailed, created) within this `AGE`, such as 7d")
			fs.BoolVar(&f.force, "force", false, "send even to invitations mailed within the last 24 hours")
			fs.BoolVar(&f.dryRun, "dry-run", false, "print each message (headers, text and HTML); send and write nothing")
			fs.StringVar(&f.rate, "rate", mail.DefaultRate.String(), "at most this many messages per second, minute or hour (`N/s|N/m|N/h`); the default suits Azure Communication Services Email's initial limits")
			fs.StringVar(&f.templates, "templates", "", "a folder whose subject.tmpl, text.tmpl and html.tmpl replace the built-in templates (`DIR`; INVITE_MAIL_TEMPLATES)")
			fs.StringVar(&f.message, "message", "", "a personal note to the recipients, shown in the message (`TEXT`)")
			fs.BoolVar(&f.verbose, "verbose", false, "list every message sent, not only what was skipped or failed")
		},
		run: func(c *cli, fs *flag.FlagSet) error {
			targets, err := f.targets(c, fs)
			if err != nil {
				return err
			}
			return runSend(c, targets, f)
		},
	}
}

// targets reads which invitations to mail from the arguments, a file, or
// a selection from the store.
func (f sendFlags) targets(c *cli, fs *flag.FlagSet) ([]invitemail.Target, error) {
	selecting := f.status != "" || f.notSent || f.olderThan != ""
	modes := 0
	for _, on := range []bool{len(fs.Args()) > 0, f.file != "", selecting} {
		if on {
			modes++
		}
	}
	if modes != 1 {
		return nil, usagef("give EMAIL..., --file FILE or --status STATE (one of them)")
	}
	if f.app != "" && selecting {
		return nil, usagef("--app goes with EMAIL or --file, not --status")
	}
	switch {
	case f.file != "":
		return fileTargets(c, f.file, f.app)
	case selecting:
		return f.selectTargets(c)
	}
	var out []invitemail.Target
	seen := map[invite.Key]bool{}
	for _, a := range fs.Args() {
		k, err := parseKey(a, f.app)
		if err != nil {
			return nil, err
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, invitemail.Target{Key: k})
		}
	}
	return out, nil
}

// fileTargets reads the invitations a file names, checking every line
// first.
func fileTargets(c *cli, file, app string) ([]invitemail.Target, error) {
	if app != "" {
		if _, err := invite.ParseApp(app); err != nil {
			return nil, usagef("--app: %v", err)
		}
	}
	in, err := c.openInput(file)
	if err != nil {
		return nil, err
	}
	defer in.close()
	keys, problems, err := invitecsv.ReadKeys(in, app)
	for _, p := range problems {
		fmt.Fprintln(c.stderr, p)
	}
	if err != nil {
		return nil, err
	}
	if n := len(problems); n > 0 {
		return nil, usagef("%s invalid; nothing was sent: fix %s and run again", plural(n, "line is", "lines are"), pronoun(n))
	}
	out := make([]invitemail.Target, len(keys))
	for i, kl := range keys {
		out[i] = invitemail.Target{Line: kl.Line, Key: kl.Key}
	}
	return out, nil
}

// selectTargets lists the invitations the selection flags pick.
func (f sendFlags) selectTargets(c *cli) ([]invitemail.Target, error) {
	sel := invitemail.Selection{NotSent: f.notSent}
	switch st := strings.ToLower(strings.TrimSpace(f.status)); st {
	case "pending", "redeemed":
		sel.Status = invite.Status(st)
	case "":
		return nil, usagef("--not-sent and --older-than go with --status pending (or redeemed)")
	default:
		return nil, usagef("--status %q: send to pending or redeemed invitations", f.status)
	}
	if f.olderThan != "" {
		d, err := invite.ParseAge(f.olderThan)
		if err != nil {
			return nil, usagef("--older-than: %v", err)
		}
		sel.OlderThan = d
	}
	s, err := c.open()
	if err != nil {
		return nil, err
	}
	return invitemail.Select(c.ctx, s, sel, c.now())
}

// mailSetup is what sending needs, read from the flags and the settings.
type mailSetup struct {
	cfg    mail.Config
	mailer *invitemail.Mailer
	sender *mail.Sender // nil in a dry run
}

// setupMail reads the mail settings and templates and opens the store; in
// a dry run no SMTP server is needed.
func setupMail(c *cli, f sendFlags) (*mailSetup, error) {
	cfg, err := mail.ConfigFromEnv(c.getenv)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	if f.templates != "" {
		cfg.Templates = f.templates
	}
	if !f.dryRun {
		if err := cfg.CheckSend(); err != nil {
			return nil, usageError{err.Error() + " (or preview with --dry-run)"}
		}
	}
	from := cfg.From
	if from == "" {
		from = "(" + mail.EnvFrom + " is not set)"
	}
	rate, err := mail.ParseRate(f.rate)
	if err != nil {
		return nil, usagef("--rate: %v", err)
	}
	tmpl, err := mail.LoadTemplates(cfg.Templates)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	links, err := signup.ConfigFromEnv(c.getenv)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	s, err := c.open()
	if err != nil {
		return nil, err
	}
	reg, err := c.apps()
	if err != nil {
		return nil, err
	}
	ms := &mailSetup{cfg: cfg}
	var transport invitemail.Transport
	if !f.dryRun {
		ms.sender = mail.NewSender(cfg, mail.SenderOptions{Rate: rate})
		transport = ms.sender
	}
	ms.mailer = invitemail.New(s, transport, invitemail.Options{
		From: from, Templates: tmpl, Links: signup.NewLinks(reg, links), Message: strings.TrimSpace(f.message),
		Force: f.force, Now: c.now,
	})
	return ms, nil
}

// masked names an invitation in output: the address masked as the gate
// masks it in its logs, and the application.
func masked(k invite.Key, appName string) string {
	s := logsafe.MaskEmail(k.Subject)
	if k.IsDomain() {
		s = k.Subject
	}
	switch {
	case appName != "":
		s += " (" + appName + ")"
	case k.App != invite.AnyApp && k.App != "":
		s += " (app " + k.App + ")"
	}
	return printable(s)
}

func lineText(line int) string {
	if line == 0 {
		return ""
	}
	return fmt.Sprintf("line %d: ", line)
}

// runSend mails targets (invitemail.Mailer.Run) and prints each result,
// the dry run's messages, the progress of the sending and the summary.
func runSend(c *cli, targets []invitemail.Target, f sendFlags) error {
	ms, err := setupMail(c, f)
	if err != nil {
		return err
	}
	if ms.sender != nil {
		defer ms.sender.Close()
	}
	var (
		failures []string
		prog     *progress // while sending: lines go around its progress line
		start    time.Time
	)
	sum, err := ms.mailer.Run(c.ctx, targets, invitemail.RunOptions{
		DryRun: f.dryRun,
		Result: func(t invitemail.Target, r invitemail.Result) {
			if prog != nil {
				prog.add(1)
			}
			line := fmt.Sprintf("%-7s %s%s", r.Outcome, lineText(t.Line), masked(t.Key, r.App))
			if r.Reason != "" {
				line += ": " + r.Reason
			}
			if r.Outcome == invitemail.Failed {
				failures = append(failures, line)
			}
			switch {
			case r.Outcome == invitemail.Sent && !f.verbose:
			case prog != nil:
				prog.printf(c.stdout, "%s\n", line)
			default:
				fmt.Fprintln(c.stdout, line)
			}
		},
		Preview: func(_ invitemail.Target, msg mail.Message, i, n int) {
			if i > 0 {
				fmt.Fprintln(c.stdout)
			}
			fmt.Fprintf(c.stdout, "==== %d/%d %s\n", i+1, n, strings.Repeat("=", 40))
			msg.Preview(c.stdout)
		},
		Sending: func(n int) {
			start = time.Now()
			prog = c.startProgress("sending", n)
		},
	})
	if prog != nil {
		prog.stop()
	}
	var te *invitemail.TargetError
	switch {
	case errors.As(err, &te):
		return usagef("%s%s: %v; nothing was sent", lineText(te.Target.Line), masked(te.Target.Key, ""), te.Err)
	case err != nil:
		return err
	}

	if f.dryRun {
		fmt.Fprintf(c.stdout, "dry run: %s would be sent, %d skipped, %d failed; nothing was sent or written\n",
			plural(sum.Ready, "message", "messages"), sum.Skipped, sum.Failed)
		if sum.Failed > 0 {
			return fmt.Errorf("%s cannot be sent", plural(sum.Failed, "invitation", "invitations"))
		}
		return nil
	}
	took := time.Since(start)
	summary := fmt.Sprintf("%d sent, %d skipped, %d failed", sum.Sent, sum.Skipped, sum.Failed)
	if sum.Sent > 0 {
		summary += fmt.Sprintf(" in %v (%.1f messages/s)", took.Round(10*time.Millisecond), float64(sum.Sent)/took.Seconds())
	}
	fmt.Fprintln(c.stdout, summary)
	notTried := plural(sum.NotTried, "invitation", "invitations")
	switch {
	case sum.Interrupted:
		fmt.Fprintf(c.stdout, "interrupted with %s not tried\n", notTried)
	case sum.StoppedBy != nil:
		fmt.Fprintf(c.stdout, "stopped: no message can be sent (%v); %s not tried\n", sum.StoppedBy, notTried)
	}
	if len(failures) > 0 || sum.Stopped() {
		if len(failures) > 0 {
			fmt.Fprintf(c.stdout, "not sent and not marked sent:\n  %s\n", strings.Join(failures, "\n  "))
		}
		fmt.Fprintln(c.stdout, "fix the cause and run the same command again: invitations mailed in the last 24 hours are skipped")
		return errors.New("some invitations were not sent")
	}
	return nil
}

// sendAfter mails the invitations targets name after add or import
// --send: the defaults of send, with the administrator's note; import
// mails only the invitations never mailed before (invitemail.NeverMailed).
func sendAfter(c *cli, targets []invitemail.Target, message string, onlyNew bool) error {
	f := sendFlags{rate: mail.DefaultRate.String(), message: message}
	if !onlyNew {
		return runSend(c, targets, f)
	}
	s, err := c.open()
	if err != nil {
		return err
	}
	fresh, err := invitemail.NeverMailed(c.ctx, s, targets, c.now())
	if err != nil {
		return err
	}
	if left := len(targets) - len(fresh); left > 0 {
		fmt.Fprintf(c.stdout, "--send: %s already mailed, revoked, expired or for a whole domain: not mailed (invitectl send --file sends to them)\n", plural(left, "invitation", "invitations"))
	}
	if len(fresh) == 0 {
		return nil
	}
	return runSend(c, fresh, f)
}
