// Package functionshost is an Azure Functions host for tests, in the manner
// of net/http/httptest: it deploys a Function App package (the zip that
// scripts/package.sh writes), runs its custom handler and forwards HTTP
// requests to it the way the real host does, so that tests drive the
// packaged handler exactly as production will.
//
// What it emulates was read from the host's source, Azure/azure-functions-host
// at commit 89dc438d476542786f2fc4070f553423213a6223 (files under
// src/WebJobs.Script/ unless a path says otherwise):
//
//   - Start (Workers/Http/HttpWorkerProcess.cs CreateWorkerProcess,
//     Workers/ProcessManagement/DefaultWorkerProcessFactory.cs,
//     Workers/Http/Configuration/HttpWorkerOptionsSetup.cs, WorkerUtilities.cs):
//     the package is unpacked with the modes its entries carry and never
//     given an execute bit (Flex Consumption and run-from-package mount it
//     read-only, where the host's chmod fallback cannot help); the handler
//     runs from the app root with no arguments and the host's environment
//     plus FUNCTIONS_CUSTOMHANDLER_PORT, FUNCTIONS_HTTPWORKER_PORT,
//     FUNCTIONS_CUSTOMHANDLER_WORKER_ID, FUNCTIONS_HTTPWORKER_ID and
//     FUNCTIONS_APP_ROOT_PATH; the port is found once, by binding
//     127.0.0.1:0 and releasing it, and kept for every restart; stdout and
//     stderr are read line by line as they arrive.
//   - Readiness (Workers/Http/DefaultHttpWorkerService.cs IsWorkerReady,
//     Workers/WorkerConstants.cs, Workers/Http/Configuration/HttpWorkerOptions.cs):
//     GET http://127.0.0.1:{port}/ every 25 ms; a refused connection means
//     not yet, any HTTP answer (or any other failure) means ready; after
//     30 s the start counts as an error. Ping sends the same GET / that the
//     host sends for health at run time (HttpWorkerChannel.GetWorkerStatusAsync).
//   - Routing (WebJobs.Script.WebHost/WebScriptHostHttpRoutesManager.cs; ASP.NET
//     Core's RoutePatternMatcher and PathTokenizer): the route prefix and
//     route are matched segment by segment ignoring case, with a trailing
//     slash ignored; a method the function does not list, or any other
//     path, is a 404 from the host. Invocations wait while the handler
//     starts or restarts (Description/Workers/WorkerFunctionInvoker.cs).
//   - Forwarding (DefaultHttpWorkerService.cs ProcessHttpInAndOutInvocationRequest,
//     AddHeaders, CreateHttpClient; Extensions/HttpRequestExtensions.cs
//     ToHttpRequestMessage, GetQueryCollectionAsDictionary): the original
//     method and path; the query rebuilt with each key's values joined by
//     commas; every incoming header copied (Host, Authorization,
//     X-MS-CLIENT-PRINCIPAL*, Connection, ...) except the content headers,
//     which .NET refuses on a request's header collection, each header's
//     values joined on one line; X-Azure-Functions-HostVersion and
//     X-Azure-Functions-InvocationId added (appended to any the caller
//     sent) and "Azure-Functions-Host/{version}" appended to User-Agent;
//     the body, buffered, with its Content-Length and Content-Type, only
//     when Content-Length > 0. A chunked request has no Content-Length: its
//     Transfer-Encoding header is copied onto a request with no content,
//     which .NET's SocketsHttpHandler refuses, so the invocation fails with
//     a 500. The answer is read whole and passed back unchanged, 4xx and
//     5xx included; redirects are not followed; no cookies or compression.
//     A failed invocation (the handler gone, a reset) is a 500 with no body.
//   - Logs (Workers/ProcessManagement/WorkerProcess.cs ParseErrorMessageAndLog,
//     Workers/Http/HttpWorkerDescription.cs UseStdErrorStreamForErrorsOnly,
//     which is true for custom handlers): a stdout line is Information; a
//     stderr line is a Warning when it contains "warn" in any case, and an
//     Error otherwise.
//   - Stop and restart (WorkerProcess.cs OnProcessExited and Dispose,
//     Workers/Http/HttpFunctionInvocationDispatcher.cs,
//     WebJobs.Script.WebHost/WebScriptHostExceptionHandler.cs): the host
//     only ever stops the handler with Process.Kill, which is SIGKILL, also
//     when an invocation passes the function timeout, and then starts it
//     again without counting an error. When the handler exits by itself
//     with a code other than 0 (or 200, which asks for a restart), or does
//     not become ready in time, that is an error, and the handler is started
//     again on the same port; once three errors have come each within
//     30 minutes of the one before, the host stops the app. Exit code 0 is
//     not restarted: the handler is simply gone, and invocations fail.
//
// Where the emulator knowingly differs: readiness polling stops as soon as
// the process has exited (the host polls on until its timeout, then finds
// the channel disposed); only anonymous functions on literal routes in
// forwarding mode are served, and Start refuses anything else by name.
package functionshost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/invitegate/invitegate/internal/testutil/handlerproc"
)

