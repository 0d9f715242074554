package tablestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/invitegate/invitegate/internal/invite"
)

// Redemption bookkeeping has three duties: count each sign-up once however
// often Entra retries (correlation ids), lose no count when sign-ups race
// (ETag-conditional writes, retried on 412), and never make unrelated
// sign-ups contend (a domain invitation's sign-ups are recorded per address,
// in the address's own partition).
//
// Within one process, concurrent redemptions of the same row are coalesced:
// while one write is in flight, later ones queue into a batch that the next
// write applies at once. Across instances the ETag check keeps counts exact.

// redeemQueue coalesces redemptions per row.
type redeemQueue struct {
	mu    sync.Mutex
	open  map[rowID]*redeemBatch // batches still accepting ids
	locks map[rowID]*rowLock     // one writer per row
}

type rowID struct{ pk, rk string }

type rowLock struct {
	ch   chan struct{}
	refs int
}

type redeemBatch struct {
	ids     []string
	done    chan struct{}
	counted map[string]bool
	err     error
}

// maxRedeemAttempts bounds ETag retries of one batch.
const maxRedeemAttempts = 20

// Redeem records one sign-up through inv by email. See invite.Store.
func (s *Store) Redeem(ctx context.Context, inv invite.Invitation, email, correlationID string, at time.Time) (bool, error) {
	id := correlationToken(correlationID)
	if id == "" {
		return false, fmt.Errorf("redeem: the request has no usable correlation id, so the sign-up cannot be counted exactly once")
	}
	row := rowID{pk: inv.Subject, rk: rowKey(inv.Key)}
	perAddress := inv.IsDomain()
	if perAddress {
		row = rowID{pk: email, rk: domainRecordPrefix + rowKey(inv.Key)}
	}

	q := &s.redeemers
	q.mu.Lock()
	if q.open == nil {
		q.open = make(map[rowID]*redeemBatch)
		q.locks = make(map[rowID]*rowLock)
	}
	b, joined := q.open[row]
	if !joined {
		b = &redeemBatch{done: make(chan struct{})}
		q.open[row] = b
	}
	b.ids = append(b.ids, id)
	q.mu.Unlock()

	if !joined {
		// This caller leads the batch. The write must not die with the
		// caller's request: the waiters' counts depend on it.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeBudget(ctx))
		go func() {
			defer cancel()
			unlock := q.lock(row)
			q.mu.Lock()
			delete(q.open, row) // later callers start the next batch
			ids := b.ids
			q.mu.Unlock()
			b.counted, b.err = s.writeRedemptions(wctx, row, perAddress, ids, at)
			unlock()
			close(b.done)
		}()
	}
	select {
	case <-b.done:
		if b.err != nil {
			return false, b.err
		}
		return b.counted[id], nil
	case <-ctx.Done():
		return false, fmt.Errorf("%w: recording the redemption: %v", invite.ErrUnavailable, ctx.Err())
	}
}

// writeBudget gives the write the caller's remaining time, at least 2s: a
// caller that gives up does not abandon the count.
func writeBudget(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d > 2*time.Second {
			return d
		}
	}
	return 2 * time.Second
}

func (q *redeemQueue) lock(row rowID) (unlock func()) {
	q.mu.Lock()
	l := q.locks[row]
	if l == nil {
		l = &rowLock{ch: make(chan struct{}, 1)}
		q.locks[row] = l
	}
	l.refs++
	q.mu.Unlock()
	l.ch <- struct{}{}
	return func() {
		<-l.ch
		q.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(q.locks, row)
		}
		q.mu.Unlock()
	}
}

// writeRedemptions applies ids to the row with an ETag-conditional write,
// re-reading and retrying when another writer got there first.
func (s *Store) writeRedemptions(ctx context.Context, row rowID, create bool, ids []string, at time.Time) (map[string]bool, error) {
	for attempt := 0; attempt < maxRedeemAttempts; attempt++ {
		var e entity
		var etag *azcore.ETag
		resp, err := s.client.GetEntity(ctx, row.pk, row.rk, nil)
		switch {
		case err == nil:
			if err := json.Unmarshal(resp.Value, &e); err != nil {
				return nil, fmt.Errorf("redemption row is not readable: %v", err)
			}
			etag = &resp.ETag
		case create && errors.Is(s.classify(err, ""), invite.ErrNotFound):
			e = entity{PartitionKey: row.pk, RowKey: row.rk, Status: string(invite.StatusRedeemed)}
		default:
			if errors.Is(s.classify(err, ""), invite.ErrNotFound) {
				return nil, fmt.Errorf("%w: the invitation was deleted before its redemption was recorded", invite.ErrNotFound)
			}
			return nil, s.classify(err, "reading the redemption record")
		}
		counted := e.countRedemptions(ids, at)
		if len(counted) == 0 {
			return counted, nil // every id was counted before: a retry
		}
		if err := s.writeRow(ctx, e, etag); err != nil {
			if hasCode(err, aztables.UpdateConditionNotSatisfied) || hasCode(err, aztables.EntityAlreadyExists) {
				continue // another writer won; read again
			}
			return nil, s.classify(err, "recording the redemption")
		}
		return counted, nil
	}
	return nil, fmt.Errorf("%w: recording the redemption: the row kept changing (%d attempts)", invite.ErrUnavailable, maxRedeemAttempts)
}

// writeRow adds e (etag nil) or merges its bookkeeping into the row with
// that ETag. Merge leaves an administrator's fields alone; the ETag makes
// a concurrent change of either kind a retry, not a lost update.
func (s *Store) writeRow(ctx context.Context, e entity, etag *azcore.ETag) error {
	if etag == nil {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		_, err = s.client.AddEntity(ctx, b, nil)
		return err
	}
	patch := map[string]any{
		"PartitionKey":       e.PartitionKey,
		"RowKey":             e.RowKey,
		"Status":             e.Status,
		"Redemptions":        e.Redemptions,
		"RecentCorrelations": e.RecentCorrelations,
	}
	for name, v := range map[string][2]string{
		"RedeemedFirst": {e.RedeemedFirst, e.RedeemedFirstType},
		"RedeemedLast":  {e.RedeemedLast, e.RedeemedLastType},
	} {
		patch[name], patch[name+"@odata.type"] = v[0], v[1]
	}
	b, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	_, err = s.client.UpdateEntity(ctx, b, &aztables.UpdateEntityOptions{IfMatch: etag, UpdateMode: aztables.UpdateModeMerge})
	return err
}
