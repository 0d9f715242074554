package tablestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/invitegate/invitegate/internal/invite"
)

// Options tune a Store.
type Options struct {
	// Retries is how many times the SDK retries a failed call (throttling,
	// 5xx, network). The gate uses 0: its deadline is too short to wait. The
	// admin CLI uses a few, with backoff.
	Retries int
	// DomainRefresh is how often the in-memory copy of whole-domain
	// invitations is reloaded (default 30s).
	DomainRefresh time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// HTTPClient overrides the HTTP client (tests).
	HTTPClient *http.Client
}

// Store is an invite.Store on Azure Table Storage.
type Store struct {
	client   *aztables.Client
	service  *aztables.ServiceClient
	settings Settings
	now      func() time.Time
	refresh  time.Duration

	domains   atomic.Pointer[domainSnapshot]
	domainMu  sync.Mutex // one domain load at a time
	redeemers redeemQueue
}

var _ invite.Store = (*Store)(nil)

// Open returns a Store for the table that s names. It does not contact the
// service: the first call does.
func Open(s Settings, o Options) (*Store, error) {
	s, err := s.Check()
	if err != nil {
		return nil, err
	}
	if o.DomainRefresh <= 0 {
		o.DomainRefresh = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Transport: newTransport()}
	}
	retries := int32(o.Retries)
	if retries <= 0 {
		retries = -1 // azcore: a negative value disables retries
	}
	copts := &aztables.ClientOptions{ClientOptions: policy.ClientOptions{
		Transport: o.HTTPClient,
		Retry: policy.RetryOptions{
			MaxRetries:    retries,
			RetryDelay:    200 * time.Millisecond,
			MaxRetryDelay: 5 * time.Second,
			StatusCodes:   []int{http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout},
		},
		Telemetry: policy.TelemetryOptions{ApplicationID: "invitegate"},
	}}
	st := &Store{settings: s, now: o.Now, refresh: o.DomainRefresh}
	if s.ServiceURL != "" {
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, fmt.Errorf("%s is set but no Microsoft Entra credential is available (%v): in Azure, enable the Function App's managed identity; locally, sign in with az login", EnvServiceURL, err)
		}
		if st.service, err = aztables.NewServiceClient(s.ServiceURL, cred, copts); err != nil {
			return nil, fmt.Errorf("%s: %v", EnvServiceURL, err)
		}
	} else {
		if st.service, err = aztables.NewServiceClientFromConnectionString(s.Connection, copts); err != nil {
			return nil, fmt.Errorf("%s is not a usable connection string: check AccountName, AccountKey and the endpoints", EnvConnection)
		}
	}
	st.client = st.service.NewClient(s.Table)
	return st, nil
}

// newTransport keeps enough idle connections for hundreds of requests per
// second on one host, and bounds connection set-up. It also caps the
// connections to the store: when requests arrive faster than the store
// answers, the excess waits for a connection until its deadline (and the
// gate fails closed) instead of opening one socket each, which let memory
// and open files grow with the backlog and slowed the store further
// (docs/performance.md, "Overload"). 64 is far above what the gate needs
// (Entra sends at most 50 requests a second per tenant) and equals
// invitectl's highest --concurrency.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		MaxConnsPerHost:       64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   2 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		ForceAttemptHTTP2:     true,
	}
}

// Settings returns the settings the store was opened with.
func (s *Store) Settings() Settings { return s.settings }

// Init creates the invitation table when it is missing.
func (s *Store) Init(ctx context.Context) error {
	_, err := s.service.CreateTable(ctx, s.settings.Table, nil)
	if err == nil || hasCode(err, aztables.TableAlreadyExists) {
		return nil
	}
	return s.classify(err, "creating the table")
}

// Ping checks that the table exists and can be read.
func (s *Store) Ping(ctx context.Context) error {
	top := int32(1)
	pager := s.client.NewListEntitiesPager(&aztables.ListEntitiesOptions{Top: &top, Select: ptr("PartitionKey")})
	_, err := pager.NextPage(ctx)
	return s.classify(err, "reading the table")
}

func ptr[T any](v T) *T { return &v }

