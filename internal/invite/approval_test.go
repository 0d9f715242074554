package invite

import (
	"testing"
	"time"
)

func TestApproved(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	alex := IdentityBinding("google.com", "1122")
	mallory := IdentityBinding("google.com", "9999")
	live := func(b Binding) Approval {
		return Approval{Email: "a@x.org", Binding: b, At: t0, Expires: t0.Add(30 * time.Minute)}
	}
	for _, tc := range []struct {
		name      string
		approvals []Approval
		want      Binding
		at        time.Time
		ok        bool
	}{
		{"none", nil, "", t0, false},
		{"any binding, submit without identities", []Approval{live(alex)}, "", t0.Add(time.Minute), true},
		{"the same identity", []Approval{live(alex)}, alex, t0.Add(time.Minute), true},
		{"another identity", []Approval{live(alex)}, mallory, t0.Add(time.Minute), false},
		{"an address approval does not admit an identity", []Approval{live(AddressBinding)}, alex, t0.Add(time.Minute), false},
		{"expired", []Approval{live(alex)}, alex, t0.Add(30 * time.Minute), false},
		{"expired, any binding", []Approval{live(AddressBinding)}, "", t0.Add(31 * time.Minute), false},
		{"one of several", []Approval{live(mallory), live(alex)}, alex, t0, true},
		{"a little clock skew between instances", []Approval{live(alex)}, alex, t0.Add(-30 * time.Second), true},
		{"approved far in the future is no approval", []Approval{live(alex)}, alex, t0.Add(-2 * time.Minute), false},
	} {
		if got := Approved(tc.approvals, tc.want, tc.at); got != tc.ok {
			t.Errorf("%s: Approved = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

func TestIdentityBinding(t *testing.T) {
	a := IdentityBinding("google.com", "1122")
	if a != IdentityBinding(" Google.com ", "1122") {
		t.Error("issuer case or spaces change the binding")
	}
	if a == IdentityBinding("google.com", "1123") || a == IdentityBinding("facebook.com", "1122") {
		t.Error("different identities share a binding")
	}
	if a == IdentityBinding("google.com1", "122") {
		t.Error("issuer and subject are not separated")
	}
	for _, c := range string(a) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			t.Fatalf("binding %q holds %q: it must sort below '~' and suit a storage key", a, c)
		}
	}
}

func TestRecentlyApproved(t *testing.T) {
	const window = 30 * time.Minute
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	alex := IdentityBinding("google.com", "1122")
	a := Approval{Email: "a@x.org", Binding: alex, At: t0, Expires: t0.Add(window)}
	for _, tc := range []struct {
		name string
		b    Binding
		at   time.Time
		want bool
	}{
		{"Entra's retry seconds later", alex, t0.Add(2 * time.Second), true},
		{"a start 9 minutes later: still two thirds of the window left", alex, t0.Add(9 * time.Minute), true},
		{"a start a third of the window later: written again", alex, t0.Add(window / 3), false},
		{"another binding", AddressBinding, t0.Add(time.Second), false},
	} {
		if got := RecentlyApproved([]Approval{a}, tc.b, tc.at, window); got != tc.want {
			t.Errorf("%s: RecentlyApproved = %v, want %v", tc.name, got, tc.want)
		}
	}
	short := a
	short.Expires = t0.Add(time.Second)
	if RecentlyApproved([]Approval{short}, alex, t0.Add(2*time.Second), window) {
		t.Error("an expired approval counted as recent")
	}
}
