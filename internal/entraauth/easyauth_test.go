package entraauth

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
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
	}
	a, err := New(t.Context(), Options{Getenv: func(k string) string { return settings[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if a.Mode() != ModeEasyAuth || !a.Ready() {
		t.Fatalf("Mode() = %q, Ready() = %v", a.Mode(), a.Ready())
	}
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
			b, _ := base64.StdEncoding.DecodeString(principalHeaderValue(t, "aad", "azp", eventsAppID, "tid", testTenant))
			return base64.RawStdEncoding.EncodeToString(b)
		}},
		{name: "missing header", check: checkPrincipal},
		{name: "bad base64", principal: func(*testing.T) string { return "%%%not-base64%%%" }, check: checkPrincipal},
		{name: "bad JSON", principal: func(*testing.T) string { return base64.StdEncoding.EncodeToString([]byte(`{"claims":[`)) }, check: checkPrincipal},
		{name: "wrong azp", principal: func(t *testing.T) string {
			return principalHeaderValue(t, "aad", "ver", "2.0", "azp", otherApp, "tid", testTenant)
		}, check: checkAzp},
		{name: "no azp or appid", principal: func(t *testing.T) string {
			return principalHeaderValue(t, "aad", "tid", testTenant)
		}, check: checkAzp},
		{name: "two different azp", principal: func(t *testing.T) string {
			return principalHeaderValue(t, "aad", "azp", eventsAppID, "azp", otherApp, "tid", testTenant)
		}, check: checkPrincipal},
		{name: "other tenant", principal: func(t *testing.T) string {
			return principalHeaderValue(t, "aad", "azp", eventsAppID, longTid, otherTenant)
		}, check: checkTid},
		{name: "no tenant claim", principal: func(t *testing.T) string {
			return principalHeaderValue(t, "aad", "azp", eventsAppID)
		}, check: checkTid},
		{name: "wrong audience", principal: func(t *testing.T) string {
			return principalHeaderValue(t, "aad", "azp", eventsAppID, "tid", testTenant, "aud", otherApp)
		}, check: checkAud},
		{name: "other identity provider header", principal: func(t *testing.T) string {
			return principalHeaderValue(t, "aad", "azp", eventsAppID, "tid", testTenant)
		}, idp: "github", check: checkIdp},
		{name: "other auth_typ", principal: func(t *testing.T) string {
			return principalHeaderValue(t, "google", "azp", eventsAppID, "tid", testTenant)
		}, check: checkIdp},
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

func TestEasyAuthWithoutTenantOrAudience(t *testing.T) {
	t.Parallel()
	settings := map[string]string{"ENTRA_AUTH": "easyauth", "WEBSITE_AUTH_ENABLED": "true"}
	a, err := New(t.Context(), Options{Getenv: func(k string) string { return settings[k] }})
	if err != nil {
		t.Fatal(err)
	}
	r := request()
	r.Header.Set("X-MS-CLIENT-PRINCIPAL", principalHeaderValue(t, "aad", "azp", eventsAppID, "aud", otherApp))
	if err := a.Authenticate(r); err != nil {
		t.Fatalf("without ENTRA_TENANT_ID and ENTRA_AUDIENCE only the caller is checked: %v", err)
	}
}

func TestOffAcceptsEverything(t *testing.T) {
	t.Parallel()
	a, err := New(t.Context(), Options{Getenv: func(k string) string {
		return map[string]string{"ENTRA_AUTH": "off"}[k]
	}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Mode() != ModeOff || !a.Ready() {
		t.Fatalf("Mode() = %q, Ready() = %v", a.Mode(), a.Ready())
	}
	if err := a.Authenticate(request()); err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
}
