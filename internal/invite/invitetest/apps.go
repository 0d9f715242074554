package invitetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"

	"github.com/invitegate/invitegate/internal/invite"
)

// appRegistry is Memory's registry of applications.
type appRegistry struct {
	mu   sync.Mutex
	byID map[string]invite.App
}

func appID(id string) string {
	if id == "" {
		return invite.AnyApp
	}
	return id
}

// PutApp registers an application, or replaces its entry.
func (m *Memory) PutApp(ctx context.Context, app invite.App) error {
	if err := m.enter(); err != nil {
		return err
	}
	m.apps.mu.Lock()
	defer m.apps.mu.Unlock()
	if m.apps.byID == nil {
		m.apps.byID = map[string]invite.App{}
	}
	app.ID = appID(app.ID)
	m.apps.byID[app.ID] = app
	return nil
}

// GetApp returns a registered application, or invite.ErrAppNotFound.
func (m *Memory) GetApp(ctx context.Context, id string) (invite.App, error) {
	if err := m.enter(); err != nil {
		return invite.App{}, err
	}
	m.apps.mu.Lock()
	defer m.apps.mu.Unlock()
	app, ok := m.apps.byID[appID(id)]
	if !ok {
		return invite.App{}, fmt.Errorf("%w: %s", invite.ErrAppNotFound, id)
	}
	return app, nil
}

// DeleteApp removes an application, or returns invite.ErrAppNotFound.
func (m *Memory) DeleteApp(ctx context.Context, id string) error {
	if err := m.enter(); err != nil {
		return err
	}
	m.apps.mu.Lock()
	defer m.apps.mu.Unlock()
	if _, ok := m.apps.byID[appID(id)]; !ok {
		return fmt.Errorf("%w: %s", invite.ErrAppNotFound, id)
	}
	delete(m.apps.byID, appID(id))
	return nil
}

// ListApps calls fn for every registered application, in id order.
func (m *Memory) ListApps(ctx context.Context, fn func(invite.App) error) error {
	if err := m.enter(); err != nil {
		return err
	}
	m.apps.mu.Lock()
	all := make([]invite.App, 0, len(m.apps.byID))
	for _, app := range m.apps.byID {
		all = append(all, app)
	}
	m.apps.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	for _, app := range all {
		if err := fn(app); err != nil {
			return err
		}
	}
	return nil
}

// AppStore is a store with a registry of applications, as the tools that
// send invitation messages use it.
type AppStore interface {
	invite.AdminStore
	PutApp(ctx context.Context, app invite.App) error
	GetApp(ctx context.Context, id string) (invite.App, error)
	DeleteApp(ctx context.Context, id string) error
	ListApps(ctx context.Context, fn func(invite.App) error) error
}

var _ AppStore = (*Memory)(nil)

// RunApps is the conformance suite of the registry of applications.
// newStore has the contract of Run's.
func RunApps(t *testing.T, newStore func(t *testing.T) AppStore) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s AppStore)
	}{
		{"AppRoundTrip", testAppRoundTrip},
		{"AppMissing", testAppMissing},
		{"AppsAreNotInvitations", testAppsAreNotInvitations},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore(t))
		})
	}
}

func testAppRoundTrip(t *testing.T, s AppStore) {
	portal := invite.App{ID: appA, Name: "Contoso Portal — «beta»", SignupURL: "https://portal.contoso.com/signup?login_hint={email}"}
	anyApp := invite.App{ID: invite.AnyApp, Name: "Contoso", SignupURL: "https://contoso.com/join?hint={email}"}
	for _, app := range []invite.App{portal, anyApp} {
		if err := s.PutApp(ctx(t), app); err != nil {
			t.Fatalf("PutApp(%s): %v", app.ID, err)
		}
	}
	got, err := s.GetApp(ctx(t), appA)
	if err != nil || !reflect.DeepEqual(got, portal) {
		t.Fatalf("GetApp(%s) = %+v, %v; want %+v", appA, got, err, portal)
	}
	renamed := portal
	renamed.Name = "Portal"
	if err := s.PutApp(ctx(t), renamed); err != nil {
		t.Fatal(err)
	}
	var listed []invite.App
	if err := s.ListApps(ctx(t), func(a invite.App) error { listed = append(listed, a); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []invite.App{anyApp, renamed}; !reflect.DeepEqual(listed, want) {
		t.Fatalf("ListApps = %+v, want %+v (in id order, * first)", listed, want)
	}
	if err := s.DeleteApp(ctx(t), appA); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetApp(ctx(t), appA); !errors.Is(err, invite.ErrAppNotFound) {
		t.Fatalf("GetApp after DeleteApp = %v, want ErrAppNotFound", err)
	}
}

func testAppMissing(t *testing.T, s AppStore) {
	if _, err := s.GetApp(ctx(t), appB); !errors.Is(err, invite.ErrAppNotFound) {
		t.Fatalf("GetApp(missing) = %v, want ErrAppNotFound", err)
	}
	if err := s.DeleteApp(ctx(t), appB); !errors.Is(err, invite.ErrAppNotFound) {
		t.Fatalf("DeleteApp(missing) = %v, want ErrAppNotFound", err)
	}
	n := 0
	if err := s.ListApps(ctx(t), func(invite.App) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("ListApps on an empty registry: %d apps, %v", n, err)
	}
}

// The registry shares the table with invitations: no listing or lookup of
// invitations may see it, and no invitation may reach it.
func testAppsAreNotInvitations(t *testing.T, s AppStore) {
	if err := s.PutApp(ctx(t), invite.App{ID: invite.AnyApp, Name: "Any", SignupURL: "https://example.org/?h={email}"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutApp(ctx(t), invite.App{ID: appA, Name: "A", SignupURL: "https://a.example.org/?h={email}"}); err != nil {
		t.Fatal(err)
	}
	put(t, s, pending("@example.org", invite.AnyApp), pending("jo@example.org", appA))
	if got, want := keys(t, s, ""), []string{"@example.org *", "jo@example.org " + appA}; !reflect.DeepEqual(got, want) {
		t.Fatalf("List with applications registered = %q, want only the invitations %q", got, want)
	}
	if got := keys(t, s, "@"); !reflect.DeepEqual(got, []string{"@example.org *"}) {
		t.Fatalf("List of domains = %q", got)
	}
	records := 0
	if err := s.ListAddressRecords(ctx(t), func(invite.AddressRecord) error { records++; return nil }); err != nil || records != 0 {
		t.Fatalf("ListAddressRecords saw %d records (%v), want none", records, err)
	}
	m, err := s.Match(ctx(t), "jo@example.org", appA)
	if err != nil {
		t.Fatal(err)
	}
	if m.AddressApp == nil || m.DomainAny == nil || m.AddressAny != nil || m.DomainApp != nil {
		t.Fatalf("Match with applications registered: %+v", m)
	}
}
