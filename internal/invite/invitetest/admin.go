package invitetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
)

// RunAdmin is the conformance suite of invite.AdminStore, the extra
// methods administration tools use. newStore has the contract of Run's.
func RunAdmin(t *testing.T, newStore func(t *testing.T) invite.AdminStore) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s invite.AdminStore)
	}{
		{"UpdateCreates", testUpdateCreates},
		{"UpdateChanges", testUpdateChanges},
		{"UpdateNilWritesNothing", testUpdateNil},
		{"UpdateError", testUpdateError},
		{"UpdateKeepsCountedSignUps", testUpdateKeepsCounted},
		{"UpdateRacesRedeem", testUpdateRacesRedeem},
		{"CreateNeverReplaces", testCreate},
		{"ListAddressRecords", testListAddressRecords},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore(t))
		})
	}
}

func get(t *testing.T, s invite.Store, k invite.Key) invite.Invitation {
	t.Helper()
	inv, err := s.Get(ctx(t), k)
	if err != nil {
		t.Fatalf("Get(%s): %v", k, err)
	}
	return inv
}

func testUpdateCreates(t *testing.T, s invite.AdminStore) {
	k := invite.Key{Subject: "jo@example.org", App: appA}
	want := invite.Invitation{
		Key: k, Status: invite.StatusRedeemed, Expires: t0.AddDate(1, 0, 0), Created: t0, Note: "imported",
		Prefill:     map[string]string{"givenName": "Jo"},
		Set:         map[string]string{"companyName": "Example Ltd"},
		Redemptions: invite.Redemptions{Count: 3, First: t0, Last: t0.Add(time.Hour)},
	}
	calls := 0
	err := s.Update(ctx(t), k, func(cur *invite.Invitation) (*invite.Invitation, error) {
		calls++
		if cur != nil {
			return nil, fmt.Errorf("fn got %+v for a missing invitation, want nil", cur)
		}
		next := want
		next.Key = invite.Key{Subject: "someone@else.test"} // Update keeps k
		return &next, nil
	})
	if err != nil || calls != 1 {
		t.Fatalf("Update = %v after %d calls of fn, want nil after 1", err, calls)
	}
	if got := get(t, s, k); !reflect.DeepEqual(got, want) {
		t.Fatalf("after Update:\n got %+v\nwant %+v", got, want)
	}
	if _, err := s.Get(ctx(t), invite.Key{Subject: "someone@else.test", App: invite.AnyApp}); !errors.Is(err, invite.ErrNotFound) {
		t.Fatalf("Update wrote under the key fn returned: %v", err)
	}
}

