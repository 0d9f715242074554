package tablestore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invite/invitetest"
	"github.com/invitegate/invitegate/internal/tablestore"
	"github.com/invitegate/invitegate/internal/testutil/azurite"
)

var tableSeq atomic.Int64

// newTable opens a store on a fresh table of the shared Azurite.
func newTable(t *testing.T, conn string, o tablestore.Options) *tablestore.Store {
	t.Helper()
	name := fmt.Sprintf("t%d%d", time.Now().UnixNano()%1e9, tableSeq.Add(1))
	s, err := tablestore.Open(tablestore.Settings{Connection: conn, Table: name}, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Init(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	conn := azurite.Connection(t)
	invitetest.Run(t, func(t *testing.T) invite.Store { return newTable(t, conn, tablestore.Options{}) })
}

func TestMemoryConformance(t *testing.T) {
	invitetest.Run(t, func(t *testing.T) invite.Store { return invitetest.NewMemory() })
}

func TestTableMissing(t *testing.T) {
	conn := azurite.Connection(t)
	s, err := tablestore.Open(tablestore.Settings{Connection: conn, Table: "nosuchtable"}, tablestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Match(context.Background(), "jo@example.org", "")
	if !errors.Is(err, invite.ErrTableMissing) || !errors.Is(err, invite.ErrUnavailable) {
		t.Fatalf("Match on a missing table = %v, want ErrTableMissing", err)
	}
	if !strings.Contains(err.Error(), "invitectl init") {
		t.Errorf("error does not say how to fix it: %v", err)
	}
	if strings.Contains(err.Error(), "jo@example.org") {
		t.Errorf("error leaks the email address: %v", err)
	}
}

func TestStoreDownIsUnavailable(t *testing.T) {
	port := azurite.FreePort(t) // nothing listens there
	s, err := tablestore.Open(tablestore.Settings{Connection: azurite.ConnectionString(port)}, tablestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err = s.Match(ctx, "jo@example.org", "")
	if !errors.Is(err, invite.ErrUnavailable) {
		t.Fatalf("Match with the store down = %v, want ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), "jo@example.org") || strings.Contains(err.Error(), "jo%40example.org") {
		t.Errorf("error leaks the email address: %v", err)
	}
}

func TestDomainCopyRefreshes(t *testing.T) {
	conn := azurite.Connection(t)
	now := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	var clock atomic.Pointer[time.Time]
	clock.Store(&now)
	s := newTable(t, conn, tablestore.Options{DomainRefresh: 30 * time.Second, Now: func() time.Time { return *clock.Load() }})
	ctx := context.Background()
	if _, err := s.Match(ctx, "amy@example.org", ""); err != nil { // loads an empty copy
		t.Fatal(err)
	}
	if err := s.Put(ctx, invite.Invitation{Key: invite.Key{Subject: "@example.org", App: invite.AnyApp}, Status: invite.StatusPending}); err != nil {
		t.Fatal(err)
	}
	m, err := s.Match(ctx, "amy@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	if m.DomainAny != nil {
		t.Fatal("a fresh copy was reloaded on every request; the domain copy should be reused")
	}
	// Past three refresh intervals without a reload, the copy is reloaded
	// before it is trusted.
	later := now.Add(91 * time.Second)
	clock.Store(&later)
	m, err = s.Match(ctx, "amy@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	if m.DomainAny == nil {
		t.Fatal("a stale domain copy was trusted")
	}
	// The address level is always live: a revocation applies at once.
	if err := s.Put(ctx, invite.Invitation{Key: invite.Key{Subject: "amy@example.org", App: invite.AnyApp}, Status: invite.StatusRevoked}); err != nil {
		t.Fatal(err)
	}
	m, err = s.Match(ctx, "amy@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	if m.AddressAny == nil || m.AddressAny.Status != invite.StatusRevoked {
		t.Fatalf("address revocation not read live: %+v", m.AddressAny)
	}
}

func TestRefreshDomainsLoop(t *testing.T) {
	conn := azurite.Connection(t)
	s := newTable(t, conn, tablestore.Options{DomainRefresh: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.RefreshDomains(ctx, func(err error) { t.Errorf("refresh: %v", err) })
	if err := s.Put(ctx, invite.Invitation{Key: invite.Key{Subject: "@example.org", App: invite.AnyApp}, Status: invite.StatusPending}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if n, _ := s.Domains(); n == 1 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the refresh loop never picked up the new domain invitation")
}
