package main

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invite/invitetest"
	"github.com/invitegate/invitegate/internal/tablestore"
)

// flakyStore fails every write after the first okWrites, as a store that
// goes away in the middle of an import.
type flakyStore struct {
	*invitetest.Memory
	okWrites int64
	writes   atomic.Int64
}

func (s *flakyStore) write() error {
	if s.writes.Add(1) > s.okWrites {
		return fmt.Errorf("%w: HTTP 503 ServerBusy", invite.ErrUnavailable)
	}
	return nil
}

func (s *flakyStore) Create(ctx context.Context, inv invite.Invitation) error {
	if err := s.write(); err != nil {
		return err
	}
	return s.Memory.Create(ctx, inv)
}

func (s *flakyStore) Update(ctx context.Context, k invite.Key, fn func(*invite.Invitation) (*invite.Invitation, error)) error {
	return s.Memory.Update(ctx, k, func(cur *invite.Invitation) (*invite.Invitation, error) {
		next, err := fn(cur)
		if next == nil || err != nil {
			return next, err
		}
		return next, s.write()
	})
}

// runWith runs invitectl on store s, in process.
func runWith(s invite.AdminStore, stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	c := &cli{ctx: context.Background(), getenv: func(string) string { return "" }, stdin: strings.NewReader(stdin),
		stdout: &out, stderr: &errOut, now: time.Now,
		openStore: func(tablestore.Settings) (invite.AdminStore, error) { return s, nil }}
	code = c.main(append(args, "--connection", "UseDevelopmentStorage=true"))
	return code, out.String(), errOut.String()
}

func TestImportFailureThenRerun(t *testing.T) {
	const n = 500
	var in strings.Builder
	in.WriteString("email,note,prefill.givenName\n")
	for i := range n {
		fmt.Fprintf(&in, "user%03d@example.org,note %d,Name %d\n", i, i, i)
	}
	mem := invitetest.NewMemory()
	code, out, errOut := runWith(&flakyStore{Memory: mem, okWrites: 200}, in.String(), "import", "-")
	if code != exitFailure || !strings.Contains(out, "stopped: ") || !strings.Contains(errOut, "ServerBusy") {
		t.Fatalf("import with a failing store: exit %d\n%s%s", code, out, errOut)
	}
	check := func(want int) {
		t.Helper()
		got := 0
		mem.List(context.Background(), "", func(inv invite.Invitation) error {
			got++
			var i int
			fmt.Sscanf(inv.Subject, "user%03d@", &i)
			if inv.Note != fmt.Sprintf("note %d", i) || !reflect.DeepEqual(inv.Prefill, map[string]string{"givenName": fmt.Sprintf("Name %d", i)}) {
				t.Errorf("half-written row %+v", inv)
			}
			return nil
		})
		if got != want {
			t.Fatalf("%d rows stored, want %d", got, want)
		}
	}
	check(200)

	code, out, errOut = runWith(mem, in.String(), "import", "-")
	if want := "imported 500 rows: 300 new, 0 updated, 200 unchanged\n"; code != exitOK || out != want {
		t.Fatalf("re-run: exit %d, %q %s; want %q", code, out, errOut, want)
	}
	check(n)
}

func TestImportInterrupted(t *testing.T) {
	var in strings.Builder
	in.WriteString("email\n")
	for i := range 300 {
		fmt.Fprintf(&in, "user%03d@example.org\n", i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	mem := invitetest.NewMemory()
	slow := &slowStore{Memory: mem, cancelAfter: 50, cancel: cancel}
	var out, errOut bytes.Buffer
	c := &cli{ctx: ctx, getenv: func(string) string { return "" }, stdin: strings.NewReader(in.String()), stdout: &out, stderr: &errOut, now: time.Now,
		openStore: func(tablestore.Settings) (invite.AdminStore, error) { return slow, nil }}
	code := c.main([]string{"import", "-", "--connection", "UseDevelopmentStorage=true"})
	if code != exitFailure || !strings.Contains(out.String(), "interrupted after") || !strings.Contains(out.String(), "run the same import again") {
		t.Fatalf("interrupted import: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if code, out, _ := runWith(mem, in.String(), "import", "-"); code != exitOK || !strings.Contains(out, "imported 300 rows") {
		t.Fatalf("re-run after an interruption: exit %d, %s", code, out)
	}
}

// slowStore cancels the command's context after a number of writes, as
// Ctrl-C does, and fails writes once it is canceled.
type slowStore struct {
	*invitetest.Memory
	cancelAfter int64
	writes      atomic.Int64
	cancel      func()
}

func (s *slowStore) Create(ctx context.Context, inv invite.Invitation) error {
	if s.writes.Add(1) == s.cancelAfter {
		s.cancel()
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: creating the invitation: canceled", invite.ErrUnavailable) // as tablestore says it
	}
	return s.Memory.Create(ctx, inv)
}

func TestImportNoStdin(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"import", "-", "--connection", "UseDevelopmentStorage=true"}, func(string) string { return "" }, nil, &out, &errOut)
	if code != exitUsage || !strings.Contains(errOut.String(), "line 1: the file is empty") {
		t.Fatalf("import - without standard input: exit %d, %q", code, errOut.String())
	}
}
