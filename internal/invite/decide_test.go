package invite

import (
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	const app = "5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f"
	valid := &Invitation{Status: StatusPending}
	redeemed := &Invitation{Status: StatusRedeemed}
	revoked := &Invitation{Status: StatusRevoked}
	expired := &Invitation{Status: StatusPending, Expires: now}
	notYet := &Invitation{Status: StatusPending, Expires: now.Add(time.Nanosecond)}
	odd := &Invitation{Status: "suspended"}
	for _, tc := range []struct {
		name  string
		m     Match
		want  Outcome
		level Level
	}{
		{"nothing", Match{App: app}, NotInvited, LevelNone},
		{"address for any app", Match{App: app, AddressAny: valid}, Allowed, LevelAddressAny},
		{"address for this app", Match{App: app, AddressApp: valid}, Allowed, LevelAddressApp},
		{"redeemed stays valid", Match{App: app, AddressAny: redeemed}, Allowed, LevelAddressAny},
		{"domain for any app", Match{App: app, DomainAny: valid}, Allowed, LevelDomainAny},
		{"domain for this app", Match{App: app, DomainApp: valid}, Allowed, LevelDomainApp},
		{"revoked address beats valid domain", Match{App: app, AddressAny: revoked, DomainAny: valid}, Revoked, LevelAddressAny},
		{"expired address beats valid domain", Match{App: app, AddressAny: expired, DomainAny: valid}, Expired, LevelAddressAny},
		{"revoked app-scoped beats valid any-app", Match{App: app, AddressApp: revoked, AddressAny: valid}, Revoked, LevelAddressApp},
		{"valid app-scoped beats revoked any-app", Match{App: app, AddressApp: valid, AddressAny: revoked}, Allowed, LevelAddressApp},
		{"valid address beats revoked domain", Match{App: app, AddressAny: valid, DomainAny: revoked}, Allowed, LevelAddressAny},
		{"revoked domain app beats valid domain any", Match{App: app, DomainApp: revoked, DomainAny: valid}, Revoked, LevelDomainApp},
		{"expired domain", Match{App: app, DomainAny: expired}, Expired, LevelDomainAny},
		{"expiry is exclusive", Match{App: app, AddressAny: notYet}, Allowed, LevelAddressAny},
		{"unknown status fails closed", Match{App: app, AddressAny: odd}, NotInvited, LevelAddressAny},
		{"app-scoped ignored when app unknown", Match{AddressApp: valid}, NotInvited, LevelNone},
		{"any-app used when app unknown", Match{AddressApp: revoked, AddressAny: valid}, Allowed, LevelAddressAny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.m, now)
			if d.Outcome != tc.want || d.Level != tc.level {
				t.Fatalf("Decide = %s at %s, want %s at %s", d.Outcome, d.Level, tc.want, tc.level)
			}
			if d.Allowed() != (tc.want == Allowed) {
				t.Fatal("Allowed() disagrees with Outcome")
			}
			if (d.Invitation == nil) != (tc.level == LevelNone) {
				t.Fatalf("Invitation = %v at level %s", d.Invitation, d.Level)
			}
		})
	}
}
