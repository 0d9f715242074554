// Package invitetest holds what tests of invite.Store users and
// implementations share: an in-memory Store for unit tests of the decision
// logic, and the conformance suite every real Store must pass.
package invitetest

import (
	"context"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
)

// Memory is an in-memory invite.Store. It is for unit tests of code that
// uses a store; the conformance suite proves it behaves like the real one.
type Memory struct {
	mu        sync.Mutex
	rows      map[invite.Key]invite.Invitation
	perAddr   map[[2]string]*memRecord                      // {email, domain key} → record
	approvals map[string]map[invite.Binding]invite.Approval // email → binding → approval
	calls     atomic.Int64
	// Err, when set, is returned by every call (a store that is down).
	Err error
	// apps is the registry of applications (apps.go).
	apps appRegistry
}

type memRecord struct {
	invite.Redemptions
	seen map[string]bool
}

var _ invite.Store = (*Memory)(nil)

// NewMemory returns an empty Memory store.
func NewMemory() *Memory {
	return &Memory{rows: make(map[invite.Key]invite.Invitation), perAddr: make(map[[2]string]*memRecord)}
}

// Calls returns how many store calls were made.
func (m *Memory) Calls() int { return int(m.calls.Load()) }

func (m *Memory) enter() error {
	m.calls.Add(1)
	return m.Err
}

func normKey(k invite.Key) invite.Key {
	if k.App == "" {
		k.App = invite.AnyApp
	}
	return k
}

