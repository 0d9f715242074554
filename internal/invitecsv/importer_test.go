package invitecsv

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invite/invitetest"
)

// TestImportHistory imports a file with history columns over a store that
// has one of its invitations: the new one gets the file's history, the
// existing one keeps its own (sign-ups and messages sent) and changes only
// in what the file may set.
func TestImportHistory(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	jo := invite.Key{Subject: "jo@example.org", App: invite.AnyApp}
	amy := invite.Key{Subject: "amy@example.org", App: invite.AnyApp}
	s := invitetest.NewMemory()
	existing := invite.Invitation{Key: jo, Status: invite.StatusRedeemed, Created: t0, Note: "old",
		Redemptions: invite.Redemptions{Count: 1, First: t0, Last: t0},
		SentRecord:  invite.SentRecord{SentCount: 1, FirstSent: t0, LastSent: t0}}
	put(t, s, existing)

	in := "email,note,redemptions,sent,sent_first,sent_last\n" +
		"jo@example.org,new,7,5,2025-01-01T00:00:00Z,2025-02-01T00:00:00Z\n" +
		"amy@example.org,,0,2,2026-04-01T00:00:00Z,2026-04-08T00:00:00Z\n"
	plan, err := Check(strings.NewReader(in), Options{Now: now})
	if err != nil || len(plan.Problems) > 0 {
		t.Fatalf("Check: %v %v", err, plan.Problems)
	}
	next, err := plan.Replay(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	im, err := NewImporter(ctx, s, now, false)
	if err != nil {
		t.Fatal(err)
	}
	results := map[invite.Key]Result{}
	for {
		row, ok, err := next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		res := im.Import(ctx, row)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		results[row.Key] = res
	}
	if r := results[jo]; r.Kind != Updated || !reflect.DeepEqual(r.Changed, []string{colNote}) {
		t.Fatalf("existing invitation: %s, changed %v; want update, [note]", r.Kind, r.Changed)
	}
	got, err := s.Get(ctx, jo)
	if err != nil {
		t.Fatal(err)
	}
	want := existing
	want.Note = "new"
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("existing invitation after the import:\n got %+v\nwant %+v", got, want)
	}
	if r := results[amy]; r.Kind != Created {
		t.Fatalf("new invitation: %s", r.Kind)
	}
	if got, err := s.Get(ctx, amy); err != nil || got.SentRecord != (invite.SentRecord{SentCount: 2,
		FirstSent: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), LastSent: time.Date(2026, 4, 8, 0, 0, 0, 0, time.UTC)}) {
		t.Fatalf("new invitation's sent record: %+v, %v", got.SentRecord, err)
	}
}
