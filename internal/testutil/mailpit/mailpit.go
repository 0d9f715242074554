// Package mailpit starts Mailpit (a real SMTP server that keeps what it
// receives and serves it over an HTTP API) for tests, and reads the
// messages it received.
//
// Tests find Mailpit in this order: INVITEGATE_TEST_SMTP (host:port of a
// running Mailpit's SMTP server) with INVITEGATE_TEST_MAILPIT_API (its API
// base URL), both set by scripts/test.sh; or the binary scripts/test.sh
// installs in tools/bin (MAILPIT_BIN overrides the path), started privately
// for the test. When neither is there, tests skip, except under CI=true,
// where they fail.
package mailpit

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/testutil/tooldir"
)

// Server is a running Mailpit.
type Server struct {
	// SMTPHost and SMTPPort are where its SMTP server listens.
	SMTPHost string
	SMTPPort int
	// API is the base URL of its HTTP API, such as http://127.0.0.1:8025.
	API string
}

// Shared returns the Mailpit of scripts/test.sh, or a private one started
// for this test. Tests that share it must use addresses of their own.
func Shared(t testing.TB) *Server {
	t.Helper()
	smtpAddr, api := os.Getenv("INVITEGATE_TEST_SMTP"), os.Getenv("INVITEGATE_TEST_MAILPIT_API")
	if smtpAddr == "" || api == "" {
		return Start(t)
	}
	host, port, err := net.SplitHostPort(smtpAddr)
	if err != nil {
		t.Fatalf("INVITEGATE_TEST_SMTP %q: %v", smtpAddr, err)
	}
	p, _ := strconv.Atoi(port)
	return &Server{SMTPHost: host, SMTPPort: p, API: strings.TrimRight(api, "/")}
}

// Binary returns the path of the mailpit executable, or skips the test
// (fails it under CI) when it is not installed.
func Binary(t testing.TB) string {
	t.Helper()
	return tooldir.Binary(t, "MAILPIT_BIN", "tools/bin/mailpit", "Mailpit is not installed: run scripts/test.sh (it installs it into tools/bin)")
}

func freePort(t testing.TB) int {
	t.Helper()
	p, err := tooldir.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Start starts a private Mailpit on free loopback ports with extra
// command-line flags (such as --smtp-auth-file or --smtp-tls-cert), and
// stops it when the test ends.
func Start(t testing.TB, flags ...string) *Server {
	t.Helper()
	bin := Binary(t)
	for attempt := 0; ; attempt++ {
		s := &Server{SMTPHost: "127.0.0.1", SMTPPort: freePort(t)}
		httpPort := freePort(t)
		s.API = "http://127.0.0.1:" + strconv.Itoa(httpPort)
		args := append([]string{
			"--smtp", net.JoinHostPort(s.SMTPHost, strconv.Itoa(s.SMTPPort)),
			"--listen", "127.0.0.1:" + strconv.Itoa(httpPort),
			"--database", filepath.Join(t.TempDir(), "mailpit.db"),
			"--max", "0", "--disable-version-check", "--smtp-disable-rdns", "--quiet",
		}, flags...)
		cmd := exec.Command(bin, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting Mailpit: %v", err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		stop := func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if err := s.waitReady(done); err != nil {
			stop()
			if attempt < 2 { // a port taken meanwhile: try others
				continue
			}
			t.Fatalf("Mailpit did not start: %v\n%s", err, out.String())
		}
		t.Cleanup(stop)
		return s
	}
}

func (s *Server) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("it exited")
		default:
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort(s.SMTPHost, strconv.Itoa(s.SMTPPort)), 200*time.Millisecond)
		if err == nil {
			c.Close()
			if resp, err := http.Get(s.API + "/api/v1/messages?limit=1"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("not listening within 20s")
}

// Address is a name and an address, as Mailpit reports them.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Message is a received message as Mailpit parsed it.
type Message struct {
	ID      string    `json:"ID"`
	From    Address   `json:"From"`
	To      []Address `json:"To"`
	Subject string    `json:"Subject"`
	Text    string    `json:"Text"`
	HTML    string    `json:"HTML"`
}

func (s *Server) getJSON(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := http.Get(s.API + path)
	if err != nil {
		t.Fatalf("Mailpit API: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("Mailpit API %s: HTTP %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("Mailpit API %s: %v", path, err)
	}
}

// To returns every message addressed to exactly to (To header), with
// their text and HTML parts, oldest first.
func (s *Server) To(t testing.TB, to string) []Message {
	t.Helper()
	var list struct {
		Messages []Message `json:"messages"`
	}
	s.getJSON(t, "/api/v1/search?limit=1000&query="+url.QueryEscape(`to:"`+to+`"`), &list)
	var out []Message
	for i := len(list.Messages) - 1; i >= 0; i-- { // the API lists newest first
		m := list.Messages[i]
		for _, a := range m.To {
			if strings.EqualFold(a.Address, to) {
				var full Message
				s.getJSON(t, "/api/v1/message/"+url.PathEscape(m.ID), &full)
				out = append(out, full)
				break
			}
		}
	}
	return out
}

// Count returns how many messages the server holds.
func (s *Server) Count(t testing.TB) int {
	t.Helper()
	var list struct {
		Total int `json:"total"`
	}
	s.getJSON(t, "/api/v1/messages?limit=1", &list)
	return list.Total
}
