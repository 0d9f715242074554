package functionshost_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/testutil/functionshost"
)

// These tests check the emulator itself against a small fake handler: this
// test binary, packaged as the app's "handler" and started by the emulator
// with FAKE_HANDLER=1 among the app settings. The gate's own tests under
// the emulator are in internal/hosttest.

func TestMain(m *testing.M) {
	if os.Getenv("FAKE_HANDLER") == "1" {
		fakeHandler()
		return
	}
	os.Exit(m.Run())
}

// fakeHandler is a custom handler that reports what it received.
func fakeHandler() {
	if code := os.Getenv("FAKE_START_EXIT"); code != "" {
		n, _ := strconv.Atoi(code)
		fmt.Fprintf(os.Stderr, "fake handler: exiting with %d at start\n", n)
		os.Exit(n)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ready") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch strings.ToLower(strings.Trim(r.URL.Path, "/")) {
		case "api/status":
			code, _ := strconv.Atoi(q.Get("code"))
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.Header().Set("Retry-After", "5")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			fmt.Fprintf(w, `{"status":%d}`, code)
		case "api/redirect":
			http.Redirect(w, r, "/api/echo", http.StatusFound)
		case "api/exit":
			code, _ := strconv.Atoi(q.Get("code"))
			os.Exit(code)
		case "api/sleep":
			d, _ := time.ParseDuration(q.Get("for"))
			time.Sleep(d)
			io.WriteString(w, "slept")
		case "api/log":
			fmt.Fprintln(os.Stdout, "an information line")
			fmt.Fprintln(os.Stdout, "LanguageWorkerConsoleLog for the host's own log")
			fmt.Fprintln(os.Stderr, `{"level":"warn","message":"a warning"}`)
			fmt.Fprintln(os.Stderr, "something broke")
			io.WriteString(w, "logged")
		default:
			body, _ := io.ReadAll(r.Body)
			wd, _ := os.Getwd()
			env := map[string]string{}
			for _, kv := range os.Environ() {
				if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "FUNCTIONS_") || strings.HasPrefix(k, "FAKE_") || k == "PATH" {
					env[k] = v
				}
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(echo{
				Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Host: r.Host, Header: r.Header,
				Body: string(body), ContentLength: r.ContentLength, Dir: wd, Args: os.Args[1:], Env: env,
			})
		}
	})
	srv := &http.Server{Addr: "127.0.0.1:" + os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT"), Handler: mux}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "fake handler:", err)
		os.Exit(1)
	}
}

// echo is what the fake handler saw of a request.
type echo struct {
	Method, Path, Query, Host string
	Header                    http.Header
	Body                      string
	ContentLength             int64
	Dir                       string
	Args                      []string
	Env                       map[string]string
}

const hostJSON = `{
  "version": "2.0",
  "customHandler": {
    "description": { "defaultExecutablePath": "handler", "workingDirectory": "", "arguments": [] },
    "enableForwardingHttpRequest": true
  },
  "extensions": { "http": { "routePrefix": "api" } }
}`

func functionJSON(methods ...string) string {
	m, _ := json.Marshal(methods)
	return `{"bindings":[{"type":"httpTrigger","direction":"in","name":"req","authLevel":"anonymous","methods":` + string(m) + `},{"type":"http","direction":"out","name":"res"}]}`
}

// fakeApp writes a package holding this test binary as its handler, with
// the given mode.
func fakeApp(t *testing.T, handlerMode fs.FileMode) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	entries := []struct {
		name string
		mode fs.FileMode
		data []byte
	}{
		{"host.json", 0o644, []byte(hostJSON)},
		{"handler", handlerMode, bin},
		{"echo/function.json", 0o644, []byte(functionJSON("get", "post"))},
		{"status/function.json", 0o644, []byte(functionJSON("post"))},
		{"redirect/function.json", 0o644, []byte(functionJSON("get"))},
		{"exit/function.json", 0o644, []byte(functionJSON("post"))},
		{"sleep/function.json", 0o644, []byte(functionJSON("get"))},
		{"log/function.json", 0o644, []byte(functionJSON("get"))},
	}
	out := filepath.Join(t.TempDir(), "app.zip")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Store}
		hdr.SetMode(e.mode)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// start starts a host on the fake app and waits until it is ready.
