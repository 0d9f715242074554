package tablestore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
)

// domainSnapshot is an immutable in-memory copy of every whole-domain
// invitation. The gate answers from it so that each sign-up costs one store
// round trip (the address's own partition, always read live).
type domainSnapshot struct {
	loaded time.Time
	byKey  map[invite.Key]*invite.Invitation
}

func (d *domainSnapshot) lookup(domain, app string) (anyApp, forApp *invite.Invitation) {
	anyApp = d.byKey[invite.Key{Subject: domain, App: invite.AnyApp}]
	if app != "" && app != invite.AnyApp {
		forApp = d.byKey[invite.Key{Subject: domain, App: app}]
	}
	return anyApp, forApp
}

// Domains returns how many whole-domain invitations the in-memory copy
// holds and when it was loaded (zero when never).
func (s *Store) Domains() (n int, loaded time.Time) {
	if d := s.domains.Load(); d != nil {
		return len(d.byKey), d.loaded
	}
	return 0, time.Time{}
}

// maxStale is how old the domain copy may grow, when reloads fail, before
// the gate stops trusting it and fails closed.
func (s *Store) maxStale() time.Duration { return 3 * s.refresh }

// loadDomains reads every row whose partition key starts with "@" (all of
// them sort between "@" and "A") and swaps the copy in.
// Unless force is set, a copy younger than half the refresh interval is
// kept: concurrent requests that all found the copy stale share one load.
func (s *Store) loadDomains(ctx context.Context, force bool) (*domainSnapshot, error) {
	s.domainMu.Lock()
	defer s.domainMu.Unlock()
	if d := s.domains.Load(); !force && d != nil && s.now().Sub(d.loaded) < s.refresh/2 {
		return d, nil
	}
	started := s.now()
	filter := "PartitionKey ge '@' and PartitionKey lt 'A' and RowKey lt '~'"
	next := &domainSnapshot{loaded: started, byKey: make(map[invite.Key]*invite.Invitation)}
	err := s.scanInvitations(ctx, filter, "reading the domain invitations", func(inv invite.Invitation) error {
		next.byKey[inv.Key] = &inv
		return nil
	})
	if err != nil {
		if !errors.Is(err, invite.ErrUnavailable) {
			err = fmt.Errorf("%w: %v", invite.ErrUnavailable, err) // an unreadable row: fail closed
		}
		return nil, err
	}
	s.domains.Store(next)
	return next, nil
}

// RefreshDomains reloads the domain copy every DomainRefresh until ctx
// ends. Failures are passed to onError and retried at the next tick; the
// gate fails closed once the copy is older than three intervals.
func (s *Store) RefreshDomains(ctx context.Context, onError func(error)) {
	t := time.NewTicker(s.refresh)
	defer t.Stop()
	for {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := s.loadDomains(lctx, true)
		cancel()
		if err != nil && ctx.Err() == nil && onError != nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
