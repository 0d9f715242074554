package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invitecsv"
	"github.com/invitegate/invitegate/internal/tablestore"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError is bad input: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// cli is one invocation: its streams, settings and, once opened, its store.
type cli struct {
	ctx    context.Context
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	now    func() time.Time

	// Store flags, shared by every command.
	connection, serviceURL, table string
	store                         invite.AdminStore
	// openStore opens the store; tests may replace it.
	openStore func(tablestore.Settings) (invite.AdminStore, error)
}

// command is one subcommand. All of them are listed in commands.
type command struct {
	name     string
	summary  string
	usage    string // arguments after the command name
	examples []string
	flags    func(fs *flag.FlagSet, c *cli) // command-specific flags
	run      func(c *cli, fs *flag.FlagSet) error
}

// commandList lists every command, in one place.
func commandList() []command {
	return []command{
		initCommand(),
		addCommand(),
		showCommand(),
		revokeCommand(),
		deleteCommand(),
		importCommand(),
		exportCommand(),
		listCommand(),
		statsCommand(),
		doctorCommand(),
		appCommand(),
		linkCommand(),
		sendCommand(),
	}
}

func lookup(name string) *command {
	for _, cmd := range commandList() {
		if cmd.name == name {
			return &cmd
		}
	}
	return nil
}

// run parses args and runs one command; it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{ctx: ctx, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr, now: time.Now, openStore: openTableStore}
	return c.main(args)
}

func (c *cli) main(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 && lookup(args[1]) != nil {
			c.commandHelp(lookup(args[1]), c.stdout)
			return exitOK
		}
		c.help(c.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd := lookup(args[0])
	if cmd == nil {
		fmt.Fprintf(c.stderr, "invitectl: unknown command %q (run invitectl --help)\n", args[0])
		return exitUsage
	}
	fs := flag.NewFlagSet("invitectl "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.connection, "connection", "", "storage connection string (overrides INVITATIONS_CONNECTION)")
	fs.StringVar(&c.serviceURL, "table-service-url", "", "Table service URL, used with your Entra sign-in (overrides INVITATIONS_TABLE_SERVICE_URL)")
	fs.StringVar(&c.table, "table", "", "table name (overrides INVITATIONS_TABLE)")
	if cmd.flags != nil {
		cmd.flags(fs, c)
	}
	if err := fs.Parse(interleave(fs, args[1:])); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.commandHelp(cmd, c.stdout)
			return exitOK
		}
		fmt.Fprintf(c.stderr, "invitectl %s: %v (run invitectl %s --help)\n", cmd.name, err, cmd.name)
		return exitUsage
	}
	if err := cmd.run(c, fs); err != nil {
		fmt.Fprintf(c.stderr, "invitectl %s: %v\n", cmd.name, err)
		return exitCode(err)
	}
	return exitOK
}

// exitCode maps an error to the exit code, by its type: bad input (bad
// arguments, a bad line of a file, a value too large to store) is a usage
// error; everything else, such as a store failure, is a failure.
func exitCode(err error) int {
	var ue usageError
	var ce *invitecsv.Error
	if errors.As(err, &ue) || errors.As(err, &ce) || errors.Is(err, invite.ErrTooLarge) {
		return exitUsage
	}
	return exitFailure
}

// interleave lets flags follow positional arguments ("add jo@x --app A"),
// as people type them; the flag package stops at the first positional one.
func interleave(fs *flag.FlagSet, args []string) []string {
	var flags, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
				continue
			}
			if i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		}
	}
	return append(flags, append([]string{"--"}, positional...)...)
}