func start(t *testing.T, o functionshost.Options) *functionshost.Host {
	t.Helper()
	o.Env = append([]string{"FAKE_HANDLER=1"}, o.Env...)
	h, err := functionshost.Start(fakeApp(t, 0o755), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	if err := h.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	return h
}

// waitStarts waits until the handler has been started n times and the
// last start is ready.
func waitStarts(t *testing.T, h *functionshost.Host, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(h.Workers()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d starts after 30s, want %d; invocations %+v\nlog:\n%s", len(h.Workers()), n, h.Invocations(), dumpLogs(h))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := h.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
}

func dumpLogs(h *functionshost.Host) string {
	var b strings.Builder
	for _, e := range h.Logs() {
		fmt.Fprintf(&b, "%s %s [%s] %s\n", e.Time.Format("15:04:05.000"), e.Level, e.Category, e.Message)
	}
	return b.String()
}

func send(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func newRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func decodeEcho(t *testing.T, b []byte) echo {
	t.Helper()
	var e echo
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("not an echo: %v: %s", err, b)
	}
	return e
}

// The handler starts in the app root with no arguments, the host's
// environment and the five variables the host adds.
func TestStartEnvironment(t *testing.T) {
	t.Parallel()
	h := start(t, functionshost.Options{Env: []string{"FAKE_SETTING=app setting"}})
	_, b := send(t, newRequest(t, "GET", h.URL+"/api/echo", nil))
	e := decodeEcho(t, b)
	port := strconv.Itoa(h.HandlerPort)
	ws := h.Workers()
	if len(ws) != 1 {
		t.Fatalf("%d workers", len(ws))
	}
	for k, want := range map[string]string{
		"FUNCTIONS_CUSTOMHANDLER_PORT": port, "FUNCTIONS_HTTPWORKER_PORT": port,
		"FUNCTIONS_CUSTOMHANDLER_WORKER_ID": ws[0].ID, "FUNCTIONS_HTTPWORKER_ID": ws[0].ID,
		"FUNCTIONS_APP_ROOT_PATH": h.AppRoot, "FAKE_SETTING": "app setting", "PATH": os.Getenv("PATH"),
	} {
		if e.Env[k] != want {
			t.Errorf("%s = %q, want %q", k, e.Env[k], want)
		}
	}
	if e.Dir != h.AppRoot || len(e.Args) != 0 {
		t.Errorf("working directory %q with arguments %q, want %q and none", e.Dir, e.Args, h.AppRoot)
	}
	info, err := os.Stat(filepath.Join(h.AppRoot, "host.json"))
	if err != nil || info.Mode().Perm()&0o222 != 0 {
		t.Errorf("the app root is not read-only: %v %v", info.Mode(), err)
	}
}

// A request is forwarded with its method, path, query (rebuilt), every
// header but the content headers, the host's headers, and its body.
func TestForwarding(t *testing.T) {
	t.Parallel()
	h := start(t, functionshost.Options{})
	req := newRequest(t, "POST", h.URL+"/API/Echo/?b=2&a=x+y&b=3", strings.NewReader(`{"hello":1}`))
	req.Host = "invgate-func.azurewebsites.net"
	for k, v := range map[string]string{
		"Authorization": "Bearer abc", "X-MS-CLIENT-PRINCIPAL": "e30=", "X-MS-CLIENT-PRINCIPAL-ID": "p1",
		"User-Agent": "EntraCaller/1.0", "Content-Type": "application/json", "Content-Language": "en",
		"X-Azure-Functions-InvocationId": "forged", "Connection": "keep-alive",
	} {
		req.Header.Set(k, v)
	}
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	resp, b := send(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	e := decodeEcho(t, b)
	invs := h.Invocations()
	id := invs[len(invs)-1].ID
	checks := []struct{ what, got, want string }{
		{"method", e.Method, "POST"},
		{"path", e.Path, "/API/Echo/"},
		{"query", e.Query, "b=2%2C3&a=x%20y"},
		{"host", e.Host, "invgate-func.azurewebsites.net"},
		{"body", e.Body, `{"hello":1}`},
		{"content length", strconv.FormatInt(e.ContentLength, 10), "11"},
		{"content type", e.Header.Get("Content-Type"), "application/json"},
		{"content language", e.Header.Get("Content-Language"), ""},
		{"authorization", e.Header.Get("Authorization"), "Bearer abc"},
		{"principal", e.Header.Get("X-Ms-Client-Principal"), "e30="},
		{"principal id", e.Header.Get("X-Ms-Client-Principal-Id"), "p1"},
		{"connection", e.Header.Get("Connection"), "keep-alive"},
		{"several values", strings.Join(e.Header.Values("X-Multi"), "|"), "one, two"},
		{"user agent", e.Header.Get("User-Agent"), "EntraCaller/1.0 Azure-Functions-Host/" + functionshost.DefaultHostVersion},
		{"host version", e.Header.Get("X-Azure-Functions-HostVersion"), functionshost.DefaultHostVersion},
		{"invocation id", e.Header.Get("X-Azure-Functions-InvocationId"), "forged, " + id},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.what, c.got, c.want)
		}
	}
}

// The body and its type go only with a Content-Length; a chunked request
// fails in the host and never reaches the handler.
func TestBodyOnlyWithContentLength(t *testing.T) {
	t.Parallel()
	h := start(t, functionshost.Options{})
	req := newRequest(t, "POST", h.URL+"/api/echo", http.NoBody)
	req.Header.Set("Content-Type", "application/json")
	_, b := send(t, req)
	if e := decodeEcho(t, b); e.Body != "" || e.ContentLength != 0 || e.Header.Get("Content-Type") != "" {
		t.Errorf("an empty request reached the handler with body %q, length %d, type %q", e.Body, e.ContentLength, e.Header.Get("Content-Type"))
	}

	chunked := newRequest(t, "POST", h.URL+"/api/echo", io.MultiReader(strings.NewReader(`{"a":1}`)))
	chunked.Header.Set("Content-Type", "application/json")
	resp, b := send(t, chunked)
	invs := h.Invocations()
	if resp.StatusCode != 500 || len(b) != 0 || !strings.Contains(invs[len(invs)-1].Err, "Transfer-Encoding") {
		t.Errorf("a chunked request: %d %q (%+v), want a 500 from the host", resp.StatusCode, b, invs[len(invs)-1])
	}
}

// Answers come back unchanged, errors and redirects included.
func TestAnswersPassedBack(t *testing.T) {
	t.Parallel()
	h := start(t, functionshost.Options{})
	for _, code := range []int{401, 413, 415, 503} {
		resp, b := send(t, newRequest(t, "POST", h.URL+"/api/status?code="+strconv.Itoa(code), nil))
		if resp.StatusCode != code || string(b) != fmt.Sprintf(`{"status":%d}`, code) {
			t.Errorf("%d: got %d %s", code, resp.StatusCode, b)
		}
		for k, want := range map[string]string{"WWW-Authenticate": `Bearer error="invalid_token"`, "Retry-After": "5", "Cache-Control": "no-store", "Content-Type": "application/json"} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%d: %s %q, want %q", code, k, got, want)
			}
		}
	}
	resp, _ := send(t, newRequest(t, "GET", h.URL+"/api/redirect", nil))
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/api/echo" {
		t.Errorf("redirect: %d to %q, want 302 to /api/echo passed back", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// Routes match as ASP.NET Core matches them; anything else is the host's
// own 404 and never reaches the handler.
func TestRouting(t *testing.T) {
	t.Parallel()
	h := start(t, functionshost.Options{})
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/api/echo", 200},
		{"GET", "/API/ECHO", 200},
		{"GET", "/api/echo/", 200},
		{"GET", "/api/echo//", 404},
		{"GET", "/api//echo", 404},
		{"GET", "/api/echo/more", 404},
		{"GET", "/echo", 404},
		{"GET", "/api/status", 404}, // POST only
		{"DELETE", "/api/echo", 404},
	} {
		before := len(h.Invocations())
		resp, _ := send(t, newRequest(t, tc.method, h.URL+tc.path, nil))
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
		if routed := len(h.Invocations()) > before; routed != (tc.want != 404) {
			t.Errorf("%s %s: routed to a function: %v", tc.method, tc.path, routed)
		}
	}
}