func testUpdateChanges(t *testing.T, s invite.AdminStore) {
	old := pending("jo@example.org", invite.AnyApp)
	old.Note, old.Prefill = "old", map[string]string{"city": "Leeds"}
	put(t, s, old)
	err := s.Update(ctx(t), old.Key, func(cur *invite.Invitation) (*invite.Invitation, error) {
		if cur == nil || !reflect.DeepEqual(*cur, old) {
			return nil, fmt.Errorf("fn got %+v, want %+v", cur, old)
		}
		cur.Note = "new"
		cur.Prefill["city"] = "York"
		return cur, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := get(t, s, old.Key)
	if got.Note != "new" || got.Prefill["city"] != "York" || !got.Created.Equal(t0) || got.Status != invite.StatusPending {
		t.Fatalf("after Update: %+v, want note new, city York, the rest kept", got)
	}
}

func testUpdateNil(t *testing.T, s invite.AdminStore) {
	inv := pending("jo@example.org", invite.AnyApp)
	inv.Note = "keep"
	put(t, s, inv)
	for _, k := range []invite.Key{inv.Key, {Subject: "nobody@example.org", App: invite.AnyApp}} {
		if err := s.Update(ctx(t), k, func(*invite.Invitation) (*invite.Invitation, error) { return nil, nil }); err != nil {
			t.Fatalf("Update(%s) returning nil: %v", k, err)
		}
	}
	if got := get(t, s, inv.Key); !reflect.DeepEqual(got, inv) {
		t.Fatalf("Update returning nil changed the row: %+v", got)
	}
	if _, err := s.Get(ctx(t), invite.Key{Subject: "nobody@example.org", App: invite.AnyApp}); !errors.Is(err, invite.ErrNotFound) {
		t.Fatalf("Update returning nil created a row: %v", err)
	}
}

func testUpdateError(t *testing.T, s invite.AdminStore) {
	k := invite.Key{Subject: "jo@example.org", App: invite.AnyApp}
	boom := errors.New("boom")
	err := s.Update(ctx(t), k, func(*invite.Invitation) (*invite.Invitation, error) {
		return &invite.Invitation{Key: k, Status: invite.StatusPending}, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want fn's error", err)
	}
	if _, err := s.Get(ctx(t), k); !errors.Is(err, invite.ErrNotFound) {
		t.Fatalf("Update wrote although fn failed: %v", err)
	}
}

func testUpdateKeepsCounted(t *testing.T, s invite.AdminStore) {
	inv := pending("jo@example.org", invite.AnyApp)
	put(t, s, inv)
	if _, err := s.Redeem(ctx(t), inv, inv.Subject, "corr-1", t0); err != nil {
		t.Fatal(err)
	}
	err := s.Update(ctx(t), inv.Key, func(cur *invite.Invitation) (*invite.Invitation, error) {
		cur.Note = "edited"
		return cur, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Entra retries the same sign-up after the edit: still counted once.
	recorded, err := s.Redeem(ctx(t), inv, inv.Subject, "corr-1", t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, inv.Key); recorded || got.Count != 1 {
		t.Fatalf("a retried sign-up after Update: recorded %v, count %d; want false, 1", recorded, got.Count)
	}
}

func testUpdateRacesRedeem(t *testing.T, s invite.AdminStore) {
	inv := pending("jo@example.org", appA)
	put(t, s, inv)
	const n = 20
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
			errs <- s.Update(ctx(t), inv.Key, func(cur *invite.Invitation) (*invite.Invitation, error) {
				cur.Note = fmt.Sprintf("edit %d", i)
				return cur, nil
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := get(t, s, inv.Key); got.Count != n || got.Note == "" {
		t.Fatalf("after %d sign-ups racing %d edits: count %d, note %q; want %d and an edit's note", n, n, got.Count, got.Note, n)
	}
}

func testCreate(t *testing.T, s invite.AdminStore) {
	want := pending("jo@example.org", appA)
	want.Note, want.Prefill = "first", map[string]string{"givenName": "Jo"}
	want.Redemptions = invite.Redemptions{Count: 2, First: t0, Last: t0.Add(time.Minute)}
	if err := s.Create(ctx(t), want); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, want.Key); !reflect.DeepEqual(got, want) {
		t.Fatalf("after Create:\n got %+v\nwant %+v", got, want)
	}
	again := pending("jo@example.org", appA)
	again.Note = "second"
	if err := s.Create(ctx(t), again); !errors.Is(err, invite.ErrExists) {
		t.Fatalf("Create of an existing invitation = %v, want ErrExists", err)
	}
	if got := get(t, s, want.Key); got.Note != "first" {
		t.Fatalf("Create replaced an invitation: note %q", got.Note)
	}
	// The any-app invitation of the same address is another key.
	if err := s.Create(ctx(t), pending("jo@example.org", invite.AnyApp)); err != nil {
		t.Fatalf("Create beside an app-scoped invitation: %v", err)
	}
}

func testListAddressRecords(t *testing.T, s invite.AdminStore) {
	domAny, domA, addr := pending("@example.org", invite.AnyApp), pending("@example.org", appA), pending("jo@example.org", invite.AnyApp)
	put(t, s, domAny, domA, addr)
	for _, r := range []struct {
		inv   invite.Invitation
		email string
		id    string
		at    time.Time
	}{
		{domAny, "bob@example.org", "b1", t0},
		{domA, "amy@example.org", "a1", t0},
		{domA, "amy@example.org", "a2", t0.Add(time.Hour)},
		{addr, "jo@example.org", "j1", t0}, // an address invitation: no record
	} {
		if _, err := s.Redeem(ctx(t), r.inv, r.email, r.id, r.at); err != nil {
			t.Fatal(err)
		}
	}
	var got []invite.AddressRecord
	if err := s.ListAddressRecords(ctx(t), func(r invite.AddressRecord) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []invite.AddressRecord{
		{Email: "amy@example.org", Invitation: domA.Key, Redemptions: invite.Redemptions{Count: 2, First: t0, Last: t0.Add(time.Hour)}},
		{Email: "bob@example.org", Invitation: domAny.Key, Redemptions: invite.Redemptions{Count: 1, First: t0, Last: t0}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ListAddressRecords:\n got %+v\nwant %+v", got, want)
	}
	stop := errors.New("stop")
	n := 0
	if err := s.ListAddressRecords(ctx(t), func(invite.AddressRecord) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("ListAddressRecords with a failing callback: %v after %d calls, want stop after 1", err, n)
	}
}
