package invite

import "time"

// SentRecord is the bookkeeping of the messages that told a person about
// their invitation. A message counts only once the mail server accepted it.
type SentRecord struct {
	SentCount int64
	FirstSent time.Time
	LastSent  time.Time
}

// RecordSent counts one more message accepted by the mail server at at.
func (r *SentRecord) RecordSent(at time.Time) {
	r.SentCount++
	if r.FirstSent.IsZero() {
		r.FirstSent = at
	}
	r.LastSent = at
}

// SentWithin reports whether a message was sent less than d before now.
func (r SentRecord) SentWithin(d time.Duration, now time.Time) bool {
	return !r.LastSent.IsZero() && now.Sub(r.LastSent) < d
}

// Quiet is how long the invitation has gone without news to its
// recipient at now: since the last message, or since it was created when
// none was sent. A reminder run picks invitations quiet for long enough, so
// that someone invited or reminded yesterday is not reminded again today.
func (inv Invitation) Quiet(now time.Time) time.Duration {
	since := inv.LastSent
	if since.IsZero() {
		since = inv.Created
	}
	if since.IsZero() {
		return time.Duration(1<<63 - 1) // unknown age: as old as can be
	}
	return now.Sub(since)
}
