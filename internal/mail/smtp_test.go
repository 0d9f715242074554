package mail_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/invitegate/invitegate/internal/mail"
	"github.com/invitegate/invitegate/internal/testutil/mailpit"
)

var seq atomic.Int64

// address returns an address no other test uses, with the characters
// that need escaping in a link.
func address(local string) string {
	return fmt.Sprintf("%s.%d.%d@example.org", local, time.Now().UnixNano()%1e9, seq.Add(1))
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// loopbackConfig sends to a Mailpit on loopback.
func loopbackConfig(s *mailpit.Server) mail.Config {
	return mail.Config{Host: s.SMTPHost, Port: s.SMTPPort, From: "Contoso Invitations <invitations@contoso.example>", Timeout: 10 * time.Second}
}

// publicName gives cfg a host name that is not loopback, reached at the
// local server addr: the transport decides on the name, as it would for a
// real provider, while the bytes stay on this machine.
func publicName(cfg mail.Config, addr string) mail.Config {
	cfg.Host = "mail.example.test"
	cfg.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	return cfg
}

func message(t *testing.T, to string) mail.Message {
	t.Helper()
	tmpl, err := mail.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	c, err := tmpl.Render(mail.Data{Email: to, App: "Contoso Portal", AppID: "*", Link: "https://portal.contoso.example/signup?login_hint=" + url.QueryEscape(to), Expires: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return mail.Message{From: "Contoso Invitations <invitations@contoso.example>", To: to, Content: c}
}

var hrefPattern = regexp.MustCompile(`href="([^"]+)"`)

func TestSendArrives(t *testing.T) {
	s := mailpit.Shared(t)
	to := address("o'neil+x")
	sender := mail.NewSender(loopbackConfig(s), mail.SenderOptions{Rate: mail.Rate{Count: 100, Per: time.Second}})
	defer sender.Close()
	if _, err := sender.Send(ctx(t), message(t, to)); err != nil {
		t.Fatal(err)
	}
	got := s.To(t, to)
	if len(got) != 1 {
		t.Fatalf("%d messages arrived for %s, want 1", len(got), to)
	}
	m := got[0]
	if m.From.Address != "invitations@contoso.example" || m.From.Name != "Contoso Invitations" || m.Subject != "You're invited to Contoso Portal" {
		t.Errorf("arrived from %+v with subject %q", m.From, m.Subject)
	}
	for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
		if !strings.Contains(body, "1 February 2027") && !strings.Contains(body, "31 January 2027") {
			t.Errorf("the %s part does not name the expiry:\n%s", part, body)
		}
	}
	// The link in both parts gives the application the address itself.
	links := []string{regexp.MustCompile(`https://\S+`).FindString(m.Text)}
	for _, h := range hrefPattern.FindAllStringSubmatch(m.HTML, -1) {
		links = append(links, strings.ReplaceAll(h[1], "&amp;", "&"))
	}
	if len(links) < 2 {
		t.Fatalf("links found: %q\ntext:\n%s\nhtml:\n%s", links, m.Text, m.HTML)
	}
	for _, l := range links {
		u, err := url.Parse(l)
		if err != nil || u.Query().Get("login_hint") != to {
			t.Errorf("link %q: login_hint %q, want %q", l, u.Query().Get("login_hint"), to)
		}
	}
}

func TestSTARTTLSRequiredOffLoopback(t *testing.T) {
	s := mailpit.Start(t) // plain SMTP, no STARTTLS
	cfg := publicName(loopbackConfig(s), net.JoinHostPort(s.SMTPHost, strconv.Itoa(s.SMTPPort)))
	cfg.Username, cfg.Password = "someone", "s3cret-pw"
	sender := mail.NewSender(cfg, mail.SenderOptions{Rate: mail.Rate{Count: 100, Per: time.Second}, Retries: -1})
	defer sender.Close()
	_, err := sender.Send(ctx(t), message(t, address("jo")))
	var me *mail.Error
	if !errors.As(err, &me) || me.Stage != mail.StageTLS || me.Temporary || !me.AffectsAll() || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("sending to a public host without STARTTLS: %v, want a permanent TLS failure", err)
	}
	if n := s.Count(t); n != 0 {
		t.Fatalf("the server received %d messages in clear text", n)
	}
	// On loopback the same server is fine.
	if _, err := mail.NewSender(loopbackConfig(s), mail.SenderOptions{}).Send(ctx(t), message(t, address("jo"))); err != nil {
		t.Fatalf("loopback without STARTTLS: %v", err)
	}
}

// tlsFiles writes a self-signed certificate for mail.example.test and its
// key, and returns their paths and a pool that trusts it.
func tlsFiles(t *testing.T) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mail.example.test"},
		DNSNames: []string{"mail.example.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

// authFile writes a Mailpit password file with one user.
func authFile(t *testing.T, user, password string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "passwords")
	if err := os.WriteFile(f, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// tlsServer is a Mailpit that requires STARTTLS and a password, with a
// certificate for mail.example.test, reached under that name.
func tlsServer(t *testing.T, extra ...string) (*mailpit.Server, mail.Config) {
	certFile, keyFile, roots := tlsFiles(t)
	s := mailpit.Start(t, append([]string{"--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile,
		"--smtp-auth-file", authFile(t, "sender@contoso.example", "correct horse")}, extra...)...)
	cfg := publicName(loopbackConfig(s), net.JoinHostPort(s.SMTPHost, strconv.Itoa(s.SMTPPort)))
	cfg.RootCAs = roots
	cfg.Username, cfg.Password = "sender@contoso.example", "correct horse"
	return s, cfg
}

func TestSTARTTLSAndLogin(t *testing.T) {
	s, cfg := tlsServer(t, "--smtp-require-starttls")
	report, err := mail.Check(ctx(t), cfg)
	if err != nil || !strings.HasPrefix(report.TLS, "TLS 1.") || report.Auth == "" {
		t.Fatalf("Check = %+v, %v; want TLS and a sign-in", report, err)
	}
	if n := s.Count(t); n != 0 {
		t.Fatalf("Check sent %d messages", n)
	}
	to := address("amy")
	if _, err := mail.NewSender(cfg, mail.SenderOptions{}).Send(ctx(t), message(t, to)); err != nil {
		t.Fatal(err)
	}
	if got := s.To(t, to); len(got) != 1 {
		t.Fatalf("%d messages arrived over STARTTLS, want 1", len(got))
	}

	// A certificate nobody vouches for is refused.
	cfg.RootCAs = x509.NewCertPool()
	_, err = mail.Check(ctx(t), cfg)
	var me *mail.Error
	if !errors.As(err, &me) || me.Stage != mail.StageTLS || me.Temporary {
		t.Fatalf("Check with an untrusted certificate = %v, want a permanent TLS failure", err)
	}
}

func TestImplicitTLS(t *testing.T) {
	s, cfg := tlsServer(t, "--smtp-require-tls")
	cfg.ImplicitTLS = true
	to := address("bo")
	if _, err := mail.NewSender(cfg, mail.SenderOptions{}).Send(ctx(t), message(t, to)); err != nil {
		t.Fatal(err)
	}
	if got := s.To(t, to); len(got) != 1 {
		t.Fatalf("%d messages arrived over smtps, want 1", len(got))
	}
}

func TestLoginRefused(t *testing.T) {
	s, cfg := tlsServer(t)
	cfg.Password = "wrong horse"
	_, err := mail.NewSender(cfg, mail.SenderOptions{Retries: 3, Sleep: func(context.Context, time.Duration) error {
		t.Error("a refused login was retried")
		return nil
	}}).Send(ctx(t), message(t, address("cy")))
	var me *mail.Error
	if !errors.As(err, &me) || me.Stage != mail.StageLogin || me.Temporary || me.Code != 535 || !me.AffectsAll() {
		t.Fatalf("wrong password: %v (%+v), want a permanent 535 at login", err, me)
	}
	if strings.Contains(err.Error(), "wrong horse") {
		t.Errorf("the error shows the password: %v", err)
	}
	if n := s.Count(t); n != 0 {
		t.Fatalf("%d messages arrived without a sign-in", n)
	}
}

func TestRecipientRefused(t *testing.T) {
	s := mailpit.Start(t, "--smtp-allowed-recipients", `^ok\.`)
	sender := mail.NewSender(loopbackConfig(s), mail.SenderOptions{Rate: mail.Rate{Count: 100, Per: time.Second}, Sleep: func(context.Context, time.Duration) error {
		t.Error("a permanent failure was retried")
		return nil
	}})
	defer sender.Close()
	refused := address("no")
	res, err := sender.Send(ctx(t), message(t, refused))
	var me *mail.Error
	if !errors.As(err, &me) || me.Stage != mail.StageRecipient || me.Temporary || me.Code/100 != 5 || me.AffectsAll() || res.Attempts != 1 {
		t.Fatalf("refused recipient: %v after %d attempts, want one permanent 5xx at RCPT", err, res.Attempts)
	}
	if strings.Contains(err.Error(), refused) {
		t.Errorf("the error shows the address: %v", err)
	}
	// The connection carries on with the next message.
	ok := address("ok")
	if _, err := sender.Send(ctx(t), message(t, ok)); err != nil {
		t.Fatal(err)
	}
	if len(s.To(t, ok)) != 1 || len(s.To(t, refused)) != 0 {
		t.Fatalf("after a refused recipient: %d messages in all", s.Count(t))
	}
}

func TestNothingListening(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	var waits []time.Duration
	_, err = mail.NewSender(mail.Config{Host: "127.0.0.1", Port: port, From: "a@contoso.example"}, mail.SenderOptions{
		Retries: 2, Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil },
	}).Send(ctx(t), message(t, address("dee")))
	var me *mail.Error
	if !errors.As(err, &me) || me.Stage != mail.StageConnect || !me.Temporary || !me.AffectsAll() {
		t.Fatalf("nothing listening: %v", err)
	}
	if len(waits) != 2 || waits[0] != 2*time.Second || waits[1] != 8*time.Second {
		t.Fatalf("backoff waits %v, want [2s 8s]", waits)
	}
}
