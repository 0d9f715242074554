// Package invitestats counts invitations and sign-ups for invitectl stats:
// by status, application and domain, recent sign-ups, and sign-ups per day.
// It reads the table once, and its memory grows with the number of
// distinct applications and domains, not of invitations.
package invitestats

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
)

// Days is how many days SignUps.PerDay covers, today included.
const Days = 30

// Stats are the counts, as invitectl stats --output json writes them.
type Stats struct {
	Invitations int            `json:"invitations"`
	ByStatus    map[string]int `json:"by_status"` // pending, redeemed, expired, revoked
	ByApp       map[string]int `json:"by_app"`
	Domains     int            `json:"domains"`
	TopDomains  []Domain       `json:"top_domains"`
	SignUps     SignUps        `json:"sign_ups"`
}

// Domain is the count of one domain: its addresses' invitations and its
// whole-domain ones, and the sign-ups through them.
type Domain struct {
	Domain      string `json:"domain"`
	Invitations int    `json:"invitations"`
	SignUps     int64  `json:"sign_ups"`
}

// SignUps count sign-ups. The store keeps the first and the latest
// sign-up of each address through each invitation, not every one: the
// windows count addresses (per invitation) whose latest sign-up falls in
// them, and PerDay counts them by the day of their first.
type SignUps struct {
	Total          int64 `json:"total"`
	ThroughDomains int64 `json:"through_domain_invitations"`
	Last24h        int   `json:"addresses_last_24h"`
	Last7d         int   `json:"addresses_last_7d"`
	// PerDay has one entry for each of the last Days UTC days, oldest
	// first, today last, including the days without a sign-up.
	PerDay []Day `json:"per_day"`
}

// Day is the number of addresses that first signed up on one UTC day.
type Day struct {
	Date      string `json:"date"` // 2006-01-02
	Addresses int    `json:"addresses"`
}

// Store is what Count reads.
type Store interface {
	List(ctx context.Context, prefix string, fn func(invite.Invitation) error) error
	ListAddressRecords(ctx context.Context, fn func(invite.AddressRecord) error) error
}

// Count reads the invitations and the per-address records of sign-ups
// through domain invitations once each, and counts them at time now,
// keeping the top domains with the most invitations.
func Count(ctx context.Context, s Store, now time.Time, top int) (Stats, error) {
	st := Stats{ByStatus: map[string]int{}, ByApp: map[string]int{}}
	for _, k := range []string{string(invite.StatusPending), string(invite.StatusRedeemed), invite.StateExpired, string(invite.StatusRevoked)} {
		st.ByStatus[k] = 0
	}
	today := now.UTC().Truncate(24 * time.Hour)
	firstDay := today.AddDate(0, 0, 1-Days)
	st.SignUps.PerDay = make([]Day, Days)
	for i := range st.SignUps.PerDay {
		st.SignUps.PerDay[i].Date = firstDay.AddDate(0, 0, i).Format(time.DateOnly)
	}
	domains := map[string]*Domain{}
	domain := func(subject string) *Domain {
		name := strings.TrimPrefix(invite.DomainOf(subject), "@")
		d := domains[name]
		if d == nil {
			d = &Domain{Domain: name}
			domains[name] = d
		}
		return d
	}
	signedUp := func(r invite.Redemptions) {
		st.SignUps.Total += r.Count
		if !r.Last.IsZero() {
			if age := now.Sub(r.Last); age <= 7*24*time.Hour {
				st.SignUps.Last7d++
				if age <= 24*time.Hour {
					st.SignUps.Last24h++
				}
			}
		}
		if !r.First.IsZero() && !r.First.Before(firstDay) {
			if day := int(r.First.Sub(firstDay) / (24 * time.Hour)); day < Days {
				st.SignUps.PerDay[day].Addresses++
			}
		}
	}
	err := s.List(ctx, "", func(inv invite.Invitation) error {
		st.Invitations++
		st.ByStatus[inv.State(now)]++
		st.ByApp[inv.App]++
		d := domain(inv.Subject)
		d.Invitations++
		d.SignUps += inv.Count
		signedUp(inv.Redemptions)
		return nil
	})
	if err != nil {
		return st, err
	}
	err = s.ListAddressRecords(ctx, func(r invite.AddressRecord) error {
		domain(r.Email).SignUps += r.Count
		st.SignUps.ThroughDomains += r.Count
		signedUp(r.Redemptions)
		return nil
	})
	if err != nil {
		return st, err
	}
	st.Domains = len(domains)
	all := make([]Domain, 0, len(domains))
	for _, d := range domains {
		all = append(all, *d)
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.Invitations != b.Invitations {
			return a.Invitations > b.Invitations
		}
		if a.SignUps != b.SignUps {
			return a.SignUps > b.SignUps
		}
		return a.Domain < b.Domain
	})
	st.TopDomains = all[:min(top, len(all))]
	return st, nil
}
