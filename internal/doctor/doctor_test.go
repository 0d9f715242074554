package doctor

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/entraauth/entratest"
	"github.com/invitegate/invitegate/internal/tablestore"
	"github.com/invitegate/invitegate/internal/testutil/azurite"
)

const (
	tenant   = entratest.TenantID
	audience = entratest.Audience
)

// authority starts a tenant whose authority serves a discovery document
// and a JWKS on loopback; Down makes both answer 503.
func authority(t *testing.T) *entratest.Tenant {
	t.Helper()
	tn := entratest.NewTenant()
	t.Cleanup(tn.Close)
	return tn
}

func newTable(t *testing.T, conn string) string {
	t.Helper()
	name := fmt.Sprintf("doc%d", time.Now().UnixNano()%1e12)
	s, err := tablestore.Open(tablestore.Settings{Connection: conn, Table: name}, tablestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	return name
}

func run(t *testing.T, env map[string]string, now func() time.Time) (map[string]Result, string) {
	t.Helper()
	var out bytes.Buffer
	results := Run(context.Background(), Options{Getenv: func(k string) string { return env[k] }, Now: now, Timeout: 3 * time.Second}, &out)
	byName := map[string]Result{}
	for _, r := range results {
		byName[r.Name] = r
	}
	return byName, out.String()
}

func want(t *testing.T, got map[string]Result, out, name string, status Status, mention string) {
	t.Helper()
	r, ok := got[name]
	if !ok {
		t.Fatalf("no %q check in:\n%s", name, out)
	}
	if r.Status != status || !strings.Contains(r.Detail+" "+r.Fix, mention) {
		t.Errorf("%s = %s %q (fix %q); want %s mentioning %q", name, r.Status, r.Detail, r.Fix, status, mention)
	}
}

func TestAllPass(t *testing.T) {
	conn := azurite.Connection(t)
	auth := authority(t).Authority()
	env := map[string]string{
		"INVITATIONS_CONNECTION": conn, "INVITATIONS_TABLE": newTable(t, conn),
		"ENTRA_TENANT_ID": tenant, "ENTRA_AUDIENCE": audience, "ENTRA_AUTHORITY": auth,
		"INVITE_STORE_TIMEOUT": "500ms",
	}
	got, out := run(t, env, nil)
	for _, name := range []string{"store settings", "store reachable", "domain invitations", "store timeout", "auth settings", "signing keys", "clock"} {
		want(t, got, out, name, Pass, "")
	}
	if Failed(mapValues(got)) {
		t.Fatalf("Failed() on a passing run:\n%s", out)
	}
	if !strings.Contains(out, "PASS  signing keys") {
		t.Errorf("output lacks the pass line:\n%s", out)
	}
}

func mapValues(m map[string]Result) []Result {
	var out []Result
	for _, r := range m {
		out = append(out, r)
	}
	return out
}

func TestFailures(t *testing.T) {
	conn := azurite.Connection(t)
	tn := authority(t)
	auth := tn.Authority()
	base := func() map[string]string {
		return map[string]string{
			"INVITATIONS_CONNECTION": conn, "INVITATIONS_TABLE": newTable(t, conn),
			"ENTRA_TENANT_ID": tenant, "ENTRA_AUDIENCE": audience, "ENTRA_AUTHORITY": auth,
		}
	}

	t.Run("table missing", func(t *testing.T) {
		env := base()
		env["INVITATIONS_TABLE"] = "nosuchtable"
		got, out := run(t, env, nil)
		want(t, got, out, "store reachable", Fail, "invitectl init")
		if !Failed(mapValues(got)) {
			t.Fatal("Failed() is false")
		}
	})
	t.Run("store down", func(t *testing.T) {
		env := base()
		env["INVITATIONS_CONNECTION"] = azurite.ConnectionString(azurite.FreePort(t))
		got, out := run(t, env, nil)
		want(t, got, out, "store reachable", Fail, "network path")
	})
	t.Run("no store configured", func(t *testing.T) {
		env := base()
		delete(env, "INVITATIONS_CONNECTION")
		got, out := run(t, env, nil)
		want(t, got, out, "store settings", Fail, "INVITATIONS_TABLE_SERVICE_URL")
	})
	t.Run("bad audience", func(t *testing.T) {
		env := base()
		env["ENTRA_AUDIENCE"] = "my-extension"
		got, out := run(t, env, nil)
		want(t, got, out, "auth settings", Fail, "ENTRA_AUDIENCE")
	})
	t.Run("timeout out of range", func(t *testing.T) {
		env := base()
		env["INVITE_STORE_TIMEOUT"] = "5s"
		got, out := run(t, env, nil)
		want(t, got, out, "store timeout", Fail, "2s")
	})
	t.Run("keys unreachable", func(t *testing.T) {
		tn.Down(true)
		defer tn.Down(false)
		got, out := run(t, base(), nil)
		want(t, got, out, "signing keys", Fail, "ENTRA_AUTHORITY")
	})
	t.Run("clock skew", func(t *testing.T) {
		// Tokens signed now would look 10 minutes old to this machine.
		got, out := run(t, base(), func() time.Time { return time.Now().Add(10 * time.Minute) })
		want(t, got, out, "clock", Fail, "NTP")
	})
	t.Run("auth off", func(t *testing.T) {
		env := base()
		env["ENTRA_AUTH"] = "off"
		got, out := run(t, env, nil)
		want(t, got, out, "auth settings", Warn, "local development only")
	})
}
