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
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/invitegate/invitegate/internal/bench"
	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/server"
	"github.com/invitegate/invitegate/internal/tablestore"
)

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
	var c config
	flag.StringVar(&c.handler, "handler", "", "the handler binary to measure (required)")
	flag.StringVar(&c.connection, "connection", "", "connection string of the Azurite to use (required)")
	flag.IntVar(&c.azuritePid, "azurite-pid", 0, "Azurite's process id, to report its CPU use")
	flag.StringVar(&c.azuriteVer, "azurite-version", "", "Azurite's version, for the report")
	flag.IntVar(&c.invitations, "invitations", 1000, "address invitations to seed")
	flag.IntVar(&c.sequential, "sequential", 1000, "requests per row of the one-at-a-time table")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "length of each fixed-rate run (50/s and 500/s)")
	flag.DurationVar(&c.step, "step", 5*time.Second, "length of each step of the step-up run")
	flag.Float64Var(&c.maxRate, "max-rate", 3000, "highest rate the step-up run tries, requests per second")
	flag.StringVar(&c.steps, "steps", "600,700,800,900,1000,1200,1500,2000,2500,3000", "rates of the step-up run, requests per second; it stops at the first that is not sustained")
	flag.IntVar(&c.coldStarts, "cold-starts", 5, "cold starts to time")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write this harness's own CPU profile here (the load generator)")
	flag.Parse()
	if c.handler == "" || c.connection == "" {
		fmt.Fprintln(os.Stderr, "usage: benchgate -handler PATH -connection CONNECTION-STRING [flags]; run scripts/bench.sh, which sets them")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchgate:", err)
		os.Exit(1)
	}
}

// The invitation set: address invitations member%05d@example.org (half of
// them with prefill and set values), one domain invitation for
// @partner.example, and people at elsewhere.example who are not invited.
const domain = "@partner.example"

func invitedAddress(i int) string  { return fmt.Sprintf("member%05d@example.org", i) }
func domainAddress(i int) string   { return fmt.Sprintf("person%05d@partner.example", i) }
func strangerAddress(i int) string { return fmt.Sprintf("stranger%05d@elsewhere.example", i) }

// kind is a kind of sign-up.
type kind int

const (
	byAddress kind = iota
	byDomain
	notInvited
)

func (k kind) String() string {
	return [...]string{"invited by address", "invited through a domain", "not invited"}[k]
}

