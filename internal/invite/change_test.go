package invite

import (
	"reflect"
	"testing"
	"time"
)

func TestAfterSignUp(t *testing.T) {
	for in, want := range map[Status]Status{
		StatusPending:  StatusRedeemed,
		"":             StatusRedeemed,
		StatusRedeemed: StatusRedeemed,
		StatusRevoked:  StatusRevoked, // counting a sign-up never un-revokes
	} {
		if got := in.AfterSignUp(); got != want {
			t.Errorf("%q.AfterSignUp() = %q, want %q", in, got, want)
		}
	}
	if ActiveStatus(0) != StatusPending || ActiveStatus(1) != StatusRedeemed {
		t.Errorf("ActiveStatus(0), (1) = %s, %s; want pending, redeemed", ActiveStatus(0), ActiveStatus(1))
	}
}

func ptr[T any](v T) *T { return &v }

func TestChangeApply(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 30, 0, 500, time.UTC)
	k := Key{Subject: "jo@example.org", App: AnyApp}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	existing := Invitation{
		Key: k, Status: StatusRevoked, Expires: t0.AddDate(1, 0, 0), Created: t0, Note: "old",
		Prefill: map[string]string{"givenName": "Jo", "city": "Leeds"}, Set: map[string]string{"companyName": "Old Ltd"},
		Redemptions: Redemptions{Count: 2, First: t0, Last: t0.AddDate(0, 1, 0)},
		SentRecord:  SentRecord{SentCount: 3, FirstSent: t0, LastSent: t0.AddDate(0, 2, 0)},
	}
	unused := Invitation{Key: k, Status: StatusRevoked, Created: t0}
	active := existing
	active.Status = StatusRedeemed
	// An import of history over an existing invitation: ignored.
	history := Change{Key: k, Created: t0.AddDate(-5, 0, 0), Redemptions: Redemptions{Count: 9}, Sent: SentRecord{SentCount: 9}}

	for _, tc := range []struct {
		name string
		c    Change
		cur  *Invitation
		want Invitation
	}{
		{"new: pending, created now (to the second)", Change{Key: k, Note: ptr("hi")}, nil,
			Invitation{Key: k, Status: StatusPending, Created: now.Truncate(time.Second), Note: "hi"}},
		{"new with sign-ups: redeemed", Change{Key: k, Redemptions: Redemptions{Count: 4}, Created: t0}, nil,
			Invitation{Key: k, Status: StatusRedeemed, Created: t0, Redemptions: Redemptions{Count: 4}}},
		{"new with messages sent: kept (a restore)", Change{Key: k, Created: t0, Sent: SentRecord{SentCount: 1, FirstSent: t0, LastSent: t0}}, nil,
			Invitation{Key: k, Status: StatusPending, Created: t0, SentRecord: SentRecord{SentCount: 1, FirstSent: t0, LastSent: t0}}},
		{"new with a status: as given (a restore)", Change{Key: k, Status: StatusPending, Redemptions: Redemptions{Count: 4}}, nil,
			Invitation{Key: k, Status: StatusPending, Created: now.Truncate(time.Second), Redemptions: Redemptions{Count: 4}}},
		{"existing: only what the change names", Change{Key: k, Note: ptr("new"), Prefill: Values{Remove: []string{"city"}}}, &existing,
			func() Invitation {
				w := existing
				w.Note, w.Prefill = "new", map[string]string{"givenName": "Jo"}
				return w
			}()},
		{"existing: history is never overwritten", history, &existing, existing},
		{"no status keeps a revocation", Change{Key: k}, &existing, existing},
		{"re-invite a used revoked invitation: redeemed", Change{Key: k, Status: StatusPending}, &existing,
			func() Invitation { w := existing; w.Status = StatusRedeemed; return w }()},
		{"re-invite an unused revoked invitation: pending", Change{Key: k, Status: StatusRedeemed}, &unused,
			func() Invitation { w := unused; w.Status = StatusPending; return w }()},
		{"re-invite a valid invitation: the gate's status stays", Change{Key: k, Status: StatusPending}, &active, active},
		{"revoke", Change{Key: k, Status: StatusRevoked}, &active,
			func() Invitation { w := active; w.Status = StatusRevoked; return w }()},
		{"add replaces the attribute maps and the expiry", Change{Key: k, Status: StatusPending, Expires: &time.Time{}, Note: ptr(""),
			Prefill: Values{Replace: true, Put: map[string]string{"surname": "Bloggs"}}, Set: Values{Replace: true}}, &existing,
			func() Invitation {
				w := existing
				w.Status, w.Expires, w.Note, w.Prefill, w.Set = StatusRedeemed, time.Time{}, "", map[string]string{"surname": "Bloggs"}, nil
				return w
			}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before Invitation
			if tc.cur != nil {
				before = *tc.cur
				before.Prefill = Values{}.apply(tc.cur.Prefill) // a copy
			}
			got := tc.c.Apply(tc.cur, now)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Apply:\n got %+v\nwant %+v", got, tc.want)
			}
			if tc.cur != nil && !reflect.DeepEqual(tc.cur.Prefill, before.Prefill) {
				t.Fatal("Apply changed the invitation it was given")
			}
			if lifted := LiftsRevocation(tc.cur, got); lifted != (tc.cur != nil && tc.cur.Status == StatusRevoked && got.Status != StatusRevoked) {
				t.Fatalf("LiftsRevocation = %v", lifted)
			}
		})
	}
}

func TestState(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	past := now.Add(-time.Second)
	for _, tc := range []struct {
		inv  Invitation
		want string
	}{
		{Invitation{Status: StatusPending}, "pending"},
		{Invitation{Status: StatusRedeemed, Expires: now.Add(time.Hour)}, "redeemed"},
		{Invitation{Status: StatusPending, Expires: past}, StateExpired},
		{Invitation{Status: StatusRedeemed, Expires: now}, StateExpired},
		{Invitation{Status: StatusRevoked, Expires: past}, "revoked"},
	} {
		if got := tc.inv.State(now); got != tc.want {
			t.Errorf("State of %+v = %q, want %q", tc.inv, got, tc.want)
		}
	}
}
