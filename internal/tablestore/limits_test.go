package tablestore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/tablestore"
	"github.com/invitegate/invitegate/internal/testutil/azurite"
)

// TestPropertySize writes values at Table Storage's 64 KiB limit for one
// string property (32,768 UTF-16 code units) to Azurite, and checks that
// one more is refused before anything is sent. The values written are
// ASCII: Azurite 3.35 garbles a multi-byte character that straddles 64 KiB
// of a request or response, so CheckSize alone proves the counting of
// surrogate pairs (TestCheckSizeCountsUTF16).
func TestPropertySize(t *testing.T) {
	s := newTable(t, azurite.Connection(t), tablestore.Options{})
	ctx := context.Background()
	const limit = 32 << 10
	emoji := strings.Repeat("😀", limit/2) // two UTF-16 code units each
	// {"a":"…"} adds 8 characters of JSON around the value.
	json := func(n int) map[string]string { return map[string]string{"a": strings.Repeat("x", n-8)} }
	for _, tc := range []struct {
		name string
		inv  invite.Invitation
		ok   bool
	}{
		{"note at the limit", invite.Invitation{Note: strings.Repeat("x", limit)}, true},
		{"note one over", invite.Invitation{Note: strings.Repeat("x", limit+1)}, false},
		{"note of surrogate pairs one over", invite.Invitation{Note: emoji + "x"}, false},
		{"prefill at the limit", invite.Invitation{Prefill: json(limit)}, true},
		{"prefill one over", invite.Invitation{Prefill: json(limit + 1)}, false},
		{"set one over", invite.Invitation{Set: json(limit + 1)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := tc.inv
			inv.Key = invite.Key{Subject: "jo@example.org", App: invite.AnyApp}
			inv.Status = invite.StatusPending
			s.Delete(ctx, inv.Key)
			if err := tablestore.CheckSize(inv); (err == nil) != tc.ok {
				t.Fatalf("CheckSize = %v, want ok %v", err, tc.ok)
			}
			writes := map[string]func() error{
				"Put":    func() error { return s.Put(ctx, inv) },
				"Create": func() error { return s.Create(ctx, inv) },
				"Update": func() error {
					return s.Update(ctx, inv.Key, func(*invite.Invitation) (*invite.Invitation, error) { return &inv, nil })
				},
			}
			for name, write := range writes {
				s.Delete(ctx, inv.Key)
				err := write()
				if tc.ok {
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					got, err := s.Get(ctx, inv.Key)
					if err != nil || got.Note != inv.Note || len(got.Prefill["a"]) != len(inv.Prefill["a"]) {
						t.Fatalf("%s: read back %d note characters, %v", name, len(got.Note), err)
					}
					continue
				}
				if !errors.Is(err, invite.ErrTooLarge) || errors.Is(err, invite.ErrUnavailable) || !strings.Contains(err.Error(), "32768") {
					t.Fatalf("%s = %v, want ErrTooLarge naming the limit", name, err)
				}
				if _, err := s.Get(ctx, inv.Key); !errors.Is(err, invite.ErrNotFound) {
					t.Fatalf("%s wrote a row that is too large: %v", name, err)
				}
			}
		})
	}
}

func TestCheckSizeCountsUTF16(t *testing.T) {
	k := invite.Key{Subject: "jo@example.org", App: invite.AnyApp}
	for note, ok := range map[string]bool{
		strings.Repeat("😀", 16384):       true,  // 32,768 code units in 65,536 UTF-8 bytes
		strings.Repeat("😀", 16384) + "x": false, // one more
		strings.Repeat("é", 32768):       true,  // 65,536 UTF-8 bytes, one code unit each
		strings.Repeat("€", 32768):       true,  // 98,304 UTF-8 bytes
	} {
		if err := tablestore.CheckSize(invite.Invitation{Key: k, Note: note}); (err == nil) != ok {
			t.Errorf("CheckSize of a %d-byte note = %v, want ok %v", len(note), err, ok)
		}
	}
}