// Match implements invite.Store.
func (m *Memory) Match(ctx context.Context, email, app string) (invite.Match, error) {
	if err := m.enter(); err != nil {
		return invite.Match{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	get := func(subject, app string) *invite.Invitation {
		if inv, ok := m.rows[invite.Key{Subject: subject, App: app}]; ok {
			return &inv
		}
		return nil
	}
	res := invite.Match{Email: email, App: app, DomainLoaded: time.Now()}
	domain := invite.DomainOf(email)
	res.AddressAny, res.DomainAny = get(email, invite.AnyApp), get(domain, invite.AnyApp)
	if app != "" && app != invite.AnyApp {
		res.AddressApp, res.DomainApp = get(email, app), get(domain, app)
	}
	res.Approvals = m.approvalsOf(email)
	return res, nil
}

// Redeem implements invite.Store.
func (m *Memory) Redeem(ctx context.Context, inv invite.Invitation, email, correlationID string, at time.Time) (bool, error) {
	if err := m.enter(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := normKey(inv.Key)
	if inv.IsDomain() {
		id := [2]string{email, k.Subject + "|" + k.App}
		r := m.perAddr[id]
		if r == nil {
			r = &memRecord{seen: map[string]bool{}}
			m.perAddr[id] = r
		}
		return count(&r.Redemptions, r.seen, correlationID, at), nil
	}
	row, ok := m.rows[k]
	if !ok {
		return false, invite.ErrNotFound
	}
	seen := m.seen(k)
	recorded := count(&row.Redemptions, seen, correlationID, at)
	if recorded {
		row.Status = row.Status.AfterSignUp()
	}
	m.rows[k] = row
	return recorded, nil
}

// seen keeps the correlation ids of address invitations beside the rows.
func (m *Memory) seen(k invite.Key) map[string]bool {
	id := [2]string{"", k.Subject + "|" + k.App}
	r := m.perAddr[id]
	if r == nil {
		r = &memRecord{seen: map[string]bool{}}
		m.perAddr[id] = r
	}
	return r.seen
}

func count(r *invite.Redemptions, seen map[string]bool, id string, at time.Time) bool {
	if seen[id] {
		return false
	}
	seen[id] = true
	r.Count++
	if r.First.IsZero() {
		r.First = at
	}
	r.Last = at
	return true
}

// Init implements invite.Store.
func (m *Memory) Init(ctx context.Context) error { return m.enter() }

// Get implements invite.Store.
func (m *Memory) Get(ctx context.Context, k invite.Key) (invite.Invitation, error) {
	if err := m.enter(); err != nil {
		return invite.Invitation{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	inv, ok := m.rows[normKey(k)]
	if !ok {
		return invite.Invitation{}, invite.ErrNotFound
	}
	return inv, nil
}

// Put implements invite.Store.
func (m *Memory) Put(ctx context.Context, inv invite.Invitation) error {
	if err := m.enter(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	inv.Key = normKey(inv.Key)
	m.rows[inv.Key] = inv
	return nil
}

// SetStatus implements invite.Store.
func (m *Memory) SetStatus(ctx context.Context, k invite.Key, st invite.Status) error {
	if err := m.enter(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k = normKey(k)
	inv, ok := m.rows[k]
	if !ok {
		return invite.ErrNotFound
	}
	inv.Status = st
	m.rows[k] = inv
	return nil
}

// Delete implements invite.Store.
func (m *Memory) Delete(ctx context.Context, k invite.Key) error {
	if err := m.enter(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k = normKey(k)
	if _, ok := m.rows[k]; !ok {
		return invite.ErrNotFound
	}
	delete(m.rows, k)
	return nil
}

// List implements invite.Store.
func (m *Memory) List(ctx context.Context, prefix string, fn func(invite.Invitation) error) error {
	if err := m.enter(); err != nil {
		return err
	}
	m.mu.Lock()
	var all []invite.Invitation
	for k, inv := range m.rows {
		if strings.HasPrefix(k.Subject, prefix) {
			all = append(all, inv)
		}
	}
	m.mu.Unlock()
	sort.Slice(all, func(i, j int) bool {
		if all[i].Subject != all[j].Subject {
			return all[i].Subject < all[j].Subject
		}
		return all[i].App < all[j].App
	})
	for _, inv := range all {
		if err := fn(inv); err != nil {
			return err
		}
	}
	return nil
}

// AddressRedemptions implements invite.Store.
func (m *Memory) AddressRedemptions(ctx context.Context, k invite.Key, email string) (invite.Redemptions, error) {
	if err := m.enter(); err != nil {
		return invite.Redemptions{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k = normKey(k)
	if r := m.perAddr[[2]string{email, k.Subject + "|" + k.App}]; r != nil {
		return r.Redemptions, nil
	}
	return invite.Redemptions{}, nil
}

var _ invite.AdminStore = (*Memory)(nil)

// Update implements invite.AdminStore. fn runs under the store's lock.
func (m *Memory) Update(ctx context.Context, k invite.Key, fn func(cur *invite.Invitation) (*invite.Invitation, error)) error {
	if err := m.enter(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k = normKey(k)
	var cur *invite.Invitation
	if inv, ok := m.rows[k]; ok {
		// A copy: fn may change the maps without touching the stored row.
		inv.Prefill, inv.Set = copyValues(inv.Prefill), copyValues(inv.Set)
		cur = &inv
	}
	next, err := fn(cur)
	if err != nil || next == nil {
		return err
	}
	inv := *next
	inv.Key = k
	inv.Prefill, inv.Set = copyValues(inv.Prefill), copyValues(inv.Set)
	m.rows[k] = inv
	return nil
}

// Create implements invite.AdminStore.
func (m *Memory) Create(ctx context.Context, inv invite.Invitation) error {
	if err := m.enter(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	inv.Key = normKey(inv.Key)
	if _, ok := m.rows[inv.Key]; ok {
		return invite.ErrExists
	}
	inv.Prefill, inv.Set = copyValues(inv.Prefill), copyValues(inv.Set)
	m.rows[inv.Key] = inv
	return nil
}

func copyValues(v map[string]string) map[string]string {
	if len(v) == 0 {
		return nil
	}
	c := make(map[string]string, len(v))
	for n, s := range v {
		c[n] = s
	}
	return c
}

// ListAddressRecords implements invite.AdminStore.
func (m *Memory) ListAddressRecords(ctx context.Context, fn func(invite.AddressRecord) error) error {
	if err := m.enter(); err != nil {
		return err
	}
	m.mu.Lock()
	var all []invite.AddressRecord
	for id, r := range m.perAddr {
		if id[0] == "" {
			continue // the correlation ids of an address invitation
		}
		subject, app, _ := strings.Cut(id[1], "|")
		all = append(all, invite.AddressRecord{Email: id[0], Invitation: invite.Key{Subject: subject, App: app}, Redemptions: r.Redemptions})
	}
	m.mu.Unlock()
	sort.Slice(all, func(i, j int) bool {
		if all[i].Email != all[j].Email {
			return all[i].Email < all[j].Email
		}
		return all[i].Invitation.Subject+"|"+all[i].Invitation.App < all[j].Invitation.Subject+"|"+all[j].Invitation.App
	})
	for _, r := range all {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}
