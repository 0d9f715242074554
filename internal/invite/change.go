package invite

import "time"

// The rules for changing an invitation that may exist already. invitectl
// add and import, the Table store and the in-memory store all follow them,
// so they are written here once.

// AfterSignUp returns the status of an invitation in state s once a
// sign-up through it has been counted: a pending invitation becomes
// redeemed (and stays valid); a revoked one stays revoked, because counting
// a sign-up never un-revokes. A missing status counts as pending.
func (s Status) AfterSignUp() Status {
	if s == StatusPending || s == "" {
		return StatusRedeemed
	}
	return s
}

// ActiveStatus is the status of a valid invitation with count sign-ups:
// pending until it is used, then redeemed.
func ActiveStatus(count int64) Status {
	if count > 0 {
		return StatusPending.AfterSignUp()
	}
	return StatusPending
}

// Change is what an administrator asks of one invitation: the flags of
// invitectl add, or one row of an import. Apply merges it into the
// invitation that exists, if any.
type Change struct {
	Key Key
	// Status "" leaves the status alone. StatusRevoked revokes.
	// StatusPending or StatusRedeemed re-invites: a revoked invitation
	// becomes valid again, with the ActiveStatus of its sign-ups; a valid
	// one keeps its status, which the gate's bookkeeping owns.
	Status Status
	// Expires and Note, when not nil, replace the invitation's.
	Expires *time.Time
	Note    *string
	// Prefill and Set change the attribute values.
	Prefill, Set Values
	// Created, Redemptions and Sent are history. They are written only
	// when the change creates the invitation (restoring an export); the
	// record that the gate and invitectl send keep of an existing
	// invitation is never overwritten, so a re-invitation or an import
	// keeps its sign-ups and the messages sent. A zero Created means now.
	Created     time.Time
	Redemptions Redemptions
	Sent        SentRecord
}

// Values changes one map of attribute values (attribute name → value).
type Values struct {
	// Replace removes every value that Put does not give (add replaces
	// the whole map; import changes only the columns its file has).
	Replace bool
	// Put sets these values.
	Put map[string]string
	// Remove removes these names (an empty cell of an import).
	Remove []string
}

// Apply returns the invitation that c makes of cur (nil when there is
// none), at time now. It does not change cur.
func (c Change) Apply(cur *Invitation, now time.Time) Invitation {
	var inv Invitation
	if cur != nil {
		inv = *cur
		switch {
		case c.Status == StatusRevoked:
			inv.Status = StatusRevoked
		case c.Status != "" && inv.Status == StatusRevoked:
			inv.Status = ActiveStatus(inv.Count)
		}
	} else {
		inv = Invitation{Key: c.Key, Status: c.Status, Created: c.Created, Redemptions: c.Redemptions, SentRecord: c.Sent}
		if inv.Created.IsZero() {
			inv.Created = now.Truncate(time.Second)
		}
		if inv.Status == "" {
			inv.Status = ActiveStatus(inv.Count)
		}
	}
	if c.Expires != nil {
		inv.Expires = *c.Expires
	}
	if c.Note != nil {
		inv.Note = *c.Note
	}
	inv.Prefill = c.Prefill.apply(inv.Prefill)
	inv.Set = c.Set.apply(inv.Set)
	return inv
}

// LiftsRevocation reports whether writing next over cur makes a revoked
// invitation valid again.
func LiftsRevocation(cur *Invitation, next Invitation) bool {
	return cur != nil && cur.Status == StatusRevoked && next.Status != StatusRevoked
}

// apply returns cur with v applied, as a new map (nil when empty).
func (v Values) apply(cur map[string]string) map[string]string {
	out := make(map[string]string, len(cur)+len(v.Put))
	if !v.Replace {
		for n, s := range cur {
			out[n] = s
		}
	}
	for _, n := range v.Remove {
		delete(out, n)
	}
	for n, s := range v.Put {
		out[n] = s
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
