package invite

import "time"

// Outcome is the answer to "may this person sign up?".
type Outcome string

// Outcomes of Decide. Unavailable is never returned by Decide: it is what
// the gate answers when the store could not be asked.
const (
	Allowed     Outcome = "allowed"
	NotInvited  Outcome = "not_invited"
	Expired     Outcome = "expired"
	Revoked     Outcome = "revoked"
	Unavailable Outcome = "unavailable"
)

// Level names how specific the invitation that decided was.
type Level string

// Levels, most specific first.
const (
	LevelAddressApp Level = "address+app"
	LevelAddressAny Level = "address"
	LevelDomainApp  Level = "domain+app"
	LevelDomainAny  Level = "domain"
	LevelNone       Level = "none"
)

// Decision is the outcome and the invitation that produced it (nil when
// none applied).
type Decision struct {
	Outcome    Outcome
	Level      Level
	Invitation *Invitation
}

// Allowed reports whether the sign-up may continue.
func (d Decision) Allowed() bool { return d.Outcome == Allowed }

// Decide applies the gate's rules to what the store found, at time now.
// The most specific invitation that exists decides: an address beats its
// domain, an application-scoped invitation beats one for any application.
// A revoked or expired invitation at that level blocks even when a broader
// one would admit: an administrator who revokes one person means it. An
// invitation stays valid after it is redeemed.
func Decide(m Match, now time.Time) Decision {
	levels := [...]struct {
		level Level
		inv   *Invitation
	}{
		{LevelAddressApp, m.AddressApp},
		{LevelAddressAny, m.AddressAny},
		{LevelDomainApp, m.DomainApp},
		{LevelDomainAny, m.DomainAny},
	}
	for _, l := range levels {
		if l.inv == nil {
			continue
		}
		if m.App == "" && (l.level == LevelAddressApp || l.level == LevelDomainApp) {
			continue // an app-scoped invitation cannot match an unknown app
		}
		d := Decision{Level: l.level, Invitation: l.inv}
		switch {
		case l.inv.Status == StatusRevoked:
			d.Outcome = Revoked
		case l.inv.Status != StatusPending && l.inv.Status != StatusRedeemed:
			d.Outcome = NotInvited // unknown state: fail closed
		case l.inv.Expired(now):
			d.Outcome = Expired
		default:
			d.Outcome = Allowed
		}
		return d
	}
	return Decision{Outcome: NotInvited, Level: LevelNone}
}
