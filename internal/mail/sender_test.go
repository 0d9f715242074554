package mail_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/mail"
	"github.com/invitegate/invitegate/internal/mail/mailtest"
)

func scripted(t *testing.T) (*mailtest.Server, mail.Config) {
	s := mailtest.Start(t)
	return s, mail.Config{Host: s.Host, Port: s.Port, From: "invitations@contoso.example", Timeout: 10 * time.Second}
}

// recordSleep records the backoff waits instead of waiting.
func recordSleep(waits *[]time.Duration) func(context.Context, time.Duration) error {
	return func(_ context.Context, d time.Duration) error {
		*waits = append(*waits, d)
		return nil
	}
}

func TestTemporaryFailureRetried(t *testing.T) {
	s, cfg := scripted(t)
	to := "jo@example.org"
	s.Script(to, 451, 421) // 421: the server also drops the connection
	var waits []time.Duration
	sender := mail.NewSender(cfg, mail.SenderOptions{Rate: mail.Rate{Count: 1000, Per: time.Second}, Sleep: recordSleep(&waits)})
	defer sender.Close()
	res, err := sender.Send(ctx(t), message(t, to))
	if err != nil || res.Attempts != 3 {
		t.Fatalf("Send = %d attempts, %v; want success on the third", res.Attempts, err)
	}
	if got := s.Received(); len(got) != 1 || got[0].To != to {
		t.Fatalf("received %d messages, want exactly 1", len(got))
	}
	if len(waits) != 2 || waits[0] != 2*time.Second || waits[1] != 8*time.Second {
		t.Errorf("waits %v, want [2s 8s]", waits)
	}
}

func TestTemporaryFailureGivesUp(t *testing.T) {
	s, cfg := scripted(t)
	to := "jo@example.org"
	s.Script(to, 451, 451, 451, 451, 451)
	var waits []time.Duration
	res, err := mail.NewSender(cfg, mail.SenderOptions{Rate: mail.Rate{Count: 1000, Per: time.Second}, Sleep: recordSleep(&waits)}).Send(ctx(t), message(t, to))
	var me *mail.Error
	if !errors.As(err, &me) || !me.Temporary || me.Code != 451 || me.Enhanced != "4.7.1" || me.Stage != mail.StageRecipient || res.Attempts != 4 {
		t.Fatalf("Send = %d attempts, %v; want a temporary 451 after 4 attempts", res.Attempts, err)
	}
	if s.Attempts(to) != 4 || len(s.Received()) != 0 {
		t.Fatalf("server saw %d attempts and %d messages", s.Attempts(to), len(s.Received()))
	}
	if strings.Contains(err.Error(), to) {
		t.Errorf("the error shows the address: %v", err)
	}
}

func TestPermanentFailureNotRetried(t *testing.T) {
	s, cfg := scripted(t)
	s.Script("gone@example.org", 550)
	sender := mail.NewSender(cfg, mail.SenderOptions{Rate: mail.Rate{Count: 1000, Per: time.Second}, Sleep: func(context.Context, time.Duration) error {
		t.Error("a permanent failure was retried")
		return nil
	}})
	defer sender.Close()
	res, err := sender.Send(ctx(t), message(t, "gone@example.org"))
	var me *mail.Error
	if !errors.As(err, &me) || me.Temporary || me.Code != 550 || res.Attempts != 1 || s.Attempts("gone@example.org") != 1 {
		t.Fatalf("Send = %d attempts, %v; want one permanent 550", res.Attempts, err)
	}
	if _, err := sender.Send(ctx(t), message(t, "here@example.org")); err != nil {
		t.Fatalf("the next recipient after a refused one: %v", err)
	}
}

func TestLoginRequired(t *testing.T) {
	s, cfg := scripted(t)
	s.RequireLogin("sender", "pw")
	if _, err := mail.NewSender(cfg, mail.SenderOptions{Retries: -1}).Send(ctx(t), message(t, "jo@example.org")); err == nil {
		t.Fatal("sent without signing in")
	}
	cfg.Username, cfg.Password = "sender", "pw" // PLAIN in clear text: loopback only
	if _, err := mail.NewSender(cfg, mail.SenderOptions{}).Send(ctx(t), message(t, "jo@example.org")); err != nil {
		t.Fatalf("signed in on loopback: %v", err)
	}
}

func TestRateLimit(t *testing.T) {
	_, cfg := scripted(t)
	sender := mail.NewSender(cfg, mail.SenderOptions{Rate: mail.Rate{Count: 5, Per: time.Second}})
	defer sender.Close()
	start := time.Now()
	for range 5 {
		if _, err := sender.Send(ctx(t), message(t, "jo@example.org")); err != nil {
			t.Fatal(err)
		}
	}
	// Five messages at 5/s: four intervals of 200ms at least. Only the
	// lower bound is checked: a busy machine is slower, never faster.
	if took := time.Since(start); took < 780*time.Millisecond {
		t.Fatalf("5 messages at 5/s took %v, want at least 800ms", took)
	}
}

func TestInterruptedWhileWaiting(t *testing.T) {
	s, cfg := scripted(t)
	s.Script("jo@example.org", 451, 451)
	c, cancel := context.WithCancel(context.Background())
	sender := mail.NewSender(cfg, mail.SenderOptions{Rate: mail.Rate{Count: 1000, Per: time.Second}, Sleep: func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}})
	defer sender.Close()
	if _, err := sender.Send(c, message(t, "jo@example.org")); err == nil || len(s.Received()) != 0 {
		t.Fatalf("interrupted during backoff: %v, %d received", err, len(s.Received()))
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]mail.Rate{
		"30/m": {30, time.Minute}, "2/s": {2, time.Second}, "100/h": {100, time.Hour}, " 5 / min ": {5, time.Minute},
	} {
		got, err := mail.ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "30", "0/s", "-1/s", "30/d", "x/m", "1000000/s"} {
		if _, err := mail.ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted it", in)
		}
	}
	if got := mail.DefaultRate.String(); got != "30/m" {
		t.Errorf("DefaultRate = %s", got)
	}
	if got := (mail.Rate{Count: 30, Per: time.Minute}).Interval(); got != 2*time.Second {
		t.Errorf("30/m interval = %v", got)
	}
}
