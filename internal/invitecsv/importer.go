package invitecsv

import (
	"context"
	"errors"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
)

// Store is what an Importer writes to.
type Store interface {
	Lister
	Update(ctx context.Context, k invite.Key, fn func(cur *invite.Invitation) (*invite.Invitation, error)) error
	Create(ctx context.Context, inv invite.Invitation) error
}

// Kind is what importing a row did to its invitation.
type Kind string

// Kinds of Result.
const (
	Created   Kind = "new"
	Updated   Kind = "update"
	Unchanged Kind = "unchanged"
)

// Result is what importing one row did (or, in a dry run, would do).
type Result struct {
	Row
	Kind Kind
	// Changed names the columns an update changes.
	Changed []string
	// Lifted is set when the row makes a revoked invitation valid again.
	Lifted bool
	// Err is why the row was not written.
	Err error
}

// Importer writes the rows of an import to a store: each as one
// conditional write (invite.AdminStore.Update), so that a row is written
// whole or not at all and a sign-up the gate records meanwhile is kept.
// A row that changes nothing is not written, so re-running an import
// changes nothing.
type Importer struct {
	s      Store
	now    time.Time
	dryRun bool
	empty  bool
}

// NewImporter returns an Importer for s at time now; a dry run reads and
// reports but writes nothing. Into a table without invitations (a first
// load, a restore) each row costs one insert instead of a read and a
// write; a row that appears meanwhile takes the general path.
func NewImporter(ctx context.Context, s Store, now time.Time, dryRun bool) (*Importer, error) {
	im := &Importer{s: s, now: now, dryRun: dryRun}
	if dryRun {
		return im, nil
	}
	found := errors.New("found one")
	err := s.List(ctx, "", func(invite.Invitation) error { return found })
	if err != nil && !errors.Is(err, found) {
		return nil, err
	}
	im.empty = err == nil
	return im, nil
}

// Import applies one row.
func (im *Importer) Import(ctx context.Context, row Row) Result {
	res := Result{Row: row, Kind: Created}
	if im.empty {
		err := im.s.Create(ctx, row.Apply(nil, im.now))
		if !errors.Is(err, invite.ErrExists) {
			res.Err = err
			return res
		}
	}
	res.Err = im.s.Update(ctx, row.Key, func(cur *invite.Invitation) (*invite.Invitation, error) {
		next := row.Apply(cur, im.now)
		res.Kind, res.Changed, res.Lifted = Created, nil, invite.LiftsRevocation(cur, next)
		if cur != nil {
			if res.Changed = Changes(*cur, next); len(res.Changed) == 0 {
				res.Kind = Unchanged
				return nil, nil
			}
			res.Kind = Updated
		}
		if im.dryRun {
			return nil, nil
		}
		return &next, nil
	})
	return res
}