// quote renders s as an OData string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Match reads the address's invitations for app and its approvals (one
// partition query) and takes the domain's invitations from the in-memory
// copy, reloading it first when it is missing or too old.
//
// The service may split even a one-partition answer into pages, and may
// send a page with no rows and a continuation token (for example when a
// query runs past a partition-server boundary or its time slice). Every
// page is read, within ctx's deadline: stopping at the first one could hide
// an address's revocation and let its domain decide.
func (s *Store) Match(ctx context.Context, email, app string) (invite.Match, error) {
	m := invite.Match{Email: email, App: app}
	rows := "RowKey eq '*'"
	if app != "" && app != invite.AnyApp {
		rows = "RowKey eq " + quote(app) + " or RowKey eq '*'"
	}
	filter := "PartitionKey eq " + quote(email) + " and (" + rows + " or " + approvalFilter + ")"

	snap := s.domains.Load()
	var (
		wg      sync.WaitGroup
		loadErr error
	)
	if snap == nil || s.now().Sub(snap.loaded) > s.maxStale() {
		// Load the domains beside the address query, not after it.
		wg.Add(1)
		go func() {
			defer wg.Done()
			snap, loadErr = s.loadDomains(ctx, false)
		}()
	}
	err := s.matchAddress(ctx, filter, &m)
	wg.Wait()
	if err != nil {
		return m, err
	}
	if loadErr != nil {
		return m, loadErr
	}
	m.DomainAny, m.DomainApp = snap.lookup(invite.DomainOf(email), app)
	m.DomainLoaded = snap.loaded
	return m, nil
}

// matchAddress reads every page of the address query into m.
func (s *Store) matchAddress(ctx context.Context, filter string, m *invite.Match) error {
	unreadable := func(err error) error {
		return fmt.Errorf("%w: a row of the address's invitations is not readable: %v", invite.ErrUnavailable, err)
	}
	pager := s.client.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &filter})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return s.classify(err, "reading the address's invitations")
		}
		for _, raw := range page.Entities {
			var e entity
			if err := json.Unmarshal(raw, &e); err != nil {
				return unreadable(err)
			}
			if a, ok, err := approvalRow(e.RowKey, raw); ok {
				if err != nil {
					return unreadable(err)
				}
				m.Approvals = append(m.Approvals, a)
				continue
			}
			inv, err := e.invitation()
			if err != nil {
				return unreadable(err)
			}
			if e.RowKey == invite.AnyApp {
				m.AddressAny = &inv
			} else {
				m.AddressApp = &inv
			}
		}
	}
	return nil
}

// Get returns one invitation.
func (s *Store) Get(ctx context.Context, k invite.Key) (invite.Invitation, error) {
	resp, err := s.client.GetEntity(ctx, k.Subject, rowKey(k), nil)
	if err != nil {
		return invite.Invitation{}, s.classify(err, "reading the invitation")
	}
	var e entity
	if err := json.Unmarshal(resp.Value, &e); err != nil {
		return invite.Invitation{}, fmt.Errorf("invitation %s is not readable: %v", k, err)
	}
	return e.invitation()
}

func rowKey(k invite.Key) string {
	if k.App == "" {
		return invite.AnyApp
	}
	return k.App
}

// Put creates or replaces an invitation.
func (s *Store) Put(ctx context.Context, inv invite.Invitation) error {
	e, err := toEntity(inv)
	if err != nil {
		return err
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = s.client.UpsertEntity(ctx, b, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace})
	return s.classify(err, "writing the invitation")
}

// SetStatus changes an invitation's status, keeping everything else.
func (s *Store) SetStatus(ctx context.Context, k invite.Key, st invite.Status) error {
	b, err := json.Marshal(map[string]string{"PartitionKey": k.Subject, "RowKey": rowKey(k), "Status": string(st)})
	if err != nil {
		return err
	}
	// Merge with If-Match "*": fails with 404 rather than creating a row.
	_, err = s.client.UpdateEntity(ctx, b, &aztables.UpdateEntityOptions{UpdateMode: aztables.UpdateModeMerge})
	return s.classify(err, "updating the invitation")
}