// Host-wide constants, from the host's source.
const (
	pollInterval          = 25 * time.Millisecond // WorkerConstants.WorkerReadyCheckPollingIntervalMilliseconds
	defaultInitialization = 30 * time.Second      // HttpWorkerOptions.InitializationTimeout
	errorThreshold        = 3                     // HttpFunctionInvocationDispatcher.ErrorEventsThreshold
	errorInterval         = 30 * time.Minute      // WorkerConstants.WorkerRestartErrorIntervalThresholdInMinutes
	intentionalRestart    = 200                   // WorkerConstants.IntentionalRestartExitCode
	maxStderrKept         = 3                     // WorkerProcessUtilities: stderr lines quoted when the process exits
)

// ConsoleCategory is the log category of the handler's own output, as
// Application Insights shows it.
const ConsoleCategory = "Host.Function.Console"

// hostCategory is the category of what the host itself logs here.
const hostCategory = "Host.Workers"

// Log levels, as the host names them.
const (
	Debug       = "Debug"
	Information = "Information"
	Warning     = "Warning"
	Error       = "Error"
)

// Options configure a Host. The zero value is the host's defaults.
type Options struct {
	// Env is the app settings: added to this process's environment, it is
	// the host's environment, which the handler inherits.
	Env []string
	// Port pins the handler's port; 0 finds a free one as the host does.
	Port int
	// InitializationTimeout bounds the wait for each start of the handler
	// to answer GET / (30 s, the host's default).
	InitializationTimeout time.Duration
	// FunctionTimeout, when set, is host.json's functionTimeout: an
	// invocation still running after it fails with a 500, and the handler
	// is killed and started again.
	FunctionTimeout time.Duration
	// HostVersion is what the host says it is, in
	// X-Azure-Functions-HostVersion and User-Agent.
	HostVersion string
}

// DefaultHostVersion is the HostVersion used when Options leaves it empty,
// shaped like the versions the host sends.
const DefaultHostVersion = "4.1037.0.0"

// State is the state of the host's worker dispatcher.
type State int

// Dispatcher states.
const (
	// Initializing: the handler is starting for the first time.
	Initializing State = iota
	// Running: the handler answered GET /; invocations are forwarded.
	Running
	// Restarting: the handler is starting again after an exit or a kill.
	Restarting
	// Stopped: the host stopped the app; every request gets a 503.
	Stopped
)

func (s State) String() string {
	return [...]string{"initializing", "running", "restarting", "stopped"}[s]
}

// LogEntry is one line of the host's log.
type LogEntry struct {
	Time     time.Time
	Level    string // Debug, Information, Warning or Error
	Category string // ConsoleCategory for what the handler wrote
	Message  string
}

// Worker is one start of the handler process.
type Worker struct {
	ID    string // the worker id the host passed in FUNCTIONS_CUSTOMHANDLER_WORKER_ID
	Pid   int
	Port  int
	Start time.Time
	End   time.Time // zero while it runs
	// ExitCode is the exit code as .NET reports it: 128 + the signal
	// number when a signal ended the process (137 for SIGKILL).
	ExitCode int
	// Killed says the host itself killed it.
	Killed bool
	Stdout []string
	Stderr []string
}

// Invocation is one request the host routed to a function.
type Invocation struct {
	ID       string // sent as X-Azure-Functions-InvocationId
	Function string
	Method   string
	Path     string
	Status   int    // what the caller got
	Err      string // why the invocation failed, when it did
	Elapsed  time.Duration
}

// Host is a running emulated Functions host serving one app.
type Host struct {
	// URL is the app's public address, http://127.0.0.1:port, where
	// Entra's requests arrive.
	URL string
	// AppRoot is where the package was unpacked.
	AppRoot string
	// HandlerPort is the port the handler is told to listen on.
	HandlerPort int

	opts   Options
	app    *app
	dir    string
	front  *http.Server
	client *http.Client

	mu          sync.Mutex
	changed     chan struct{} // closed and replaced whenever state changes
	state       State
	current     *worker
	workers     []*worker
	errs        []time.Time // the dispatcher's error bucket, most recent last
	logs        []LogEntry
	invocations []Invocation
	closed      bool
}

// worker is one start of the handler, as the host tracks it.
type worker struct {
	rec       Worker
	proc      *handlerproc.Process
	disposing bool
	errLines  []string // the last stderr lines logged as errors
}

