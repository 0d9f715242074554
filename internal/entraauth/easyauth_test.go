package entraauth_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/invitegate/invitegate/internal/entraauth"
)

// principalHeaderValue encodes claims (type, value pairs) as App Service
// Authentication does.
func principalHeaderValue(t *testing.T, authTyp string, claims ...string) string {
	t.Helper()
	type claim struct {
		Typ string `json:"typ"`
		Val string `json:"val"`
	}
	p := struct {
		AuthTyp string  `json:"auth_typ"`
		Claims  []claim `json:"claims"`
		NameTyp string  `json:"name_typ"`
		RoleTyp string  `json:"role_typ"`
	}{AuthTyp: authTyp, NameTyp: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", RoleTyp: "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"}
	for i := 0; i+1 < len(claims); i += 2 {
		p.Claims = append(p.Claims, claim{claims[i], claims[i+1]})
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestAuthenticateEasyAuth(t *testing.T) {
	t.Parallel()
	settings := map[string]string{
		"ENTRA_AUTH":           "EasyAuth",
		"WEBSITE_AUTH_ENABLED": "True",
		"ENTRA_TENANT_ID":      testTenant,
		"ENTRA_AUDIENCE":       testAudience,
		"WEBSITE_SITE_NAME":    "invitegate-fn",
		"WEBSITE_SKU":          "ElasticPremium",
	}
	cfg, err := entraauth.ConfigFromEnv(getenv(settings))
	if err != nil {
		t.Fatal(err)
	}
	a, err := entraauth.New(t.Context(), cfg, entraauth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Mode() != entraauth.ModeEasyAuth || !a.Ready() {
		t.Fatalf("Mode() = %q, Ready() = %v", a.Mode(), a.Ready())
	}
	eventsAppID := entraauth.EventsAppID
	const longTid = "http://schemas.microsoft.com/identity/claims/tenantid"

	tests := []struct {
		name      string
		principal func(t *testing.T) string // "" sends no header
		idp       string
		check     string // "" means accepted
	}{
		{name: "valid v2", principal: func(t *testing.T) string {
			return principalHeaderValue(t, "aad", "ver", "2.0", "azp", eventsAppID, "tid", testTenant, "aud", testAudience)
		}, idp: "aad"},
		{name: "valid v1, long tid claim type, no idp header", principal: func(t *testing.T) string {
			return principalHeaderValue(t, "aad", "ver", "1.0", "appid", eventsAppID, longTid, testTenant, "aud", "api://fn.example/"+testAudience)
		}},
		{name: "unpadded base64", principal: func(t *testing.T) string {
			b, _ := base64.StdEncoding.DecodeString(principalHeaderValue(t, "aad", "azp", eventsAppID, "tid", testTenant, "aud", testAudience))
			return base64.RawStdEncoding.EncodeToString(b)
		}},
		{name: "missing header", check: entraauth.CheckPrincipal},
		{name: "bad base64", principal: func(*testing.T) string { return "%%%not-base64%%%" }, check: entraauth.CheckPrincipal},
		{name: "bad JSON", principal: func(*testing.T) string { return base64.StdEncoding.EncodeToString([]byte(`{"claims":[`)) }, check: entraauth.CheckPrincipal},
		{name: "wrong azp", principal: func(t *testing.T) string {
			return principalHeaderValue(t, "aad", "ver", "2.0", "azp", otherApp, "tid", testTenant)
		}, check: entraauth.CheckCaller},
		{name: "no azp or appid", principal: func(t *testing.T) string {
			return principalHeaderValue(t, "aad", "tid", testTenant)
		}, check: entraauth.CheckCaller},
		{name: "two different azp", principal: func(t *testing.T) string {
			return principalHeaderValue(t, "aad", "azp", eventsAppID, "azp", otherApp, "tid", testTenant)
		}, check: entraauth.CheckPrincipal},
		{name: "other tenant", principal: func(t *testing.T) string {
			return principalHeaderValue(t, "aad", "azp", eventsAppID, longTid, otherTenant)
		}, check: entraauth.CheckTenant},
		{name: "no tenant claim", principal: func(t *testing.T) string {
			return principalHeaderValue(t, "aad", "azp", eventsAppID)
		}, check: entraauth.CheckTenant},
		{name: "wrong audience", principal: func(t *testing.T) string {
			return principalHeaderValue(t, "aad", "azp", eventsAppID, "tid", testTenant, "aud", otherApp)
		}, check: entraauth.CheckAudience},
		{name: "other identity provider header", principal: func(t *testing.T) string {
			return principalHeaderValue(t, "aad", "azp", eventsAppID, "tid", testTenant)
		}, idp: "github", check: entraauth.CheckIdentityProvider},
		{name: "other auth_typ", principal: func(t *testing.T) string {
			return principalHeaderValue(t, "google", "azp", eventsAppID, "tid", testTenant)
		}, check: entraauth.CheckIdentityProvider},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := request() // no Authorization: the platform consumed it
			var p string
			if tt.principal != nil {
				p = tt.principal(t)
				r.Header.Set("X-MS-CLIENT-PRINCIPAL", p)
			}
			if tt.idp != "" {
				r.Header.Set("X-MS-CLIENT-PRINCIPAL-IDP", tt.idp)
			}
			err := a.Authenticate(r)
			if tt.check == "" {
				if err != nil {
					t.Fatalf("Authenticate: %v, want accepted", err)
				}
				return
			}
			wantError(t, err, tt.check, http.StatusUnauthorized, p)
		})
	}
}

func TestEasyAuthRequiresAudienceClaim(t *testing.T) {
	t.Parallel()
	cfg, err := entraauth.ConfigFromEnv(getenv(easyEnv()))
	if err != nil {
		t.Fatal(err)
	}
	a, err := entraauth.New(t.Context(), cfg, entraauth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := request()
	p := principalHeaderValue(t, "aad", "azp", entraauth.EventsAppID, "tid", testTenant)
	r.Header.Set("X-MS-CLIENT-PRINCIPAL", p)
	wantError(t, a.Authenticate(r), entraauth.CheckAudience, http.StatusUnauthorized, p)
}

func TestOffAcceptsEverything(t *testing.T) {
	t.Parallel()
	cfg, err := entraauth.ConfigFromEnv(getenv(map[string]string{"ENTRA_AUTH": "off"}))
	if err != nil {
		t.Fatal(err)
	}
	a, err := entraauth.New(t.Context(), cfg, entraauth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Mode() != entraauth.ModeOff || !a.Ready() {
		t.Fatalf("Mode() = %q, Ready() = %v", a.Mode(), a.Ready())
	}
	if err := a.Authenticate(request()); err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
}
