package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/invitegate/invitegate/internal/testutil/azurite"
	"github.com/invitegate/invitegate/internal/testutil/logbuf"
)

// Lines at warn and above go to stderr, the rest to stdout, one whole line
// per write.
func TestLoggerSplitsBySeverity(t *testing.T) {
	var stdout, stderr logbuf.Buffer
	log := newLogger(&stdout, &stderr, zerolog.DebugLevel)
	log.Debug().Msg("d")
	log.Info().Msg("i")
	log.Warn().Msg("w")
	log.Error().Msg("e")
	log.Log().Msg("no level")
	levels := func(s string) []string {
		var out []string
		for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
			var l struct{ Level, Message string }
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				t.Fatalf("not a JSON line: %q", line)
			}
			out = append(out, l.Level+":"+l.Message)
		}
		return out
	}
	if got, want := strings.Join(levels(stdout.String()), " "), "debug:d info:i :no level"; got != want {
		t.Errorf("stdout has %s, want %s", got, want)
	}
	if got, want := strings.Join(levels(stderr.String()), " "), "warn:w error:e"; got != want {
		t.Errorf("stderr has %s, want %s", got, want)
	}
}

// What net/http itself complains about reaches stderr as a JSON warn line
// of the gate's log, not as bare text.
func TestServerErrorLogIsJSON(t *testing.T) {
	var stdout, stderr logbuf.Buffer
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
		w.WriteHeader(http.StatusOK) // net/http logs "superfluous response.WriteHeader call"
	}))
	srv.Config.ErrorLog = serverErrorLog(newLogger(&stdout, &stderr, zerolog.InfoLevel))
	srv.Start()
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var l struct{ Level, Source, Message string }
	if err := json.Unmarshal([]byte(strings.TrimSpace(stderr.String())), &l); err != nil {
		t.Fatalf("stderr is not one JSON line: %q", stderr.String())
	}
	if l.Level != "warn" || l.Source != "net/http" || !strings.Contains(l.Message, "superfluous") {
		t.Errorf("stderr has %+v", l)
	}
	if stdout.String() != "" {
		t.Errorf("net/http's complaint went to stdout: %s", stdout.String())
	}
}

// While the gate runs normally, and when net/http answers a malformed
// request itself, stderr holds only JSON warn and error lines.
func TestStderrHoldsOnlyWarningsAndErrors(t *testing.T) {
	conn := azurite.Connection(t)
	env := map[string]string{
		"INVITATIONS_CONNECTION": conn, "INVITATIONS_TABLE": seedTable(t, conn),
		"ENTRA_AUTH": "off", "FUNCTIONS_CUSTOMHANDLER_PORT": "0",
	}
	var stdout, stderr logbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, envFunc(env), &stdout, &stderr) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		sc := bufio.NewScanner(strings.NewReader(stdout.String()))
		for sc.Scan() {
			var l struct{ Message, Addr string }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Message == "listening" {
				addr = l.Addr
			}
		}
	}
	if addr == "" {
		t.Fatalf("the handler did not start:\nstdout %s\nstderr %s", stdout.String(), stderr.String())
	}
	for _, fixture := range []string{"start-email-otp.json", "submit-email-password.json", "start-not-invited.json"} {
		route := "/api/attributeStart"
		if strings.HasPrefix(fixture, "submit") {
			route = "/api/attributeSubmit"
		}
		if status, body := post(t, "http://"+addr+route, fixture); status != http.StatusOK {
			t.Fatalf("%s: %d %s", fixture, status, body)
		}
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("NOT HTTP\r\n\r\n"))
	io.Copy(io.Discard, c)
	c.Close()

	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	for _, line := range lines {
		var l struct{ Level, Message string }
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Errorf("stderr holds a line that is not JSON: %q", line)
			continue
		}
		if l.Level != "warn" && l.Level != "error" {
			t.Errorf("stderr holds a %q line: %s", l.Level, line)
		}
	}
	// ENTRA_AUTH=off warns once; nothing else went wrong.
	if len(lines) != 1 || !strings.Contains(lines[0], "ENTRA_AUTH=off") {
		t.Errorf("stderr has %d lines, want only the ENTRA_AUTH=off warning:\n%s", len(lines), stderr.String())
	}
	if !strings.Contains(stdout.String(), `"message":"decision"`) {
		t.Errorf("the decisions are not on stdout:\n%s", stdout.String())
	}
}