// Start deploys the package at zipPath and starts the host: the app root
// is unpacked, the handler started in the background, and the public
// endpoint is listening when Start returns. WaitReady waits for the
// handler. Close stops everything.
func Start(zipPath string, o Options) (*Host, error) {
	if o.InitializationTimeout <= 0 {
		o.InitializationTimeout = defaultInitialization
	}
	if o.HostVersion == "" {
		o.HostVersion = DefaultHostVersion
	}
	dir, err := os.MkdirTemp("", "functionshost-")
	if err != nil {
		return nil, err
	}
	root := filepath.Join(dir, "wwwroot")
	h := &Host{AppRoot: root, opts: o, dir: dir, changed: make(chan struct{})}
	fail := func(err error) (*Host, error) {
		makeWritable(dir)
		os.RemoveAll(dir)
		return nil, err
	}
	if err := os.Mkdir(root, 0o755); err != nil {
		return fail(err)
	}
	if err := unpack(zipPath, root); err != nil {
		return fail(err)
	}
	if h.app, err = readApp(root); err != nil {
		return fail(err)
	}
	h.HandlerPort = o.Port
	if h.HandlerPort == 0 {
		if h.HandlerPort, err = handlerproc.FreePort(); err != nil {
			return fail(err)
		}
	}
	// DefaultHttpWorkerService.CreateHttpClient: no cookies, and no
	// redirects followed when forwarding. .NET's handler asks for no
	// compression either.
	h.client = &http.Client{
		Transport: &http.Transport{
			DisableCompression:  true,
			MaxIdleConnsPerHost: 256,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	h.URL = "http://" + ln.Addr().String()
	h.front = &http.Server{Handler: http.HandlerFunc(h.serve), ReadHeaderTimeout: 10 * time.Second}
	go h.front.Serve(ln)

	h.mu.Lock()
	h.logf(Information, "Host started: %d functions, handler %s on 127.0.0.1:%d", len(h.app.functions), h.app.executable, h.HandlerPort)
	h.mu.Unlock()
	go h.startWorker()
	return h, nil
}

// Close kills the handler as the host does (SIGKILL), stops serving and
// removes the app root.
func (h *Host) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	w := h.current
	if w != nil {
		h.dispose(w)
	}
	h.mu.Unlock()
	if w != nil {
		<-w.proc.Done()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	h.front.Shutdown(ctx)
	h.client.CloseIdleConnections()
	makeWritable(h.dir)
	os.RemoveAll(h.dir)
}

// WaitReady waits until the handler has answered GET / and invocations
// are forwarded, for at most timeout. It fails at once when the host has
// stopped the app.
func (h *Host) WaitReady(timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		h.mu.Lock()
		st, changed := h.state, h.changed
		h.mu.Unlock()
		switch st {
		case Running:
			return nil
		case Stopped:
			return fmt.Errorf("the host stopped the app:\n%s", h.problems())
		}
		select {
		case <-changed:
		case <-deadline:
			return fmt.Errorf("the handler was not ready within %v (state %s):\n%s", timeout, st, h.problems())
		}
	}
}

// WaitState waits until the dispatcher is in state st, for at most timeout.
func (h *Host) WaitState(st State, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		h.mu.Lock()
		cur, changed := h.state, h.changed
		h.mu.Unlock()
		if cur == st {
			return nil
		}
		select {
		case <-changed:
		case <-deadline:
			return fmt.Errorf("the host is %s after %v, want %s:\n%s", cur, timeout, st, h.problems())
		}
	}
}

// State returns the dispatcher's state.
func (h *Host) State() State {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.state
}

// Logs returns the host's log so far: the handler's output as the host
// classified it, and the host's own lines.
func (h *Host) Logs() []LogEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]LogEntry(nil), h.logs...)
}

// Workers returns every start of the handler so far, oldest first.
func (h *Host) Workers() []Worker {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Worker, len(h.workers))
	for i, w := range h.workers {
		out[i] = w.rec
		out[i].Stdout = append([]string(nil), w.rec.Stdout...)
		out[i].Stderr = append([]string(nil), w.rec.Stderr...)
	}
	return out
}

// Invocations returns the requests routed to a function so far, in the
// order they finished.
func (h *Host) Invocations() []Invocation {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Invocation(nil), h.invocations...)
}

// Signal sends sig to the running handler process from outside the host,
// as the kernel's OOM killer or an operator might, and returns its pid.
func (h *Host) Signal(sig os.Signal) (int, error) {
	h.mu.Lock()
	w := h.current
	h.mu.Unlock()
	if w == nil || w.proc.Exited() {
		return 0, errors.New("no handler process is running")
	}
	return w.rec.Pid, w.proc.Signal(sig)
}

// Ping sends the host's health ping, GET / on the handler, and returns the
// status and how long the answer took.
func (h *Host) Ping(ctx context.Context) (int, time.Duration, error) {
	started := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.handlerURL("/"), nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, time.Since(started), err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(started), nil
}

func (h *Host) handlerURL(pathAndQuery string) string {
	return "http://127.0.0.1:" + strconv.Itoa(h.HandlerPort) + pathAndQuery
}

// logf appends a host log line; h.mu is held.
func (h *Host) logf(level, format string, args ...any) {
	h.logs = append(h.logs, LogEntry{Time: time.Now(), Level: level, Category: hostCategory, Message: fmt.Sprintf(format, args...)})
}

// setState changes the dispatcher's state and wakes waiters; h.mu is held.
func (h *Host) setState(st State) {
	h.state = st
	close(h.changed)
	h.changed = make(chan struct{})
}

// problems returns the host's warnings and errors, for failure messages.
func (h *Host) problems() string {
	var b strings.Builder
	for _, e := range h.Logs() {
		if e.Level == Warning || e.Level == Error {
			fmt.Fprintf(&b, "  %s [%s] %s\n", e.Level, e.Category, e.Message)
		}
	}
	return b.String()
}
