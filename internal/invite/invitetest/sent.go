package invitetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
)

// RunSent is the conformance suite of an invitation's sent bookkeeping:
// every write path keeps it, and Update records a message. newStore has
// the contract of Run's.
func RunSent(t *testing.T, newStore func(t *testing.T) invite.AdminStore) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s invite.AdminStore)
	}{
		{"SentRoundTrip", testSentRoundTrip},
		{"SentKeptByOtherWrites", testSentKept},
		{"UpdateRecordsSent", testUpdateRecordsSent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore(t))
		})
	}
}

func sentInvitation() invite.Invitation {
	inv := pending("jo@example.org", appA)
	inv.SentRecord = invite.SentRecord{SentCount: 2, FirstSent: t0.Add(time.Hour), LastSent: t0.Add(50 * time.Hour)}
	return inv
}

func testSentRoundTrip(t *testing.T, s invite.AdminStore) {
	want := sentInvitation()
	put(t, s, want)
	if got := get(t, s, want.Key); !reflect.DeepEqual(got, want) {
		t.Fatalf("Get after Put:\n got %+v\nwant %+v", got, want)
	}
	never := pending("amy@example.org", invite.AnyApp)
	if err := s.Create(ctx(t), never); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, never.Key); got.SentRecord != (invite.SentRecord{}) {
		t.Fatalf("an invitation never sent reads back as %+v", got.SentRecord)
	}
}

func testSentKept(t *testing.T, s invite.AdminStore) {
	inv := sentInvitation()
	put(t, s, inv)
	if _, err := s.Redeem(ctx(t), inv, inv.Subject, "corr-1", t0.Add(60*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus(ctx(t), inv.Key, invite.StatusRevoked); err != nil {
		t.Fatal(err)
	}
	err := s.Update(ctx(t), inv.Key, func(cur *invite.Invitation) (*invite.Invitation, error) {
		cur.Note = "edited"
		return cur, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := get(t, s, inv.Key)
	if got.SentRecord != inv.SentRecord || got.Count != 1 || got.Status != invite.StatusRevoked || got.Note != "edited" {
		t.Fatalf("after a sign-up, a revocation and an edit: %+v; want the sent record %+v kept", got, inv.SentRecord)
	}
}

func testUpdateRecordsSent(t *testing.T, s invite.AdminStore) {
	inv := pending("jo@example.org", invite.AnyApp)
	put(t, s, inv)
	for i, at := range []time.Time{t0.Add(time.Hour), t0.Add(30 * time.Hour)} {
		err := s.Update(ctx(t), inv.Key, func(cur *invite.Invitation) (*invite.Invitation, error) {
			cur.RecordSent(at)
			return cur, nil
		})
		if err != nil {
			t.Fatalf("recording message %d: %v", i+1, err)
		}
	}
	want := invite.SentRecord{SentCount: 2, FirstSent: t0.Add(time.Hour), LastSent: t0.Add(30 * time.Hour)}
	if got := get(t, s, inv.Key); got.SentRecord != want || got.Status != invite.StatusPending {
		t.Fatalf("after two messages: %+v, status %s; want %+v, pending", got.SentRecord, got.Status, want)
	}
}