func (c *cli) help(w io.Writer) {
	fmt.Fprint(w, `invitectl manages the invitations of the invite-only Entra External ID gate.

Usage:
  invitectl COMMAND [arguments] [flags]

Commands:
`)
	sorted := commandList()
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, cmd := range sorted {
		fmt.Fprintf(w, "  %-8s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprint(w, `
Store flags (every command):
  --connection STRING        storage connection string (INVITATIONS_CONNECTION);
                             UseDevelopmentStorage=true means a local Azurite
  --table-service-url URL    https://ACCOUNT.table.core.windows.net, used with your
                             Entra sign-in (INVITATIONS_TABLE_SERVICE_URL)
  --table NAME               table name (INVITATIONS_TABLE, default invitations)

Examples:
  invitectl init
  invitectl add jo.bloggs@example.org --expires 30d --prefill givenName=Jo
  invitectl add @partner.example --app 5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f
  invitectl import partners.csv --dry-run && invitectl import partners.csv
  invitectl list --status pending --domain partner.example
  invitectl export backup.csv
  invitectl revoke jo.bloggs@example.org
  invitectl delete --file leavers.txt

CSV files (import, export, list --output csv) have a header row naming the
columns: email (required), app, expires, note, status, created,
redeemed_first, redeemed_last, redemptions, sent, sent_first, sent_last,
prefill.NAME, set.NAME.

Run invitectl COMMAND --help for a command's flags and examples.
Exit codes: 0 ok, 1 failure, 2 usage.
`)
}

func (c *cli) commandHelp(cmd *command, w io.Writer) {
	fmt.Fprintf(w, "invitectl %s — %s\n\nUsage:\n  invitectl %s %s\n", cmd.name, cmd.summary, cmd.name, cmd.usage)
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	var scratch cli
	if cmd.flags != nil {
		cmd.flags(fs, &scratch)
	}
	var lines []string
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		if name != "" {
			name = " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		lines = append(lines, fmt.Sprintf("  --%s%s\n      %s", f.Name, name, usage))
	})
	if len(lines) > 0 {
		fmt.Fprintf(w, "\nFlags:\n%s\n", strings.Join(lines, "\n"))
	}
	fmt.Fprint(w, "\nStore flags: --connection, --table-service-url, --table (see invitectl --help)\n")
	if len(cmd.examples) > 0 {
		fmt.Fprintf(w, "\nExamples:\n  %s\n", strings.Join(cmd.examples, "\n  "))
	}
}

// env is the environment with the store flags over it.
func (c *cli) env(k string) string {
	switch {
	case k == tablestore.EnvServiceURL && c.serviceURL != "":
		return c.serviceURL
	case k == tablestore.EnvConnection && c.serviceURL != "":
		return ""
	case k == tablestore.EnvConnection && c.connection != "":
		return c.connection
	case k == tablestore.EnvServiceURL && c.connection != "":
		return ""
	case k == tablestore.EnvTable && c.table != "":
		return c.table
	}
	return c.getenv(k)
}

// settings returns the store settings: flags override the environment.
func (c *cli) settings() (tablestore.Settings, error) {
	s, err := tablestore.SettingsFromEnv(c.env)
	if err != nil {
		return s, usageError{err.Error()}
	}
	return s, nil
}

// open returns the store, opening it on first use.
func (c *cli) open() (invite.AdminStore, error) {
	if c.store != nil {
		return c.store, nil
	}
	s, err := c.settings()
	if err != nil {
		return nil, err
	}
	c.store, err = c.openStore(s)
	return c.store, err
}

func openTableStore(s tablestore.Settings) (invite.AdminStore, error) {
	// The CLI is not on Entra's clock: retry throttling (429, 503) and
	// blips, with exponential backoff.
	return tablestore.Open(s, tablestore.Options{Retries: 5})
}

// args checks the number of positional arguments.
func args(fs *flag.FlagSet, min, max int, what string) ([]string, error) {
	a := fs.Args()
	if len(a) < min || len(a) > max {
		return nil, usagef("expected %s", what)
	}
	return a, nil
}

// parseKey parses an EMAIL or @DOMAIN and an --app value.
func parseKey(subject, app string) (invite.Key, error) {
	sub, err := invite.ParseSubject(subject)
	if err != nil {
		return invite.Key{}, usageError{err.Error()}
	}
	a, err := invite.ParseApp(app)
	if err != nil {
		return invite.Key{}, usagef("--app: %v", err)
	}
	return invite.Key{Subject: sub, App: a}, nil
}

// Bulk commands write one row per request, concurrently: every invitation
// is its own partition, so Table batch transactions (one partition each)
// cannot group them. Throttling (HTTP 429, 503) is retried with backoff by
// the store client (openTableStore).
const (
	defaultWorkers = 16
	maxWorkers     = 64
)

// workersFlag is the --concurrency value, checked.
func workersFlag(n int) (int, error) {
	if n < 1 || n > maxWorkers {
		return 0, usagef("--concurrency %d: use 1 to %d", n, maxWorkers)
	}
	return n, nil
}