type harness struct {
	cfg       config
	tenant    *bench.Tenant
	tokens    []string
	client    *http.Client
	table     *aztables.Client
	store     *tablestore.Store // opened as the handler opens its own
	tableName string
	gate      *bench.Handler
	runID     uint32
	seq       atomic.Uint64
}

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
	h := &harness{cfg: cfg, client: bench.Client(), runID: rand.Uint32()}
	var err error
	if h.tenant, err = bench.StartTenant(); err != nil {
		return err
	}
	defer h.tenant.Close()
	for n := 0; n < 5; n++ { // a handful of distinct tokens, as several Entra instances would send
		tok, err := h.tenant.Token(n, time.Hour)
		if err != nil {
			return err
		}
		h.tokens = append(h.tokens, tok)
	}
	progress("seeding %d address invitations and %s", cfg.invitations, domain)
	if err := h.seed(ctx); err != nil {
		return err
	}

	report := &report{}
	progress("timing %d cold starts", cfg.coldStarts)
	if err := h.coldStarts(ctx, report); err != nil {
		return err
	}

	if h.gate, err = bench.StartHandler(cfg.handler, bench.HandlerOptions{Env: h.env()}); err != nil {
		return err
	}
	defer h.gate.Kill()
	if _, err := h.gate.WaitReady(10 * time.Second); err != nil {
		return err
	}
	if err := h.waitDecisions(ctx, 10*time.Second); err != nil {
		return err
	}
	progress("warming up")
	if r := bench.Sequential(ctx, 300, h.mixed); r.Failed > 0 {
		return fmt.Errorf("warm-up: %d of %d requests failed: %v", r.Failed, r.Sent, r.Samples)
	}

	progress("one request at a time (%d each)", cfg.sequential)
	h.floor(ctx, report)
	report.rowsAfterFloor = h.countRows(ctx)

	for _, rate := range []float64{50, 500} {
		progress("open loop at %.0f/s for %v", rate, cfg.duration)
		report.fixed = append(report.fixed, h.openLoop(ctx, rate, cfg.duration, h.mixed))
		pause(ctx)
	}
	progress("the floor under load: Match's query straight to Azurite at 500/s for %v", cfg.duration)
	report.storeAlone = h.openLoop(ctx, 500, cfg.duration, h.directQuery)
	pause(ctx)
	progress("the floor under load: the gate's store work for the mix (Match, and Redeem for invited submits), through tablestore in this process, at 500/s for %v", cfg.duration)
	report.storeWork = h.openLoop(ctx, 500, cfg.duration, h.directStoreWork)
	pause(ctx)
	progress("the floor under load: GET / on the handler at 500/s and at 50/s, %v each", cfg.duration)
	report.emptyAlone = h.openLoop(ctx, 500, cfg.duration, h.emptyRoundTrip)
	pause(ctx)
	report.emptyAlone50 = h.openLoop(ctx, 50, cfg.duration, h.emptyRoundTrip)
	pause(ctx)
	progress("the floor at 50/s: Match's query straight to Azurite, %v", cfg.duration)
	report.storeAlone50 = h.openLoop(ctx, 50, cfg.duration, h.directQuery)
	pause(ctx)

	steps, err := parseRates(cfg.steps)
	if err != nil {
		return err
	}
	for _, rate := range steps {
		if rate > cfg.maxRate || ctx.Err() != nil {
			break
		}
		progress("step: %.0f/s for %v", rate, cfg.step)
		row := h.openLoop(ctx, rate, cfg.step, h.mixed)
		row.step = true
		report.steps = append(report.steps, row)
		if !row.sustained() {
			break
		}
		pause(ctx)
	}

	report.rowsAtEnd = h.countRows(ctx)
	if report.peakRSS, err = h.gate.PeakRSS(); err != nil {
		return err
	}
	code, err := h.gate.Stop()
	if err != nil || code != 0 {
		return fmt.Errorf("the handler did not stop cleanly: exit %d, %v\nstderr: %s", code, err, h.gate.Stderr())
	}
	if st, err := os.Stat(cfg.handler); err == nil {
		report.binary = st.Size()
	}
	report.print(out, h)
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

func (h *harness) env() []string {
	return append(h.tenant.Env(),
		"INVITATIONS_CONNECTION="+h.cfg.connection,
		"INVITATIONS_TABLE="+h.tableName,
		"INVITE_LOG_LEVEL=info",
	)
}

// seed creates a fresh table and the invitation set.
func (h *harness) seed(ctx context.Context) error {
	h.tableName = fmt.Sprintf("bench%d", time.Now().Unix())
	store, err := tablestore.Open(tablestore.Settings{Connection: h.cfg.connection, Table: h.tableName}, tablestore.Options{Retries: 3})
	if err != nil {
		return err
	}
	if err := store.Init(ctx); err != nil {
		return err
	}
	invs := make(chan invite.Invitation)
	errc := make(chan error, 8)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for inv := range invs {
				if err := store.Put(ctx, inv); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	now := time.Now().UTC()
	invs <- invite.Invitation{Key: invite.Key{Subject: domain, App: invite.AnyApp}, Status: invite.StatusPending, Created: now, Note: "bench: a whole domain"}
	for i := 0; i < h.cfg.invitations; i++ {
		inv := invite.Invitation{Key: invite.Key{Subject: invitedAddress(i), App: invite.AnyApp}, Status: invite.StatusPending, Created: now, Note: "bench"}
		if i%2 == 0 {
			inv.Prefill = map[string]string{"givenName": "Member", "surname": fmt.Sprint(i)}
			inv.Set = map[string]string{"companyName": "Example Ltd"}
		}
		select {
		case invs <- inv:
		case err := <-errc:
			close(invs)
			return err
		}
	}
	close(invs)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}

	transport := &http.Transport{MaxIdleConnsPerHost: 128, DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext}
	svc, err := aztables.NewServiceClientFromConnectionString(h.cfg.connection, &aztables.ClientOptions{ClientOptions: policy.ClientOptions{
		Transport: &http.Client{Transport: transport},
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}})
	if err != nil {
		return err
	}
	h.table = svc.NewClient(h.tableName)
	// A store opened as the handler opens its own.
	h.store, err = tablestore.Open(tablestore.Settings{Connection: h.cfg.connection, Table: h.tableName}, tablestore.Options{})
	return err
}

