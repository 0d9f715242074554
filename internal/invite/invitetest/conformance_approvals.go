package invitetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
)

// testApprovals: Match returns the address's approvals with what Approve
// stored, one per binding (a later Approve replaces), never another
// address's, and never as invitations in List.
func testApprovals(t *testing.T, s invite.Store) {
	const email = "o'neil+x@example.org"
	put(t, s, pending(email, invite.AnyApp), pending("other@example.org", invite.AnyApp))
	idp := invite.IdentityBinding("google.com", "104857392011223344556")
	first := invite.Approval{Email: email, Binding: idp, CorrelationID: "c-1", At: t0, Expires: t0.Add(30 * time.Minute)}
	again := invite.Approval{Email: email, Binding: idp, CorrelationID: "c-2", At: t0.Add(time.Minute), Expires: t0.Add(31 * time.Minute)}
	local := invite.Approval{Email: email, Binding: invite.AddressBinding, CorrelationID: "c-3", At: t0, Expires: t0.Add(time.Hour)}
	for _, a := range []invite.Approval{first, again, local} {
		if err := s.Approve(ctx(t), a); err != nil {
			t.Fatalf("Approve(%s): %v", a.Binding, err)
		}
	}
	m, err := s.Match(ctx(t), email, appA)
	if err != nil {
		t.Fatal(err)
	}
	got := map[invite.Binding]invite.Approval{}
	for _, a := range m.Approvals {
		got[a.Binding] = a
	}
	want := map[invite.Binding]invite.Approval{idp: again, invite.AddressBinding: local}
	if len(m.Approvals) != 2 || !reflect.DeepEqual(normalise(got), normalise(want)) {
		t.Fatalf("Match approvals = %+v, want %+v", m.Approvals, want)
	}
	if m.AddressAny == nil || m.AddressAny.Subject != email {
		t.Errorf("approvals hid the address's invitation: %+v", m.AddressAny)
	}
	other, err := s.Match(ctx(t), "other@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(other.Approvals) != 0 {
		t.Errorf("another address's Match returned approvals %+v", other.Approvals)
	}
	if got := keys(t, s, ""); !reflect.DeepEqual(got, []string{email + " *", "other@example.org *"}) {
		t.Errorf("List = %q: approvals must not be listed as invitations", got)
	}
}

func normalise(m map[invite.Binding]invite.Approval) map[invite.Binding]invite.Approval {
	out := make(map[invite.Binding]invite.Approval, len(m))
	for k, a := range m {
		a.At, a.Expires = a.At.UTC(), a.Expires.UTC()
		out[k] = a
	}
	return out
}
