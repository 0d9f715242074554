// Package mailtest is a scripted SMTP server for the failures a real
// server does not produce on demand: a recipient refused with a temporary
// failure that passes on retry, or refused every time. Happy paths are
// tested against a real server (internal/testutil/mailpit); this one
// serves the unit tests of retries and backoff.
package mailtest

import (
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message the server accepted.
type Received struct {
	From, To string
	Data     []byte
}

// Server is a scripted SMTP server on 127.0.0.1, without TLS.
type Server struct {
	// Host and Port are where it listens.
	Host string
	Port int

	mu       sync.Mutex
	replies  map[string][]int // recipient → codes for its next RCPT TO attempts
	attempts map[string]int   // recipient → RCPT TO attempts
	received []Received
	user     string
	password string
}

// Start starts a server that accepts every recipient until scripted
// otherwise, and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, replies: map[string][]int{}, attempts: map[string]int{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "mailtest.invalid"
	srv.AllowInsecureAuth = true // loopback only
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// RequireLogin makes the server offer AUTH PLAIN and accept only these
// credentials; a session that has not signed in cannot send.
func (s *Server) RequireLogin(user, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user, s.password = user, password
}

// Script sets the replies to the next RCPT TO attempts for recipient: one
// code per attempt, such as 451 (temporary) or 550 (permanent); 250, or
// running out of codes, accepts.
func (s *Server) Script(recipient string, codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies[strings.ToLower(recipient)] = codes
}

// Attempts returns how often RCPT TO named recipient.
func (s *Server) Attempts(recipient string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[strings.ToLower(recipient)]
}

// Received returns the messages accepted so far, in order.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

type session struct {
	s        *Server
	signedIn bool
	from, to string
}

var errNotSignedIn = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}

func (x *session) AuthMechanisms() []string {
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, password string) error {
		x.s.mu.Lock()
		defer x.s.mu.Unlock()
		if user != x.s.user || password != x.s.password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		x.signedIn = true
		return nil
	}), nil
}

func (x *session) mustSignIn() error {
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.user != "" && !x.signedIn {
		return errNotSignedIn
	}
	return nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if err := x.mustSignIn(); err != nil {
		return err
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s := x.s
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(to)
	s.attempts[key]++
	code := 250
	if q := s.replies[key]; len(q) > 0 {
		code, s.replies[key] = q[0], q[1:]
	}
	switch {
	case code >= 500:
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Recipient <" + to + "> refused"}
	case code >= 400:
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Try again later for <" + to + ">"}
	}
	x.to = to
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if x.to == "" {
		return errors.New("no recipient")
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.received = append(x.s.received, Received{From: x.from, To: x.to, Data: b})
	return nil
}

func (x *session) Reset() { x.from, x.to = "", "" }

func (x *session) Logout() error { return nil }
