package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/invitegate/invitegate/internal/bench"
)

// The report: what the harness measured, as Markdown tables.

// row is one line of a table.
type row struct {
	name                          string
	rate                          float64
	sent                          int
	s                             bench.Summary
	start, submit                 bench.Summary // of a mix: the starts, and the invited submits
	step                          bool
	gateCPU, azuriteCPU, benchCPU float64
	otherCPU                      float64 // everything else on the machine
	rss, hwm                      int64   // the handler's, after the run
	fds                           int64   // the most files the handler held open during the run
	samples                       []string
}

// Sustained: p99 under 50 ms and at most 0.1% failed.
func (r row) sustained() bool {
	return r.s.N > 0 && r.s.P99 < 50*time.Millisecond && float64(r.s.Failed) <= 0.001*float64(r.sent)
}

type report struct {
	floor                   []row
	fixed                   []row
	storeAlone, emptyAlone  row
	storeWork, emptyAlone50 row
	storeAlone50            row
	steps                   []row
	coldReady, coldDecision []time.Duration
	peakRSS, binary         int64
	rowsAfterFloor          int // rows in the table: Azurite scans them all for every query
	rowsAtEnd               int
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func (rep *report) print(w io.Writer, h *harness) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("## invitegate benchmark, %s", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	p("")
	p("- machine: %d CPUs (nproc), %s, %s/%s, %s", runtime.NumCPU(), cpuModel(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	azv := h.cfg.azuriteVer
	if azv == "" {
		azv = "version unknown"
	}
	p("- store: Azurite %s Table service, in memory, on this machine; %d address invitations + 1 domain invitation", azv, h.cfg.invitations)
	p("- gate: the stripped handler binary, ENTRA_AUTH=jwt against a local discovery/JWKS server, %d distinct tokens, JSON log at info to a pipe", len(h.tokens))
	p("- load generator, handler and Azurite share the same %d CPUs", runtime.NumCPU())
	p("")
	p("### One request at a time (%d each, interleaved)", h.cfg.sequential)
	p("")
	p("The table held %d rows after these (%d at the end of the benchmark): invitations, and the per-address records", rep.rowsAfterFloor, rep.rowsAtEnd)
	p("of sign-ups through the domain invitation. Azurite answers every query by scanning all of them.")
	p("")
	p("| request | p50 ms | p95 ms | p99 ms | max ms | failed |")
	p("|---|---:|---:|---:|---:|---:|")
	for _, r := range rep.floor {
		p("| %s | %s | %s | %s | %s | %d |", r.name, bench.Ms(r.s.P50), bench.Ms(r.s.P95), bench.Ms(r.s.P99), bench.Ms(r.s.Max), r.s.Failed)
	}
	p("")
	if len(rep.floor) >= 6 {
		floor := rep.floor[0].s.P50 + rep.floor[2].s.P50
		p("Gate overhead: gate p50 ÷ (GetEntity p50 + empty round trip p50 = %s ms); target ≤ 1.5×", bench.Ms(floor))
		p("")
		queryFloor := rep.floor[1].s.P50 + rep.floor[2].s.P50
		p("| sign-up (start) | gate p50 ms | ratio | target | ratio to the query Match sends + empty round trip (%s ms) |", bench.Ms(queryFloor))
		p("|---|---:|---:|---|---:|")
		for _, r := range rep.floor[3:6] {
			ratio := float64(r.s.P50) / float64(floor)
			p("| %s | %s | %.2f× | %s | %.2f× |", strings.TrimPrefix(r.name, "gate start, "), bench.Ms(r.s.P50), ratio, verdict(ratio <= 1.5),
				float64(r.s.P50)/float64(queryFloor))
		}
		p("")
	}
	p("### Open loop: fixed arrival rate, 70%% start / 30%% submit, 80%% invited")
	p("")
	p("| run | rate/s | sent | answered/s | p50 ms | p95 ms | p99 ms | max ms | failed | send lag p99 ms | CPU: handler | Azurite | load gen | other | handler RSS, peak MB | handler open files, max |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	line := func(name string, r row) {
		p("| %s | %.0f | %d | %.0f | %s | %s | %s | %s | %d | %s | %.0f%% | %.0f%% | %.0f%% | %.0f%% | %.1f, %.1f | %d |", name, r.rate, r.sent, r.s.Rate,
			bench.Ms(r.s.P50), bench.Ms(r.s.P95), bench.Ms(r.s.P99), bench.Ms(r.s.Max), r.s.Failed, bench.Ms(r.s.LagP99),
			r.gateCPU, r.azuriteCPU, r.benchCPU, r.otherCPU, float64(r.rss)/1e6, float64(r.hwm)/1e6, r.fds)
	}
	for _, r := range rep.fixed {
		line(fmt.Sprintf("gate, %v", h.cfg.duration), r)
	}
	line(fmt.Sprintf("floor: Match's query straight to Azurite, %v", h.cfg.duration), rep.storeAlone50)
	line(fmt.Sprintf("floor: GET / on the handler, %v", h.cfg.duration), rep.emptyAlone50)
	line(fmt.Sprintf("floor: Match's query straight to Azurite, %v", h.cfg.duration), rep.storeAlone)
	line(fmt.Sprintf("floor: the mix's store work (tablestore Match + Redeem, no HTTP), %v", h.cfg.duration), rep.storeWork)
	line(fmt.Sprintf("floor: GET / on the handler, %v", h.cfg.duration), rep.emptyAlone)
	for _, r := range rep.steps {
		name := fmt.Sprintf("step, %v", h.cfg.step)
		if !r.sustained() {
			name += " (not sustained)"
		}
		line(name, r)
	}
	// The highest rate that held, below the first that did not.
	best := 0.0
	for _, r := range append(append([]row{}, rep.fixed...), rep.steps...) {
		if !r.sustained() {
			break
		}
		best = max(best, r.rate)
	}
	p("")
	p("The same runs split by kind: every start, and the submits of invited people (each also records the redemption,")
	p("so it makes three calls to the store where a start makes one).")
	p("")
	p("| run | rate/s | start p50 ms | start p95 ms | start p99 ms | invited submit p50 ms | p95 ms | p99 ms |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|")
	storeWork := rep.storeWork
	storeWork.name = "floor: the mix's store work, no HTTP"
	for _, r := range append(append([]row{storeWork}, rep.fixed...), rep.steps...) {
		name := r.name
		if name == "" {
			name = map[bool]string{true: "step", false: "gate"}[r.step]
		}
		p("| %s | %.0f | %s | %s | %s | %s | %s | %s |", name, r.rate,
			bench.Ms(r.start.P50), bench.Ms(r.start.P95), bench.Ms(r.start.P99), bench.Ms(r.submit.P50), bench.Ms(r.submit.P95), bench.Ms(r.submit.P99))
	}
	p("")
	p("Latency runs from when a request is sent to when its answer is read; requests are sent on schedule whatever")
	p("the answers (open loop). Send lag is how late the generator sent them. CPU is per cent of one core over the run;")
	p("\"other\" is everything else on the machine, which should be near 0%% for figures worth quoting.")
	p("")
	p("### Summary")
	p("")
	p("| measure | value | target | |")
	p("|---|---:|---|---|")
	if len(rep.fixed) == 2 {
		r := rep.fixed[1]
		p("| p99 at 500/s, the mix | %s ms | ≤ 5 ms | %s |", bench.Ms(r.s.P99), verdict(r.s.P99 <= 5*time.Millisecond))
		p("| p99 at 500/s, starts only | %s ms | | |", bench.Ms(r.start.P99))
	}
	stepNote := ""
	if n := len(rep.steps); n > 0 && rep.steps[n-1].sustained() {
		stepNote = fmt.Sprintf("(at least: the highest step tried, %.0f/s, held)", rep.steps[n-1].rate)
	} else if n > 0 {
		stepNote = fmt.Sprintf("(%.0f/s did not)", rep.steps[n-1].rate)
	}
	p("| highest rate with p99 < 50 ms | %.0f/s %s | | |", best, stepNote)
	medR, maxR := medianMax(rep.coldReady)
	medD, maxD := medianMax(rep.coldDecision)
	p("| cold start → first GET / answered (median, max of %d) | %s ms, %s ms | ≤ 20 ms | %s |", len(rep.coldReady), bench.Ms(medR), bench.Ms(maxR), verdict(medR <= 20*time.Millisecond))
	p("| cold start → first authenticated decision (median, max of %d) | %s ms, %s ms | ≤ 50 ms | %s |", len(rep.coldDecision), bench.Ms(medD), bench.Ms(maxD), verdict(medD <= 50*time.Millisecond))
	if len(rep.fixed) == 2 {
		hwm := rep.fixed[1].hwm
		p("| peak RSS of the handler (VmHWM), start to the end of the 500/s run | %.1f MB | ≤ 25 MB | %s |", float64(hwm)/1e6, verdict(hwm <= 25e6))
	}
	p("| peak RSS of the handler (VmHWM), after every run including overload steps | %.1f MB | ≤ 25 MB | %s |", float64(rep.peakRSS)/1e6, verdict(rep.peakRSS <= 25e6))
	p("| binary size, stripped linux/amd64 | %.1f MB | ≤ 12 MB | %s |", float64(rep.binary)/1e6, verdict(rep.binary > 0 && rep.binary <= 12e6))
	var failures []string
	for _, rows := range [][]row{rep.floor, rep.fixed, {rep.storeAlone, rep.storeWork, rep.emptyAlone, rep.emptyAlone50, rep.storeAlone50}, rep.steps} {
		for _, r := range rows {
			for _, s := range r.samples {
				failures = append(failures, fmt.Sprintf("%s %.0f/s: %s", r.name, r.rate, s))
			}
		}
	}
	if len(failures) > 0 {
		p("")
		p("Sample failures:")
		p("")
		for _, f := range failures[:min(len(failures), 10)] {
			p("- %s", f)
		}
	}
}

func medianMax(d []time.Duration) (time.Duration, time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	s := bench.Result{Latencies: d}.Summarize()
	return s.P50, s.Max
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "CPU model unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "CPU model unknown"
}