// stdout is Information; stderr is a Warning when it says "warn", an Error
// otherwise.
func TestLogSeverity(t *testing.T) {
	t.Parallel()
	h := start(t, functionshost.Options{})
	send(t, newRequest(t, "GET", h.URL+"/api/log", nil))
	want := map[string]string{
		"an information line":                    functionshost.Information,
		`{"level":"warn","message":"a warning"}`: functionshost.Warning,
		"something broke":                        functionshost.Error,
		" for the host's own log":                functionshost.Information,
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(want) > 0 && time.Now().Before(deadline) {
		for _, e := range h.Logs() {
			if lv, ok := want[e.Message]; ok && lv == e.Level {
				if (e.Message == " for the host's own log") == (e.Category == functionshost.ConsoleCategory) {
					t.Errorf("%q logged under %s", e.Message, e.Category)
				}
				delete(want, e.Message)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(want) > 0 {
		t.Errorf("not logged as expected: %v\nlog: %+v", want, h.Logs())
	}
}

// A handler that exits with an error, or is killed from outside, is
// started again on the same port; the invocation it was serving fails.
func TestCrashRestartsOnSamePort(t *testing.T) {
	t.Parallel()
	h := start(t, functionshost.Options{})
	resp, _ := send(t, newRequest(t, "POST", h.URL+"/api/exit?code=3", nil))
	if resp.StatusCode != 500 {
		t.Errorf("the crashed invocation: %d, want 500", resp.StatusCode)
	}
	waitStarts(t, h, 2)
	if _, err := h.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitStarts(t, h, 3)
	if resp, b := send(t, newRequest(t, "GET", h.URL+"/api/echo", nil)); resp.StatusCode != 200 {
		t.Fatalf("after a restart: %d %s", resp.StatusCode, b)
	}
	ws := h.Workers()
	if len(ws) != 3 {
		t.Fatalf("%d starts, want 3", len(ws))
	}
	for i, wantCode := range []int{3, 128 + int(syscall.SIGKILL)} {
		if ws[i].ExitCode != wantCode || ws[i].Port != h.HandlerPort || ws[i].Killed {
			t.Errorf("start %d: %+v, want exit %d on port %d, not killed by the host", i, ws[i], wantCode, h.HandlerPort)
		}
	}
	if ws[2].Port != h.HandlerPort || ws[2].Pid == ws[1].Pid || ws[2].ID == ws[1].ID {
		t.Errorf("the restart: %+v", ws[2])
	}
	if h.State() != functionshost.Running {
		t.Errorf("state %s after two errors", h.State())
	}
}

// Exit code 0 is not restarted: the handler is gone and invocations fail.
func TestExitZeroNotRestarted(t *testing.T) {
	t.Parallel()
	h := start(t, functionshost.Options{})
	send(t, newRequest(t, "POST", h.URL+"/api/exit?code=0", nil))
	time.Sleep(300 * time.Millisecond)
	resp, _ := send(t, newRequest(t, "GET", h.URL+"/api/echo", nil))
	if resp.StatusCode != 500 {
		t.Errorf("after exit 0: %d, want 500", resp.StatusCode)
	}
	if n := len(h.Workers()); n != 1 || h.State() != functionshost.Running {
		t.Errorf("%d starts, state %s: want 1 start and no restart", n, h.State())
	}
}

// Exit code 200 asks for a restart, which never counts as an error.
func TestIntentionalRestartIsNotAnError(t *testing.T) {
	t.Parallel()
	h := start(t, functionshost.Options{})
	for i := 0; i < 4; i++ {
		send(t, newRequest(t, "POST", h.URL+"/api/exit?code=200", nil))
		waitStarts(t, h, i+2)
	}
	if resp, _ := send(t, newRequest(t, "GET", h.URL+"/api/echo", nil)); resp.StatusCode != 200 {
		t.Errorf("after four intentional restarts: %d", resp.StatusCode)
	}
}

// Three errors in a row stop the app.
func TestThreeErrorsStopTheApp(t *testing.T) {
	t.Parallel()
	h, err := functionshost.Start(fakeApp(t, 0o755), functionshost.Options{Env: []string{"FAKE_HANDLER=1", "FAKE_START_EXIT=4"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	if err := h.WaitState(functionshost.Stopped, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := h.WaitReady(time.Second); err == nil {
		t.Fatal("WaitReady succeeded on a stopped app")
	}
	ws := h.Workers()
	if len(ws) != 3 {
		t.Fatalf("%d starts, want 3", len(ws))
	}
	for _, w := range ws {
		if w.ExitCode != 4 || len(w.Stderr) != 1 || w.Port != h.HandlerPort {
			t.Errorf("start %+v, want exit 4 with one stderr line on port %d", w, h.HandlerPort)
		}
	}
	resp, _ := send(t, newRequest(t, "GET", h.URL+"/api/echo", nil))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a stopped app answered %d, want 503", resp.StatusCode)
	}
}

// An invocation past the function timeout fails, and the host kills the
// handler and starts it again without counting an error.
func TestFunctionTimeoutKillsAndRestarts(t *testing.T) {
	t.Parallel()
	h := start(t, functionshost.Options{FunctionTimeout: 300 * time.Millisecond})
	for i := 0; i < 3; i++ {
		resp, _ := send(t, newRequest(t, "GET", h.URL+"/api/sleep?for=20s", nil))
		if resp.StatusCode != 500 {
			t.Errorf("timed-out invocation: %d, want 500", resp.StatusCode)
		}
		waitStarts(t, h, i+2)
	}
	ws := h.Workers()
	if len(ws) != 4 {
		t.Fatalf("%d starts, want 4", len(ws))
	}
	for _, w := range ws[:3] {
		if !w.Killed {
			t.Errorf("start %+v was not killed by the host", w)
		}
	}
	if resp, _ := send(t, newRequest(t, "GET", h.URL+"/api/sleep?for=1ms", nil)); resp.StatusCode != 200 {
		t.Errorf("after the restarts: %d", resp.StatusCode)
	}
}

// A handler stored without its execute bit never starts: the package is
// read-only, so nothing can add the bit.
func TestNotExecutableNeverStarts(t *testing.T) {
	t.Parallel()
	h, err := functionshost.Start(fakeApp(t, 0o644), functionshost.Options{Env: []string{"FAKE_HANDLER=1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	err = h.WaitReady(2 * time.Second)
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("WaitReady = %v, want a failure to start naming permission denied", err)
	}
}

// A port held by someone else: the handler cannot listen; the host keeps
// the port for each restart and stops after three errors.
func TestTakenPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	h, err := functionshost.Start(fakeApp(t, 0o755), functionshost.Options{Env: []string{"FAKE_HANDLER=1"}, Port: port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	if err := h.WaitState(functionshost.Stopped, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, w := range h.Workers() {
		if w.Port != port || w.ExitCode != 1 || !bytes.Contains([]byte(strings.Join(w.Stderr, "\n")), []byte("address already in use")) {
			t.Errorf("start %+v", w)
		}
	}
}
