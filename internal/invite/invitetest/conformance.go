package invitetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
)

// Run is the conformance suite of invite.Store. newStore must return an
// empty, initialised store of its own for every call (for Table Storage, a
// fresh table), so that subtests do not see each other's rows.
func Run(t *testing.T, newStore func(t *testing.T) invite.Store) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s invite.Store)
	}{
		{"GetMissing", testGetMissing},
		{"PutGetRoundTrip", testPutGet},
		{"PutReplaces", testPutReplaces},
		{"SetStatus", testSetStatus},
		{"Delete", testDelete},
		{"ListOrderAndPrefix", testList},
		{"MatchLevels", testMatchLevels},
		{"MatchUnknownApp", testMatchUnknownApp},
		{"MatchKeyWithQuote", testMatchQuote},
		{"RedeemAddress", testRedeemAddress},
		{"RedeemKeepsRevoked", testRedeemKeepsRevoked},
		{"RedeemDomainPerAddress", testRedeemDomain},
		{"RedeemConcurrent", testRedeemConcurrent},
		{"RedeemDeleted", testRedeemDeleted},
		{"InitIdempotent", testInit},
		{"ApprovalsMatched", testApprovals},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore(t))
		})
	}
}

var (
	appA = "5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f"
	appB = "0c9b8a7d-3333-4c5d-9e8f-2b3c4d5e6f70"
	t0   = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func put(t *testing.T, s invite.Store, invs ...invite.Invitation) {
	t.Helper()
	for _, inv := range invs {
		if err := s.Put(ctx(t), inv); err != nil {
			t.Fatalf("Put(%s): %v", inv.Key, err)
		}
	}
}

func pending(subject, app string) invite.Invitation {
	return invite.Invitation{Key: invite.Key{Subject: subject, App: app}, Status: invite.StatusPending, Created: t0}
}

func testGetMissing(t *testing.T, s invite.Store) {
	_, err := s.Get(ctx(t), invite.Key{Subject: "nobody@example.org", App: invite.AnyApp})
	if !errors.Is(err, invite.ErrNotFound) {
		t.Fatalf("Get(missing) = %v, want ErrNotFound", err)
	}
}

func testPutGet(t *testing.T, s invite.Store) {
	want := invite.Invitation{
		Key:     invite.Key{Subject: "jo.bloggs@example.org", App: appA},
		Status:  invite.StatusPending,
		Expires: t0.AddDate(0, 1, 0),
		Created: t0,
		Note:    "Partner programme, cohort 3 — «café»",
		Prefill: map[string]string{"givenName": "Jo", "extension_abc_MemberYear": "2024"},
		Set:     map[string]string{"companyName": "Example Ltd"},
	}
	put(t, s, want)
	got, err := s.Get(ctx(t), want.Key)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Get after Put:\n got %+v\nwant %+v", got, want)
	}
}

func testPutReplaces(t *testing.T, s invite.Store) {
	k := invite.Key{Subject: "jo@example.org", App: invite.AnyApp}
	put(t, s, invite.Invitation{Key: k, Status: invite.StatusRevoked, Note: "old", Prefill: map[string]string{"city": "Leeds"}})
	put(t, s, invite.Invitation{Key: k, Status: invite.StatusPending, Note: "new"})
	got, err := s.Get(ctx(t), k)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != invite.StatusPending || got.Note != "new" || got.Prefill != nil {
		t.Fatalf("after replace: %+v, want pending, note new, no prefill", got)
	}
}

