package tablestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/invitegate/invitegate/internal/invite"
)

var _ invite.AdminStore = (*Store)(nil)

// maxUpdateAttempts bounds how often Update re-reads a row that keeps
// changing under it.
const maxUpdateAttempts = 20

// Update changes one invitation with an ETag-conditional write, so a
// sign-up the gate records meanwhile is never overwritten: on a conflict
// the row is read again and fn called again. See invite.AdminStore.
func (s *Store) Update(ctx context.Context, k invite.Key, fn func(cur *invite.Invitation) (*invite.Invitation, error)) error {
	rk := rowKey(k)
	if strings.HasPrefix(rk, "~") {
		return fmt.Errorf("update: %q is not an application id", k.App)
	}
	for attempt := 0; attempt < maxUpdateAttempts; attempt++ {
		var (
			cur    *invite.Invitation
			old    entity
			etag   *azcore.ETag
			exists bool
		)
		resp, err := s.client.GetEntity(ctx, k.Subject, rk, nil)
		switch {
		case err == nil:
			if err := json.Unmarshal(resp.Value, &old); err != nil {
				return fmt.Errorf("invitation %s is not readable: %v", k, err)
			}
			inv, err := old.invitation()
			if err != nil {
				return fmt.Errorf("invitation %s is not readable: %v", k, err)
			}
			cur, etag, exists = &inv, &resp.ETag, true
		case !errors.Is(s.classify(err, ""), invite.ErrNotFound):
			return s.classify(err, "reading the invitation")
		}
		next, err := fn(cur)
		if err != nil || next == nil {
			return err
		}
		inv := *next
		inv.Key = invite.Key{Subject: k.Subject, App: rk}
		e, err := toEntity(inv)
		if err != nil {
			return err
		}
		// Entra retries a sign-up it is unsure of; keep the ids already
		// counted so the retry is not counted again.
		e.RecentCorrelations = old.RecentCorrelations
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if exists {
			_, err = s.client.UpdateEntity(ctx, b, &aztables.UpdateEntityOptions{IfMatch: etag, UpdateMode: aztables.UpdateModeReplace})
		} else {
			_, err = s.client.AddEntity(ctx, b, nil)
		}
		switch {
		case err == nil:
			return nil
		case hasCode(err, aztables.UpdateConditionNotSatisfied), hasCode(err, aztables.EntityAlreadyExists),
			!exists && errors.Is(s.classify(err, ""), invite.ErrNotFound):
			continue // somebody wrote the row first (or deleted it): read again
		default:
			return s.classify(err, "writing the invitation")
		}
	}
	return fmt.Errorf("%w: updating %s: the row kept changing (%d attempts)", invite.ErrUnavailable, k, maxUpdateAttempts)
}

// Create adds an invitation that must not exist yet: one insert.
func (s *Store) Create(ctx context.Context, inv invite.Invitation) error {
	if strings.HasPrefix(rowKey(inv.Key), "~") {
		return fmt.Errorf("create: %q is not an application id", inv.App)
	}
	e, err := toEntity(inv)
	if err != nil {
		return err
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = s.client.AddEntity(ctx, b, nil)
	if hasCode(err, aztables.EntityAlreadyExists) {
		return fmt.Errorf("%w: %s", invite.ErrExists, inv.Key)
	}
	return s.classify(err, "creating the invitation")
}

// ListAddressRecords streams the per-address records of sign-ups through
// domain invitations. They share no partition, so this is a table scan
// that the service filters on the row key.
func (s *Store) ListAddressRecords(ctx context.Context, fn func(invite.AddressRecord) error) error {
	filter := "RowKey ge " + quote(domainRecordPrefix) + " and RowKey lt " + quote(domainRecordPrefix+"\uffff")
	return s.scan(ctx, filter, "listing sign-up records", func(e entity) error {
		return fn(invite.AddressRecord{
			Email:       e.PartitionKey,
			Invitation:  invite.Key{Subject: invite.DomainOf(e.PartitionKey), App: strings.TrimPrefix(e.RowKey, domainRecordPrefix)},
			Redemptions: e.redemptions(),
		})
	})
}
