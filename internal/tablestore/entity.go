package tablestore

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
)

// Row layout of the invitation table.
//
//	PartitionKey  the lowercased address, or "@domain.tld" for a whole domain
//	RowKey        the application's appId, or "*" for any application;
//	              "~domain~<appId|*>" for the per-address record of sign-ups
//	              through a domain invitation (kept in the address's partition)
//	Status        pending | redeemed | revoked
//	Expires       Edm.DateTime, absent when the invitation never expires
//	Created       Edm.DateTime
//	Note          free text
//	Prefill, Set  JSON objects of attribute name → value (strings)
//	Redemptions   Int32 count of distinct sign-ups (correlation ids)
//	RedeemedFirst, RedeemedLast  Edm.DateTime
//	RecentCorrelations  the latest correlation ids counted, space-separated
//	Sent          Int32 count of invitation messages the mail server accepted
//	SentFirst, SentLast  Edm.DateTime
const (
	domainRecordPrefix = "~domain~"
	maxRecent          = 32
	edmDateTime        = "Edm.DateTime"
)

// entity is one row as JSON. Optional times carry their Edm type beside them.
type entity struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	Status       string `json:"Status,omitempty"`

	Expires     string `json:"Expires,omitempty"`
	ExpiresType string `json:"Expires@odata.type,omitempty"`
	Created     string `json:"Created,omitempty"`
	CreatedType string `json:"Created@odata.type,omitempty"`

	Note    string `json:"Note,omitempty"`
	Prefill string `json:"Prefill,omitempty"`
	Set     string `json:"Set,omitempty"`

	Redemptions       int32  `json:"Redemptions"`
	RedeemedFirst     string `json:"RedeemedFirst,omitempty"`
	RedeemedFirstType string `json:"RedeemedFirst@odata.type,omitempty"`
	RedeemedLast      string `json:"RedeemedLast,omitempty"`
	RedeemedLastType  string `json:"RedeemedLast@odata.type,omitempty"`

	RecentCorrelations string `json:"RecentCorrelations,omitempty"`

	// Messages sent about the invitation (invitectl send): see sent.go.
	sentColumns
}

func formatTime(t time.Time) (value, typ string) {
	if t.IsZero() {
		return "", ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.0000000Z"), edmDateTime
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q", s)
	}
	return t.UTC(), nil
}

func encodeValues(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func decodeValues(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("bad attribute values: %v", err)
	}
	return m, nil
}

func clampCount(n int64) int32 {
	if n > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(n)
}

func toEntity(inv invite.Invitation) (entity, error) {
	e := entity{
		PartitionKey: inv.Subject,
		RowKey:       inv.App,
		Status:       string(inv.Status),
		Note:         inv.Note,
		Redemptions:  clampCount(inv.Count),
	}
	if e.RowKey == "" {
		e.RowKey = invite.AnyApp
	}
	e.Expires, e.ExpiresType = formatTime(inv.Expires)
	e.Created, e.CreatedType = formatTime(inv.Created)
	e.RedeemedFirst, e.RedeemedFirstType = formatTime(inv.First)
	e.RedeemedLast, e.RedeemedLastType = formatTime(inv.Last)
	var err error
	if e.Prefill, err = encodeValues(inv.Prefill); err != nil {
		return e, err
	}
	if e.Set, err = encodeValues(inv.Set); err != nil {
		return e, err
	}
	e.sentColumns = toSentColumns(inv.SentRecord)
	return e, e.checkSize()
}

func (e entity) invitation() (invite.Invitation, error) {
	inv := invite.Invitation{
		Key:    invite.Key{Subject: e.PartitionKey, App: e.RowKey},
		Status: invite.Status(strings.ToLower(e.Status)),
		Note:   e.Note,
	}
	inv.Count = int64(e.Redemptions)
	var err error
	for _, f := range []struct {
		dst *time.Time
		src string
	}{{&inv.Expires, e.Expires}, {&inv.Created, e.Created}, {&inv.First, e.RedeemedFirst}, {&inv.Last, e.RedeemedLast}} {
		if *f.dst, err = parseTime(f.src); err != nil {
			return inv, err
		}
	}
	if inv.Prefill, err = decodeValues(e.Prefill); err != nil {
		return inv, err
	}
	if inv.Set, err = decodeValues(e.Set); err != nil {
		return inv, err
	}
	inv.SentRecord, err = e.sentColumns.record()
	return inv, err
}

func (e entity) redemptions() invite.Redemptions {
	first, _ := parseTime(e.RedeemedFirst)
	last, _ := parseTime(e.RedeemedLast)
	return invite.Redemptions{Count: int64(e.Redemptions), First: first, Last: last}
}

// hasCorrelation reports whether id was among the latest counted.
func (e entity) hasCorrelation(id string) bool {
	for _, c := range strings.Fields(e.RecentCorrelations) {
		if c == id {
			return true
		}
	}
	return false
}

// countRedemptions adds the correlation ids in ids that were not counted
// before to e, at time at. It returns which ids it counted.
func (e *entity) countRedemptions(ids []string, at time.Time) (counted map[string]bool) {
	counted = make(map[string]bool, len(ids))
	recent := strings.Fields(e.RecentCorrelations)
	for _, id := range ids {
		if counted[id] || e.hasCorrelation(id) {
			continue
		}
		counted[id] = true
		recent = append(recent, id)
		if e.Redemptions < math.MaxInt32 {
			e.Redemptions++
		}
	}
	if len(counted) == 0 {
		return counted
	}
	if len(recent) > maxRecent {
		recent = recent[len(recent)-maxRecent:]
	}
	e.RecentCorrelations = strings.Join(recent, " ")
	if e.RedeemedFirst == "" {
		e.RedeemedFirst, e.RedeemedFirstType = formatTime(at)
	}
	e.RedeemedLast, e.RedeemedLastType = formatTime(at)
	e.Status = string(invite.Status(e.Status).AfterSignUp())
	return counted
}

// correlationToken keeps a correlation id safe to store space-separated.
func correlationToken(id string) string {
	id = strings.TrimSpace(id)
	if id == "" || len(id) > 128 || strings.ContainsAny(id, " \t\r\n") {
		return ""
	}
	return id
}