// Delete removes an invitation.
func (s *Store) Delete(ctx context.Context, k invite.Key) error {
	_, err := s.client.DeleteEntity(ctx, k.Subject, rowKey(k), nil)
	return s.classify(err, "deleting the invitation")
}

// List streams the invitations whose subject starts with prefix, page by
// page, in key order. Per-address redemption records are not invitations
// and are skipped.
func (s *Store) List(ctx context.Context, prefix string, fn func(invite.Invitation) error) error {
	filter := "RowKey lt '~'"
	if prefix != "" {
		filter = "PartitionKey ge " + quote(prefix) + " and PartitionKey lt " + quote(prefix+"\uffff") + " and " + filter
	}
	return s.scanInvitations(ctx, filter, "listing invitations", fn)
}

// scan streams the rows that filter selects, page by page, decoded.
func (s *Store) scan(ctx context.Context, filter, op string, fn func(entity) error) error {
	pager := s.client.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &filter})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return s.classify(err, op)
		}
		for _, raw := range page.Entities {
			var e entity
			if err := json.Unmarshal(raw, &e); err != nil {
				return fmt.Errorf("%s: a row is not readable: %v", op, err)
			}
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// scanInvitations is scan for rows that are invitations.
func (s *Store) scanInvitations(ctx context.Context, filter, op string, fn func(invite.Invitation) error) error {
	return s.scan(ctx, filter, op, func(e entity) error {
		inv, err := e.invitation()
		if err != nil {
			return fmt.Errorf("%s: invitation %s is not readable: %v", op, e.PartitionKey, err)
		}
		return fn(inv)
	})
}

// AddressRedemptions returns the per-address record of sign-ups through the
// domain invitation k by email.
func (s *Store) AddressRedemptions(ctx context.Context, k invite.Key, email string) (invite.Redemptions, error) {
	resp, err := s.client.GetEntity(ctx, email, domainRecordPrefix+rowKey(k), nil)
	if err != nil {
		if errors.Is(s.classify(err, ""), invite.ErrNotFound) {
			return invite.Redemptions{}, nil
		}
		return invite.Redemptions{}, s.classify(err, "reading redemptions")
	}
	var e entity
	if err := json.Unmarshal(resp.Value, &e); err != nil {
		return invite.Redemptions{}, err
	}
	return e.redemptions(), nil
}

func hasCode(err error, code aztables.TableErrorCode) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.ErrorCode == string(code)
}

// classify turns an SDK error into this package's sentinels with a message
// that is safe to log: SDK errors quote the request URL, which holds the
// partition key, an email address; classify drops it.
func (s *Store) classify(err error, op string) error {
	if err == nil {
		return nil
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		switch {
		case re.StatusCode == http.StatusNotFound && re.ErrorCode == "TableNotFound":
			return fmt.Errorf("%w: %s: table %q not found in %s: create it with `invitectl init` (or set %s to the right table)", invite.ErrTableMissing, op, s.settings.Table, s.settings.Where(), EnvTable)
		case re.StatusCode == http.StatusNotFound:
			return fmt.Errorf("%w", invite.ErrNotFound)
		case re.StatusCode == http.StatusForbidden || re.StatusCode == http.StatusUnauthorized:
			return fmt.Errorf("%w: %s: access denied (HTTP %d %s) by %s: give the app's identity the Storage Table Data Contributor role, or check the account key", invite.ErrUnavailable, op, re.StatusCode, re.ErrorCode, s.settings.Where())
		}
		return fmt.Errorf("%w: %s: HTTP %d %s from %s", invite.ErrUnavailable, op, re.StatusCode, re.ErrorCode, s.settings.Where())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %s: timed out waiting for %s", invite.ErrUnavailable, op, s.settings.Where())
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%w: %s: canceled", invite.ErrUnavailable, op)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	if strings.Contains(msg, "@") {
		msg = "request failed"
	}
	return fmt.Errorf("%w: %s: %s (%s): check that the storage endpoint is reachable", invite.ErrUnavailable, op, msg, s.settings.Where())
}
