package entraauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/rs/zerolog"
)

// maxDocument bounds discovery and JWKS bodies (Entra's are a few KB).
const maxDocument = 1 << 20

// jwk is one key of the tenant's JWKS, kept whatever its type so that a
// token naming an unusable key gets a precise reason.
type jwk struct {
	pub any // *rsa.PublicKey for RSA keys
	kty string
	use string
	alg string
}

// keySnapshot is one successful fetch. It is never modified, so requests
// read it without a lock.
type keySnapshot struct {
	issuer string // of the discovery document
	keys   map[string]jwk
}

// flight is one fetch of discovery plus JWKS; everyone who needs it waits
// on done, then reads err.
type flight struct {
	done chan struct{}
	err  error
}

// keySet keeps the tenant's signing keys fresh in the background so that no
// request fetches them on its own: it refreshes periodically, retries with
// backoff, and refreshes early for an unknown kid at most once per floor.
type keySet struct {
	ctx          context.Context // ends the background refresh
	discoveryURL string
	tenant       string
	client       *http.Client
	log          zerolog.Logger
	now          func() time.Time
	tune         tuning
	onNewKeys    func(keys map[string]jwk) // called after each successful fetch

	snap atomic.Pointer[keySnapshot] // nil until the first successful fetch

	mu           sync.Mutex
	inflight     *flight
	lastOnDemand time.Time // zero: the first unknown kid may refresh at once
	lastErr      error     // of the latest fetch; nil after a success
}

// current returns the latest keys, or nil if none ever loaded.
func (k *keySet) current() *keySnapshot { return k.snap.Load() }

// lastError is why the latest fetch failed, for the 503 log line.
func (k *keySet) lastError() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.lastErr
}

// run fetches at once, then every refreshEvery, retrying failures with a
// doubling backoff. It returns when k.ctx ends.
func (k *keySet) run() {
	backoff := k.tune.retryMin
	for {
		f := k.refresh()
		select {
		case <-f.done:
		case <-k.ctx.Done():
			return
		}
		wait := k.tune.refreshEvery
		if f.err != nil {
			wait = backoff
			backoff = min(2*backoff, k.tune.retryMax)
			k.log.Warn().Err(f.err).Dur("retry_in", wait).Bool("keys_loaded", k.current() != nil).
				Msg("entraauth: could not fetch the tenant's signing keys")
		} else {
			backoff = k.tune.retryMin
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-k.ctx.Done():
			t.Stop()
			return
		}
	}
}

// refresh starts a fetch, or joins the one in flight.
func (k *keySet) refresh() *flight {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.startLocked()
}

// refreshForUnknownKid is refresh for a token whose kid is not known: new
// keys appear in the JWKS when Entra rotates them. It joins a fetch in
// flight; otherwise it starts one only if none was started this way within
// refreshFloor, so a flood of made-up kids cannot hammer Entra. It returns
// nil when no fetch is worth waiting for.
func (k *keySet) refreshForUnknownKid() *flight {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.inflight != nil {
		return k.inflight
	}
	now := k.now()
	if !k.lastOnDemand.IsZero() && now.Sub(k.lastOnDemand) < k.tune.refreshFloor {
		return nil
	}
	k.lastOnDemand = now
	return k.startLocked()
}

func (k *keySet) startLocked() *flight {
	if k.inflight != nil {
		return k.inflight
	}
	f := &flight{done: make(chan struct{})}
	k.inflight = f
	// The fetch belongs to no request: a request that stops waiting must
	// not cancel it, because the next one needs its result.
	go func() {
		ctx, cancel := context.WithTimeout(k.ctx, k.tune.fetchTimeout)
		err := k.fetch(ctx)
		cancel()
		k.mu.Lock()
		k.inflight = nil
		k.lastErr = err
		k.mu.Unlock()
		f.err = err
		close(f.done)
	}()
	return f
}

// fetch reads the discovery document, then its jwks_uri, and publishes the
// keys. On any error the previous keys stay in use.
func (k *keySet) fetch(ctx context.Context) error {
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := k.getJSON(ctx, k.discoveryURL, &doc); err != nil {
		return err
	}
	if !namesTenant(doc.Issuer, k.tenant) {
		return fmt.Errorf("discovery document %s has issuer %q, which does not name tenant %s: set ENTRA_AUTHORITY to your own tenant's authority", k.discoveryURL, doc.Issuer, k.tenant)
	}
	u, err := url.Parse(doc.JWKSURI)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("discovery document %s has jwks_uri %q, not an absolute URL", k.discoveryURL, doc.JWKSURI)
	}
	if err := checkFetchURL(u); err != nil {
		return fmt.Errorf("discovery document %s has jwks_uri %q: %v", k.discoveryURL, doc.JWKSURI, err)
	}

	var set jwkset.JWKSMarshal
	if err := k.getJSON(ctx, doc.JWKSURI, &set); err != nil {
		return err
	}
	keys := make(map[string]jwk, len(set.Keys))
	var usable int
	for _, m := range set.Keys {
		if m.KID == "" {
			continue // no token can name it
		}
		// Never private material: Private is false.
		j, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil {
			k.log.Warn().Err(err).Str("kid", m.KID).Msg("entraauth: skipping a key of the JWKS that does not parse")
			continue
		}
		if _, dup := keys[m.KID]; dup {
			k.log.Warn().Str("kid", m.KID).Msg("entraauth: JWKS lists a kid twice; keeping the first")
			continue
		}
		key := jwk{pub: j.Key(), kty: string(m.KTY), use: string(m.USE), alg: string(m.ALG)}
		keys[m.KID] = key
		if usableForRS256(key) == "" {
			usable++
		}
	}
	if usable == 0 {
		return fmt.Errorf("JWKS %s has no RSA key that may verify RS256 signatures", doc.JWKSURI)
	}

	k.snap.Store(&keySnapshot{issuer: doc.Issuer, keys: keys})
	if k.onNewKeys != nil {
		k.onNewKeys(keys)
	}
	kids := make([]string, 0, len(keys))
	for kid := range keys {
		kids = append(kids, kid)
	}
	slices.Sort(kids)
	k.log.Info().Str("issuer", doc.Issuer).Str("jwks_uri", doc.JWKSURI).Strs("kids", kids).
		Msg("entraauth: signing keys loaded")
	return nil
}

func (k *keySet) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDocument))
		resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDocument)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: decoding JSON: %w", u, err)
	}
	return nil
}

// namesTenant reports whether issuer has tenant as a path segment, as every
// tenant-specific Entra issuer does. It stops a multi-tenant authority
// ("common") or another tenant's from widening what iss is accepted.
func namesTenant(issuer, tenant string) bool {
	u, err := url.Parse(issuer)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return false
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if strings.EqualFold(seg, tenant) {
			return true
		}
	}
	return false
}

// errNoWait is returned by waitFor when the caller gave up first.
var errNoWait = errors.New("gave up waiting for the key fetch")

// waitFor waits for f at most maxWait, and no longer than ctx allows.
func waitFor(ctx context.Context, f *flight, maxWait time.Duration) error {
	t := time.NewTimer(maxWait)
	defer t.Stop()
	select {
	case <-f.done:
		return nil
	case <-t.C:
		return errNoWait
	case <-ctx.Done():
		return errNoWait
	}
}
