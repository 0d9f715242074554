package mail

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Rate is a sending rate: Count messages per Per.
type Rate struct {
	Count int
	Per   time.Duration
}

// DefaultRate suits Azure Communication Services Email's initial limits
// for a custom domain: 30 messages a minute and 100 an hour per
// subscription (service limits, "Email"). Over the hourly limit the server
// answers with a temporary failure, which is retried with backoff.
var DefaultRate = Rate{Count: 30, Per: time.Minute}

var ratePattern = regexp.MustCompile(`^(\d+)\s*/\s*(s|m|h|sec|min|hour)$`)

// ParseRate reads a rate as people write it: 30/m, 2/s or 100/h.
func ParseRate(s string) (Rate, error) {
	m := ratePattern.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return Rate{}, fmt.Errorf("%q is not a rate: use a count per second, minute or hour, such as 30/m, 2/s or 100/h", s)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 || n > 100000 {
		return Rate{}, fmt.Errorf("%q: the count must be 1 to 100000", s)
	}
	per := map[string]time.Duration{"s": time.Second, "sec": time.Second, "m": time.Minute, "min": time.Minute, "h": time.Hour, "hour": time.Hour}[m[2]]
	return Rate{Count: n, Per: per}, nil
}

func (r Rate) String() string {
	unit := map[time.Duration]string{time.Second: "s", time.Minute: "m", time.Hour: "h"}[r.Per]
	if unit == "" {
		return fmt.Sprintf("%d per %v", r.Count, r.Per)
	}
	return fmt.Sprintf("%d/%s", r.Count, unit)
}

// Interval is the time between two messages at this rate.
func (r Rate) Interval() time.Duration { return r.Per / time.Duration(r.Count) }

// SenderOptions tune a Sender.
type SenderOptions struct {
	// Rate limits how fast messages go out (DefaultRate when zero).
	// Retries count: every attempt waits its turn.
	Rate Rate
	// Retries is how often a temporary failure is tried again (default 3;
	// negative for none).
	Retries int
	// Backoff is the wait before the first retry; each retry waits four
	// times longer than the one before (default 2s: 2s, 8s, 32s).
	Backoff time.Duration
	// Sleep waits d or until ctx ends (tests replace it).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Sender sends messages one at a time over one connection, at a limited
// rate, retrying temporary failures. It is not safe for concurrent use.
type Sender struct {
	cfg     Config
	opt     SenderOptions
	limiter *rate.Limiter
	client  *Client
}

// NewSender returns a Sender. It connects on the first Send.
func NewSender(cfg Config, o SenderOptions) *Sender {
	if o.Rate.Count <= 0 || o.Rate.Per <= 0 {
		o.Rate = DefaultRate
	}
	if o.Retries == 0 {
		o.Retries = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = 2 * time.Second
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return &Sender{cfg: cfg, opt: o, limiter: rate.NewLimiter(rate.Every(o.Rate.Interval()), 1)}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Result says how a Send went.
type Result struct {
	// Attempts is how many times the message was tried.
	Attempts int
}

// Send sends m and returns nil once the server accepted it. A temporary
// failure (a 4xx reply, a dropped connection) is tried again after a
// backoff, on a new connection when the old one broke; a permanent one
// (5xx) is not. The error is an *Error; when its AffectsAll is true, no
// other message can be sent either.
func (s *Sender) Send(ctx context.Context, m Message) (Result, error) {
	var res Result
	for {
		if err := s.limiter.Wait(ctx); err != nil {
			return res, classify(StageConnect, ctx.Err(), false)
		}
		res.Attempts++
		err := s.attempt(ctx, m)
		if err == nil {
			return res, nil
		}
		var me *Error
		if !errors.As(err, &me) || !me.Temporary || ctx.Err() != nil || res.Attempts > s.opt.Retries {
			return res, err
		}
		wait := s.opt.Backoff
		for i := 1; i < res.Attempts; i++ {
			wait *= 4
		}
		if serr := s.opt.Sleep(ctx, wait); serr != nil {
			return res, err
		}
	}
}

func (s *Sender) attempt(ctx context.Context, m Message) error {
	if s.client != nil && s.client.Broken() {
		s.client.Close()
		s.client = nil
	}
	if s.client == nil {
		c, err := Dial(ctx, s.cfg)
		if err != nil {
			return err
		}
		s.client = c
	}
	return s.client.Send(ctx, m)
}

// Close ends the connection, if one is open.
func (s *Sender) Close() error {
	if s.client == nil {
		return nil
	}
	err := s.client.Close()
	s.client = nil
	return err
}
