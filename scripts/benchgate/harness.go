package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/invitegate/invitegate/internal/bench"
	"github.com/invitegate/invitegate/internal/graph"
	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/server"
	"github.com/invitegate/invitegate/internal/tablestore"
	"github.com/invitegate/invitegate/internal/testutil/handlerproc"
)

// The harness: it seeds the invitation table, starts the handler as a
// process and drives it, and collects what report.go prints.

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
	gate      *handlerproc.Process
	runID     uint32
	seq       atomic.Uint64
}

// measure seeds the table, starts the handler and runs every measurement
// in turn; the harness it returns describes the setup for the report.
func measure(ctx context.Context, cfg config) (*report, *harness, error) {
	h := &harness{cfg: cfg, client: bench.Client(), runID: rand.Uint32()}
	var err error
	if h.tenant, err = bench.StartTenant(); err != nil {
		return nil, nil, err
	}
	defer h.tenant.Close()
	for n := 0; n < 5; n++ { // a handful of distinct tokens, as several Entra instances would send
		tok, err := h.tenant.Token(n, time.Hour)
		if err != nil {
			return nil, nil, err
		}
		h.tokens = append(h.tokens, tok)
	}
	progress("seeding %d address invitations and %s", cfg.invitations, domain)
	if err := h.seed(ctx); err != nil {
		return nil, nil, err
	}

	report := &report{}
	progress("timing %d cold starts", cfg.coldStarts)
	if err := h.coldStarts(ctx, report); err != nil {
		return nil, nil, err
	}

	if h.gate, err = handlerproc.Start(cfg.handler, handlerproc.Options{Env: h.env()}); err != nil {
		return nil, nil, err
	}
	defer h.gate.Kill()
	if _, err := h.gate.WaitReady(10 * time.Second); err != nil {
		return nil, nil, err
	}
	if err := h.waitDecisions(ctx, 10*time.Second); err != nil {
		return nil, nil, err
	}
	progress("warming up")
	if r := bench.Sequential(ctx, 300, h.mixed); r.Failed > 0 {
		return nil, nil, fmt.Errorf("warm-up: %d of %d requests failed: %v", r.Failed, r.Sent, r.Samples)
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
		return nil, nil, err
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
		return nil, nil, err
	}
	code, err := h.gate.Stop()
	if err != nil || code != 0 {
		return nil, nil, fmt.Errorf("the handler did not stop cleanly: exit %d, %v\nstderr: %s", code, err, h.gate.Stderr())
	}
	if st, err := os.Stat(cfg.handler); err == nil {
		report.binary = st.Size()
	}
	return report, h, nil
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
		g, err := handlerproc.Start(h.cfg.handler, handlerproc.Options{Env: h.env()})
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
	answer, err := graph.DecodeResponse(bytes.NewReader(resp), event(submit))
	if err != nil {
		return fmt.Errorf("%s: %v: %.300s", path, err, resp)
	}
	if k == notInvited {
		if title, _, ok := answer.BlockPage(); !ok || title != "Invitation required" {
			return fmt.Errorf("%s, %s: want the not-invited block page, got %.300s", path, k, resp)
		}
		return nil
	}
	if !answer.Continues() {
		return fmt.Errorf("%s, %s: want the sign-up to continue, got %.300s", path, k, resp)
	}
	return nil
}

// event is the event of a start (submit false) or submit request.
func event(submit bool) graph.Event {
	if submit {
		return graph.AttributeCollectionSubmit
	}
	return graph.AttributeCollectionStart
}

// continues reports whether resp, an answer to the start event, lets the
// sign-up go on.
func continues(resp []byte) bool {
	answer, err := graph.DecodeResponse(bytes.NewReader(resp), graph.AttributeCollectionStart)
	return err == nil && answer.Continues()
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
		rw.rss, _ = handlerproc.ProcStatusBytes(h.gate.Pid(), "VmRSS")
		rw.hwm, _ = handlerproc.ProcStatusBytes(h.gate.Pid(), "VmHWM")
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
		c[0], _ = handlerproc.CPUTime(h.gate.Pid())
	}
	if h.cfg.azuritePid != 0 {
		c[1], _ = handlerproc.CPUTime(h.cfg.azuritePid)
	}
	c[2], _ = handlerproc.CPUTime(os.Getpid())
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