// coldStarts starts the handler cfg.coldStarts times and times its first
// answers.
func (h *harness) coldStarts(ctx context.Context, rep *report) error {
	for i := 0; i < h.cfg.coldStarts && ctx.Err() == nil; i++ {
		g, err := bench.StartHandler(h.cfg.handler, bench.HandlerOptions{Env: h.env()})
		if err != nil {
			return err
		}
		ready, err := g.WaitReady(10 * time.Second)
		if err != nil {
			g.Kill()
			return err
		}
		body := bench.SignUpBody(false, invitedAddress(1), h.correlationID())
		var decided time.Duration
		for deadline := time.Now().Add(10 * time.Second); ; {
			status, resp, err := bench.Post(ctx, h.client, g.URL+bench.StartPath, h.tokens[0], body)
			if err == nil && status == http.StatusOK && continues(resp) {
				decided = time.Since(g.Started)
				break
			}
			if time.Now().After(deadline) {
				g.Kill()
				return fmt.Errorf("cold start: no decision within 10s: %d %s %v\n%s", status, resp, err, g.Stderr())
			}
			time.Sleep(200 * time.Microsecond)
		}
		if code, err := g.Stop(); err != nil || code != 0 {
			return fmt.Errorf("cold start: the handler did not stop cleanly: exit %d, %v", code, err)
		}
		rep.coldReady = append(rep.coldReady, ready)
		rep.coldDecision = append(rep.coldDecision, decided)
	}
	return nil
}

// waitDecisions waits until the gate answers an invited sign-up.
func (h *harness) waitDecisions(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := h.signUp(ctx, byAddress, false, 1)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the gate gave no decision within %v: %v", timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) correlationID() string {
	n := h.seq.Add(1)
	return fmt.Sprintf("%08x-%04x-4000-8000-%012x", h.runID, n>>48, n&0xffffffffffff)
}

// address returns the address of person i of kind k.
func (h *harness) address(k kind, i int) string {
	return [...]func(int) string{invitedAddress, domainAddress, strangerAddress}[k](i % h.cfg.invitations)
}

// signUp sends one sign-up of kind k as person i and checks the answer.
func (h *harness) signUp(ctx context.Context, k kind, submit bool, i int) error {
	email := h.address(k, i)
	path := bench.StartPath
	if submit {
		path = bench.SubmitPath
	}
	body := bench.SignUpBody(submit, email, h.correlationID())
	status, resp, err := bench.Post(ctx, h.client, h.gate.URL+path, h.tokens[i%len(h.tokens)], body)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %.200s", path, status, resp)
	}
	if k == notInvited {
		if !strings.Contains(string(resp), `"title":"Invitation required"`) {
			return fmt.Errorf("%s, %s: want the not-invited block page, got %.300s", path, k, resp)
		}
		return nil
	}
	if !continues(resp) {
		return fmt.Errorf("%s, %s: want the sign-up to continue, got %.300s", path, k, resp)
	}
	return nil
}

