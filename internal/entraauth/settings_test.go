package entraauth

import (
	"slices"
	"strings"
	"testing"
)

func TestSettingsErrors(t *testing.T) {
	t.Parallel()
	jwt := func(kv ...string) map[string]string {
		m := map[string]string{"ENTRA_TENANT_ID": testTenant, "ENTRA_AUDIENCE": testAudience}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		want []string // all must appear in the error
	}{
		{"unknown mode", jwt("ENTRA_AUTH", "oauth"), []string{"ENTRA_AUTH", `"oauth"`, "jwt (the default), easyauth or off"}},
		{"no tenant", jwt("ENTRA_TENANT_ID", ""), []string{"ENTRA_TENANT_ID is not set", "tenant's id (a GUID)"}},
		{"tenant is a domain", jwt("ENTRA_TENANT_ID", "contoso.onmicrosoft.com"), []string{"ENTRA_TENANT_ID", "not a GUID", "not its domain name"}},
		{"tenant GUID without dashes", jwt("ENTRA_TENANT_ID", strings.ReplaceAll(testTenant, "-", "")), []string{"ENTRA_TENANT_ID", "not a GUID"}},
		{"no audience", jwt("ENTRA_AUDIENCE", ""), []string{"ENTRA_AUDIENCE is not set", "application (client) id"}},
		{"audience is a name", jwt("ENTRA_AUDIENCE", "invitegate"), []string{"ENTRA_AUDIENCE", "application (client) id", "api://{function-host}/{client id}"}},
		{"audience App ID URI without a GUID", jwt("ENTRA_AUDIENCE", "api://fn.example/invitegate"), []string{"ENTRA_AUDIENCE", "App ID URI"}},
		{"authority not a URL", jwt("ENTRA_AUTHORITY", "ciamlogin.com"), []string{"ENTRA_AUTHORITY", "not an absolute URL", "leave it unset"}},
		{"authority over http", jwt("ENTRA_AUTHORITY", "http://contoso.ciamlogin.com/"+testTenant+"/v2.0"), []string{"ENTRA_AUTHORITY", "use https", "loopback"}},
		{"authority over ftp", jwt("ENTRA_AUTHORITY", "ftp://contoso.ciamlogin.com/"+testTenant), []string{"ENTRA_AUTHORITY", "not https"}},
		{"authority with a query", jwt("ENTRA_AUTHORITY", "https://contoso.ciamlogin.com/"+testTenant+"/v2.0?p=x"), []string{"ENTRA_AUTHORITY", "remove the user, query and fragment"}},
		{"common authority", jwt("ENTRA_AUTHORITY", "https://login.microsoftonline.com/common/v2.0"), []string{"ENTRA_AUTHORITY", `"common"`, "your own tenant's authority"}},
		{"easyauth without platform auth", map[string]string{"ENTRA_AUTH": "easyauth"}, []string{"WEBSITE_AUTH_ENABLED is not true", "could be forged", "ENTRA_AUTH to jwt"}},
		{"easyauth with platform auth false", map[string]string{"ENTRA_AUTH": "easyauth", "WEBSITE_AUTH_ENABLED": "false"}, []string{"WEBSITE_AUTH_ENABLED is not true"}},
		{"easyauth with a bad tenant", map[string]string{"ENTRA_AUTH": "easyauth", "WEBSITE_AUTH_ENABLED": "true", "ENTRA_TENANT_ID": "contoso"}, []string{"ENTRA_TENANT_ID", "not a GUID"}},
		{"easyauth with a bad audience", map[string]string{"ENTRA_AUTH": "easyauth", "WEBSITE_AUTH_ENABLED": "true", "ENTRA_AUDIENCE": "x"}, []string{"ENTRA_AUDIENCE", "a GUID"}},
		{"off in Azure", map[string]string{"ENTRA_AUTH": "off", "WEBSITE_INSTANCE_ID": "abc123"}, []string{"ENTRA_AUTH is off", "WEBSITE_INSTANCE_ID is set", "ENTRA_AUTH to jwt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := New(t.Context(), Options{Getenv: func(k string) string { return tt.env[k] }})
			if err == nil {
				t.Fatalf("New succeeded in mode %q, want an error", a.Mode())
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		env         map[string]string
		mode        Mode
		authority   string
		audience    string
		extraIssuer string // a subdomain issuer that must be accepted
	}{
		{
			name:      "defaults",
			env:       map[string]string{"ENTRA_TENANT_ID": strings.ToUpper(testTenant), "ENTRA_AUDIENCE": testAudience},
			mode:      ModeJWT,
			authority: "https://" + testTenant + ".ciamlogin.com/" + testTenant + "/v2.0",
			audience:  testAudience,
		},
		{
			name: "subdomain authority, App ID URI audience",
			env: map[string]string{"ENTRA_AUTH": " JWT ", "ENTRA_TENANT_ID": testTenant,
				"ENTRA_AUDIENCE":  "api://invitegate-fn.azurewebsites.net/" + testAudience,
				"ENTRA_AUTHORITY": "https://Contoso.ciamlogin.com/" + testTenant + "/v2.0/"},
			mode:        ModeJWT,
			authority:   "https://Contoso.ciamlogin.com/" + testTenant + "/v2.0",
			audience:    testAudience,
			extraIssuer: "https://contoso.ciamlogin.com/" + testTenant + "/v2.0",
		},
		{
			name:      "workforce authority",
			env:       map[string]string{"ENTRA_TENANT_ID": testTenant, "ENTRA_AUDIENCE": testAudience, "ENTRA_AUTHORITY": "https://login.microsoftonline.com/" + testTenant + "/v2.0"},
			mode:      ModeJWT,
			authority: "https://login.microsoftonline.com/" + testTenant + "/v2.0",
			audience:  testAudience,
		},
		{
			name:      "loopback http authority",
			env:       map[string]string{"ENTRA_TENANT_ID": testTenant, "ENTRA_AUDIENCE": testAudience, "ENTRA_AUTHORITY": "http://[::1]:9/" + testTenant + "/v2.0"},
			mode:      ModeJWT,
			authority: "http://[::1]:9/" + testTenant + "/v2.0",
			audience:  testAudience,
		},
		{name: "off locally", env: map[string]string{"ENTRA_AUTH": "off"}, mode: ModeOff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := readSettings(func(k string) string { return tt.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if s.mode != tt.mode || s.authority != tt.authority || s.audience != tt.audience {
				t.Errorf("got mode %q authority %q audience %q, want %q %q %q", s.mode, s.authority, s.audience, tt.mode, tt.authority, tt.audience)
			}
			if tt.mode != ModeJWT {
				return
			}
			if s.tenant != testTenant {
				t.Errorf("tenant %q, want %q", s.tenant, testTenant)
			}
			base := []string{
				"https://" + testTenant + ".ciamlogin.com/" + testTenant + "/v2.0",
				"https://login.microsoftonline.com/" + testTenant + "/v2.0",
				"https://sts.windows.net/" + testTenant + "/",
			}
			want := base
			if tt.extraIssuer != "" {
				want = append(want, tt.extraIssuer)
			}
			if !slices.Equal(s.issuers, want) {
				t.Errorf("issuers %q, want %q", s.issuers, want)
			}
		})
	}
}
