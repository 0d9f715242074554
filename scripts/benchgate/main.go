// Command benchgate measures the gate the way production runs it: the real
// handler binary as a process, bearer tokens checked against a tenant's
// published keys, and invitations in the Table service (Azurite). It
// prints Markdown tables: the floor (a direct GetEntity and an empty round
// trip) against the gate's latency per kind of sign-up, open-loop load at
// fixed rates, the highest rate that keeps p99 under 50 ms, cold start,
// peak memory and binary size.
//
// scripts/bench.sh installs and starts Azurite, builds the stripped
// handler and runs this; see docs/performance.md. Every connection it
// makes is to 127.0.0.1, and every load loop is bounded in count and time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config is what the flags set.
type config struct {
	handler     string
	connection  string
	azuritePid  int
	azuriteVer  string
	invitations int
	sequential  int
	duration    time.Duration
	step        time.Duration
	maxRate     float64
	steps       string
	coldStarts  int
	cpuProfile  string
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchgate:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchgate:", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line into a config, with a flag set of its
// own.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("benchgate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.handler, "handler", "", "the handler binary to measure (required)")
	fs.StringVar(&c.connection, "connection", "", "connection string of the Azurite to use (required)")
	fs.IntVar(&c.azuritePid, "azurite-pid", 0, "Azurite's process id, to report its CPU use")
	fs.StringVar(&c.azuriteVer, "azurite-version", "", "Azurite's version, for the report")
	fs.IntVar(&c.invitations, "invitations", 1000, "address invitations to seed")
	fs.IntVar(&c.sequential, "sequential", 1000, "requests per row of the one-at-a-time table")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "length of each fixed-rate run (50/s and 500/s)")
	fs.DurationVar(&c.step, "step", 5*time.Second, "length of each step of the step-up run")
	fs.Float64Var(&c.maxRate, "max-rate", 3000, "highest rate the step-up run tries, requests per second")
	fs.StringVar(&c.steps, "steps", "600,700,800,900,1000,1200,1500,2000,2500,3000", "rates of the step-up run, requests per second; it stops at the first that is not sustained")
	fs.IntVar(&c.coldStarts, "cold-starts", 5, "cold starts to time")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write this harness's own CPU profile here (the load generator)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q: every setting is a flag", fs.Args())
	}
	if c.handler == "" || c.connection == "" {
		return c, errors.New("usage: benchgate -handler PATH -connection CONNECTION-STRING [flags]; run scripts/bench.sh, which sets them")
	}
	if c.invitations < 1 {
		return c, fmt.Errorf("-invitations %d: seed at least one", c.invitations)
	}
	return c, nil
}

// run measures the gate with a harness and prints the report on out.
func run(ctx context.Context, cfg config, out io.Writer) error {
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	rep, h, err := measure(ctx, cfg)
	if err != nil {
		return err
	}
	rep.print(out, h)
	return ctx.Err()
}

func parseRates(list string) ([]float64, error) {
	var rates []float64
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		r, err := strconv.ParseFloat(f, 64)
		if err != nil || r <= 0 {
			return nil, fmt.Errorf("-steps: %q is not a rate", f)
		}
		rates = append(rates, r)
	}
	return rates, nil
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchgate: "+format+"\n", args...)
}

// pause lets Azurite and the handler settle between runs.
func pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
	}
}