func testSetStatus(t *testing.T, s invite.Store) {
	inv := pending("jo@example.org", invite.AnyApp)
	inv.Note = "keep me"
	put(t, s, inv)
	if err := s.SetStatus(ctx(t), inv.Key, invite.StatusRevoked); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx(t), inv.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != invite.StatusRevoked || got.Note != "keep me" {
		t.Fatalf("after SetStatus: %+v", got)
	}
	err = s.SetStatus(ctx(t), invite.Key{Subject: "nobody@example.org", App: invite.AnyApp}, invite.StatusRevoked)
	if !errors.Is(err, invite.ErrNotFound) {
		t.Fatalf("SetStatus(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx(t), invite.Key{Subject: "nobody@example.org", App: invite.AnyApp}); !errors.Is(err, invite.ErrNotFound) {
		t.Fatalf("SetStatus(missing) created a row: Get = %v", err)
	}
}

func testDelete(t *testing.T, s invite.Store) {
	inv := pending("jo@example.org", appA)
	put(t, s, inv)
	if err := s.Delete(ctx(t), inv.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx(t), inv.Key); !errors.Is(err, invite.ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx(t), inv.Key); !errors.Is(err, invite.ErrNotFound) {
		t.Fatalf("Delete(missing) = %v, want ErrNotFound", err)
	}
}

func keys(t *testing.T, s invite.Store, prefix string) []string {
	t.Helper()
	var out []string
	err := s.List(ctx(t), prefix, func(inv invite.Invitation) error {
		out = append(out, inv.Subject+" "+inv.App)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func testList(t *testing.T, s invite.Store) {
	put(t, s,
		pending("zed@example.org", invite.AnyApp),
		pending("@example.org", invite.AnyApp),
		pending("amy@example.org", appA),
		pending("amy@example.org", invite.AnyApp),
		pending("bob@other.test", invite.AnyApp),
	)
	// A domain sign-up leaves a per-address record; List must not show it.
	dom := pending("@example.org", invite.AnyApp)
	if _, err := s.Redeem(ctx(t), dom, "carl@example.org", "c-1", t0); err != nil {
		t.Fatal(err)
	}
	want := []string{"@example.org *", "amy@example.org *", "amy@example.org " + appA, "bob@other.test *", "zed@example.org *"}
	if got := keys(t, s, ""); !reflect.DeepEqual(got, want) {
		t.Fatalf("List all = %q, want %q", got, want)
	}
	if got, want := keys(t, s, "amy@"), want[1:3]; !reflect.DeepEqual(got, want) {
		t.Fatalf("List amy@ = %q, want %q", got, want)
	}
	stop := errors.New("stop")
	n := 0
	err := s.List(ctx(t), "", func(invite.Invitation) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("List with a failing callback: err %v after %d calls, want stop after 1", err, n)
	}
}

func subjectOf(inv *invite.Invitation) string {
	if inv == nil {
		return "-"
	}
	return inv.Subject + " " + inv.App
}

func testMatchLevels(t *testing.T, s invite.Store) {
	// Domain invitations first: a store may copy them when first asked.
	put(t, s,
		pending("@example.org", invite.AnyApp),
		pending("@example.org", appA),
		pending("@example.org", appB),
		pending("jo@example.org", invite.AnyApp),
		pending("jo@example.org", appA),
		pending("jo@example.org", appB),
		pending("al@example.org.evil.test", invite.AnyApp),
	)
	m, err := s.Match(ctx(t), "jo@example.org", appA)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{subjectOf(m.AddressApp), subjectOf(m.AddressAny), subjectOf(m.DomainApp), subjectOf(m.DomainAny)}
	want := []string{"jo@example.org " + appA, "jo@example.org *", "@example.org " + appA, "@example.org *"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Match(jo, appA) levels = %q, want %q", got, want)
	}
	m, err = s.Match(ctx(t), "sam@example.org.evil.test", appA)
	if err != nil {
		t.Fatal(err)
	}
	if m.AddressApp != nil || m.AddressAny != nil || m.DomainApp != nil || m.DomainAny != nil {
		t.Fatalf("Match for a look-alike domain found %+v", m)
	}
}

func testMatchUnknownApp(t *testing.T, s invite.Store) {
	put(t, s, pending("@example.org", appA), pending("jo@example.org", appA))
	m, err := s.Match(ctx(t), "jo@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	if m.AddressApp != nil || m.DomainApp != nil || m.AddressAny != nil || m.DomainAny != nil {
		t.Fatalf("Match with no app found app-scoped invitations: %+v", m)
	}
}

func testMatchQuote(t *testing.T, s invite.Store) {
	put(t, s, pending("o'brien@example.org", invite.AnyApp))
	m, err := s.Match(ctx(t), "o'brien@example.org", appA)
	if err != nil {
		t.Fatal(err)
	}
	if m.AddressAny == nil {
		t.Fatal("Match did not find an address with a quote")
	}
	// A quote must not let one address's lookup reach another's rows.
	m, err = s.Match(ctx(t), "x' or PartitionKey ne 'y@example.org", appA)
	if err != nil {
		t.Fatal(err)
	}
	if m.AddressAny != nil || m.AddressApp != nil {
		t.Fatalf("filter injection matched %+v", m)
	}
}

func testRedeemAddress(t *testing.T, s invite.Store) {
	inv := pending("jo@example.org", invite.AnyApp)
	put(t, s, inv)
	for i, tc := range []struct {
		id   string
		at   time.Time
		want bool
	}{{"corr-1", t0, true}, {"corr-1", t0.Add(time.Second), false}, {"corr-2", t0.Add(time.Minute), true}} {
		got, err := s.Redeem(ctx(t), inv, inv.Subject, tc.id, tc.at)
		if err != nil || got != tc.want {
			t.Fatalf("Redeem #%d (%s) = %v, %v; want %v", i, tc.id, got, err, tc.want)
		}
	}
	got, err := s.Get(ctx(t), inv.Key)
	if err != nil {
		t.Fatal(err)
	}
	want := invite.Redemptions{Count: 2, First: t0, Last: t0.Add(time.Minute)}
	if got.Redemptions != want || got.Status != invite.StatusRedeemed {
		t.Fatalf("after redeeming: status %s, %+v; want redeemed, %+v", got.Status, got.Redemptions, want)
	}
	if !got.Created.Equal(t0) {
		t.Fatalf("redeeming changed Created to %v", got.Created)
	}
}

func testRedeemKeepsRevoked(t *testing.T, s invite.Store) {
	inv := pending("jo@example.org", invite.AnyApp)
	inv.Status = invite.StatusRevoked
	put(t, s, inv)
	if _, err := s.Redeem(ctx(t), inv, inv.Subject, "corr-1", t0); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx(t), inv.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != invite.StatusRevoked {
		t.Fatalf("redeeming un-revoked the invitation: %s", got.Status)
	}
}

func testRedeemDomain(t *testing.T, s invite.Store) {
	dom := pending("@example.org", appA)
	put(t, s, dom)
	for _, r := range []struct{ email, id string }{{"amy@example.org", "a1"}, {"bob@example.org", "b1"}, {"amy@example.org", "a1"}, {"amy@example.org", "a2"}} {
		if _, err := s.Redeem(ctx(t), dom, r.email, r.id, t0); err != nil {
			t.Fatal(err)
		}
	}
	for email, want := range map[string]int64{"amy@example.org": 2, "bob@example.org": 1, "cy@example.org": 0} {
		got, err := s.AddressRedemptions(ctx(t), dom.Key, email)
		if err != nil {
			t.Fatal(err)
		}
		if got.Count != want {
			t.Errorf("AddressRedemptions(%s) = %d, want %d", email, got.Count, want)
		}
	}
	// The shared domain row is not written by sign-ups.
	got, err := s.Get(ctx(t), dom.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got.Count != 0 || got.Status != invite.StatusPending {
		t.Fatalf("domain row changed by sign-ups: %+v", got)
	}
}

func testRedeemConcurrent(t *testing.T, s invite.Store) {
	inv := pending("jo@example.org", appA)
	put(t, s, inv)
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := s.Redeem(ctx(t), inv, inv.Subject, fmt.Sprintf("corr-%d", i), t0)
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := s.Redeem(ctx(t), inv, inv.Subject, "corr-same", t0)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Get(ctx(t), inv.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got.Count != n+1 {
		t.Fatalf("after %d distinct and %d repeated concurrent redemptions: count %d, want %d", n, n, got.Count, n+1)
	}
}

func testRedeemDeleted(t *testing.T, s invite.Store) {
	inv := pending("jo@example.org", invite.AnyApp)
	_, err := s.Redeem(ctx(t), inv, inv.Subject, "corr-1", t0)
	if !errors.Is(err, invite.ErrNotFound) {
		t.Fatalf("Redeem of a missing invitation = %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx(t), inv.Key); !errors.Is(err, invite.ErrNotFound) {
		t.Fatalf("Redeem created the missing invitation: %v", err)
	}
}

func testInit(t *testing.T, s invite.Store) {
	put(t, s, pending("jo@example.org", invite.AnyApp))
	if err := s.Init(ctx(t)); err != nil {
		t.Fatalf("second Init: %v", err)
	}
	if _, err := s.Get(ctx(t), invite.Key{Subject: "jo@example.org", App: invite.AnyApp}); err != nil {
		t.Fatalf("Init lost a row: %v", err)
	}
}
