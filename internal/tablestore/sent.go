package tablestore

import "github.com/invitegate/invitegate/internal/invite"

// sentColumns are the columns of an invitation's sent bookkeeping. The
// gate never writes them: its redemption writes merge only their own.
type sentColumns struct {
	Sent          int32  `json:"Sent,omitempty"`
	SentFirst     string `json:"SentFirst,omitempty"`
	SentFirstType string `json:"SentFirst@odata.type,omitempty"`
	SentLast      string `json:"SentLast,omitempty"`
	SentLastType  string `json:"SentLast@odata.type,omitempty"`
}

func toSentColumns(r invite.SentRecord) sentColumns {
	c := sentColumns{Sent: clampCount(r.SentCount)}
	c.SentFirst, c.SentFirstType = formatTime(r.FirstSent)
	c.SentLast, c.SentLastType = formatTime(r.LastSent)
	return c
}

func (c sentColumns) record() (invite.SentRecord, error) {
	r := invite.SentRecord{SentCount: int64(c.Sent)}
	var err error
	if r.FirstSent, err = parseTime(c.SentFirst); err != nil {
		return r, err
	}
	r.LastSent, err = parseTime(c.SentLast)
	return r, err
}