func continues(resp []byte) bool {
	var r struct {
		Data struct {
			Actions []struct {
				Type string `json:"@odata.type"`
			} `json:"actions"`
		} `json:"data"`
	}
	if json.Unmarshal(resp, &r) != nil || len(r.Data.Actions) != 1 {
		return false
	}
	t := r.Data.Actions[0].Type
	return strings.HasSuffix(t, ".continueWithDefaultBehavior") || strings.HasSuffix(t, ".setPrefillValues") || strings.HasSuffix(t, ".modifyAttributeValues")
}

// mixed is the realistic mix: 70% start and 30% submit; 80% invited (three
// in four of them by address, one in four through the domain) and 20%
// not invited; people drawn at random from each pool.
func (h *harness) mixed(ctx context.Context, i int) error {
	k, submit, person := h.pick(i)
	return h.signUp(ctx, k, submit, person)
}

// pick says who request i of the mix is and which event it is.
func (h *harness) pick(i int) (k kind, submit bool, person int) {
	r := rand.New(rand.NewPCG(uint64(h.runID), uint64(i)))
	k = notInvited
	if p := r.Float64(); p < 0.6 {
		k = byAddress
	} else if p < 0.8 {
		k = byDomain
	}
	return k, r.Float64() < 0.3, r.IntN(h.cfg.invitations)
}

// countRows counts the rows of the table (invitations and per-address
// redemption records), or returns -1.
func (h *harness) countRows(ctx context.Context) int {
	n := 0
	pager := h.table.NewListEntitiesPager(&aztables.ListEntitiesOptions{Select: ptr("PartitionKey")})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return -1
		}
		n += len(page.Entities)
	}
	return n
}

func ptr[T any](v T) *T { return &v }

// matchFilter is the filter tablestore.Match sends for an address and a
// known application.
func matchFilter(email string) string {
	return "PartitionKey eq '" + email + "' and (RowKey eq '" + bench.AppID + "' or RowKey eq '*')"
}

func (h *harness) directGet(ctx context.Context, i int) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := h.table.GetEntity(ctx, invitedAddress(i%h.cfg.invitations), invite.AnyApp, nil)
	return err
}

func (h *harness) directQuery(ctx context.Context, i int) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	f := matchFilter(invitedAddress(i % h.cfg.invitations))
	page, err := h.table.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &f}).NextPage(ctx)
	if err == nil && len(page.Entities) != 1 {
		err = fmt.Errorf("the query found %d rows, want 1", len(page.Entities))
	}
	return err
}

// directStoreWork does the store calls the gate makes for request i of
// the mix, through the same package and settings, without HTTP,
// authentication or JSON.
func (h *harness) directStoreWork(ctx context.Context, i int) error {
	ctx, cancel := context.WithTimeout(ctx, server.DefaultStoreTimeout)
	defer cancel()
	k, submit, person := h.pick(i)
	email := h.address(k, person)
	m, err := h.store.Match(ctx, email, bench.AppID)
	if err != nil {
		return err
	}
	now := time.Now()
	d := invite.Decide(m, now)
	if d.Allowed() != (k != notInvited) {
		return fmt.Errorf("%s: decided %s", k, d.Outcome)
	}
	if submit && d.Allowed() {
		if _, err := h.store.Redeem(ctx, *d.Invitation, email, h.correlationID(), now); err != nil {
			return err
		}
	}
	return nil
}

func (h *harness) emptyRoundTrip(ctx context.Context, i int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.gate.URL+"/", nil)
	if err != nil {
		return err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /: HTTP %d", resp.StatusCode)
	}
	return nil
}

