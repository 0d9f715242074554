package tablestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/invitegate/invitegate/internal/invite"
)

// The registry of applications lives in the invitation table, in a
// partition of its own:
//
//	PartitionKey  "~apps": it has no "@", so it is never an address (which
//	              has one) nor a whole domain (which starts with one)
//	RowKey        "~app~" + the appId, or "~app~*"; a row key starting with
//	              "~" is never an invitation, so List, the domain copy and
//	              the per-address sign-up records all pass it by
//	Name          the application's name
//	SignupURL     its sign-up page, with {email}
const (
	appPartition = "~apps"
	appRowPrefix = "~app~"
)

// appEntity is one registered application as JSON.
type appEntity struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	Name         string `json:"Name,omitempty"`
	SignupURL    string `json:"SignupURL,omitempty"`
}

func (e appEntity) app() invite.App {
	return invite.App{ID: strings.TrimPrefix(e.RowKey, appRowPrefix), Name: e.Name, SignupURL: e.SignupURL}
}

func appRowKey(id string) string {
	if id == "" {
		id = invite.AnyApp
	}
	return appRowPrefix + id
}

// PutApp registers an application, or replaces its entry.
func (s *Store) PutApp(ctx context.Context, app invite.App) error {
	b, err := json.Marshal(appEntity{PartitionKey: appPartition, RowKey: appRowKey(app.ID), Name: app.Name, SignupURL: app.SignupURL})
	if err != nil {
		return err
	}
	_, err = s.client.UpsertEntity(ctx, b, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace})
	return s.classify(err, "writing the application")
}

// GetApp returns a registered application, or invite.ErrAppNotFound.
func (s *Store) GetApp(ctx context.Context, id string) (invite.App, error) {
	resp, err := s.client.GetEntity(ctx, appPartition, appRowKey(id), nil)
	if err != nil {
		err = s.classify(err, "reading the application")
		if errors.Is(err, invite.ErrNotFound) {
			return invite.App{}, fmt.Errorf("%w: %s", invite.ErrAppNotFound, id)
		}
		return invite.App{}, err
	}
	var e appEntity
	if err := json.Unmarshal(resp.Value, &e); err != nil {
		return invite.App{}, fmt.Errorf("application %s is not readable: %v", id, err)
	}
	return e.app(), nil
}

// DeleteApp removes an application from the registry, or returns
// invite.ErrAppNotFound. Its invitations stay.
func (s *Store) DeleteApp(ctx context.Context, id string) error {
	_, err := s.client.DeleteEntity(ctx, appPartition, appRowKey(id), nil)
	err = s.classify(err, "deleting the application")
	if errors.Is(err, invite.ErrNotFound) {
		return fmt.Errorf("%w: %s", invite.ErrAppNotFound, id)
	}
	return err
}

// ListApps calls fn for every registered application, in id order.
func (s *Store) ListApps(ctx context.Context, fn func(invite.App) error) error {
	filter := "PartitionKey eq " + quote(appPartition)
	pager := s.client.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &filter})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return s.classify(err, "listing applications")
		}
		for _, raw := range page.Entities {
			var e appEntity
			if err := json.Unmarshal(raw, &e); err != nil {
				return fmt.Errorf("listing applications: a row is not readable: %v", err)
			}
			if err := fn(e.app()); err != nil {
				return err
			}
		}
	}
	return nil
}