// floor measures, one request at a time and interleaved so that every row
// sees the same conditions, the store and HTTP floor and the gate.
func (h *harness) floor(ctx context.Context, rep *report) {
	type probe struct {
		name string
		do   func(ctx context.Context, i int) error
	}
	signUp := func(k kind, submit bool) func(ctx context.Context, i int) error {
		return func(ctx context.Context, i int) error { return h.signUp(ctx, k, submit, i) }
	}
	probes := []probe{
		{"Azurite GetEntity, direct (floor)", h.directGet},
		{"Azurite query as Match sends it, direct", h.directQuery},
		{"empty round trip: GET / on the handler (floor)", h.emptyRoundTrip},
		{"gate start, " + byAddress.String(), signUp(byAddress, false)},
		{"gate start, " + byDomain.String(), signUp(byDomain, false)},
		{"gate start, " + notInvited.String(), signUp(notInvited, false)},
		{"gate submit, " + byAddress.String() + " (+ redemption write)", signUp(byAddress, true)},
		{"gate submit, " + byDomain.String() + " (+ per-address write)", signUp(byDomain, true)},
		{"gate submit, " + notInvited.String(), signUp(notInvited, true)},
	}
	results := make([]bench.Result, len(probes))
	for round := 0; round < h.cfg.sequential && ctx.Err() == nil; round++ {
		for p := range probes {
			r := bench.Sequential(ctx, 1, func(ctx context.Context, _ int) error { return probes[p].do(ctx, round) })
			results[p].Latencies = append(results[p].Latencies, r.Latencies...)
			results[p].Sent += r.Sent
			results[p].Failed += r.Failed
			results[p].Samples = append(results[p].Samples, r.Samples...)
		}
	}
	for p := range probes {
		rep.floor = append(rep.floor, row{name: probes[p].name, s: results[p].Summarize(), samples: results[p].Samples})
	}
}

// openLoop runs do at rate for d, and notes the CPU the handler, Azurite,
// this harness and the rest of the machine used meanwhile, and the
// handler's memory and open files.
func (h *harness) openLoop(ctx context.Context, rate float64, d time.Duration, do func(context.Context, int) error) row {
	// Sample how many files (sockets, mostly) the handler holds open.
	var maxFDs atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if h.gate != nil {
				if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", h.gate.Pid())); err == nil && int64(len(fds)) > maxFDs.Load() {
					maxFDs.Store(int64(len(fds)))
				}
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	cpu0 := h.cpu()
	r := bench.Open(ctx, rate, d, 3*time.Second, 4096, do)
	cpu1 := h.cpu()
	close(stop)
	<-sampled
	rw := row{rate: rate, sent: r.Sent, s: r.Summarize(), samples: r.Samples, fds: maxFDs.Load()}
	rw.start = r.Only(func(i int) bool { _, submit, _ := h.pick(i); return !submit }).Summarize()
	rw.submit = r.Only(func(i int) bool { k, submit, _ := h.pick(i); return submit && k != notInvited }).Summarize()
	pct := func(i int) float64 { return (cpu1[i] - cpu0[i]).Seconds() / r.Elapsed.Seconds() * 100 }
	if h.gate != nil {
		rw.rss, _ = bench.ProcStatusBytes(h.gate.Pid(), "VmRSS")
		rw.hwm, _ = bench.ProcStatusBytes(h.gate.Pid(), "VmHWM")
	}
	rw.gateCPU, rw.azuriteCPU, rw.benchCPU = pct(0), pct(1), pct(2)
	rw.otherCPU = max(0, pct(3)-rw.gateCPU-rw.azuriteCPU-rw.benchCPU)
	return rw
}

// cpu returns the CPU time used so far by the handler, Azurite, this
// harness, and the whole machine.
func (h *harness) cpu() [4]time.Duration {
	var c [4]time.Duration
	if h.gate != nil {
		c[0], _ = bench.CPUTime(h.gate.Pid())
	}
	if h.cfg.azuritePid != 0 {
		c[1], _ = bench.CPUTime(h.cfg.azuritePid)
	}
	c[2], _ = bench.CPUTime(os.Getpid())
	c[3] = machineBusy()
	return c
}

// machineBusy returns the CPU time all processes have used, from the
// first line of /proc/stat (user, nice, system, irq, softirq, steal).
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		if i < len(f) {
			n, _ := strconv.ParseInt(f[i], 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * time.Second / 100
}

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
