package entraauth_test

import (
	"strings"
	"testing"

	"github.com/invitegate/invitegate/internal/entraauth"
)

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// jwtEnv is a valid jwt-mode environment with kv changed.
func jwtEnv(kv ...string) map[string]string {
	m := map[string]string{"ENTRA_TENANT_ID": testTenant, "ENTRA_AUDIENCE": testAudience}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// easyEnv is a valid easyauth-mode environment with kv changed.
func easyEnv(kv ...string) map[string]string {
	return jwtEnv(append([]string{"ENTRA_AUTH", "easyauth", "WEBSITE_AUTH_ENABLED", "true"}, kv...)...)
}

// TestConfigErrors checks every refusal, and so every guard: removing
// one fails its case. Each error names the setting and says what to do.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want []string // all must appear in the error
	}{
		{"unknown mode", jwtEnv("ENTRA_AUTH", "oauth"), []string{"ENTRA_AUTH", `"oauth"`, "jwt (the default), easyauth or off"}},
		{"no tenant", jwtEnv("ENTRA_TENANT_ID", ""), []string{"ENTRA_TENANT_ID is not set", "tenant's id (a GUID)"}},
		{"tenant is a domain", jwtEnv("ENTRA_TENANT_ID", "contoso.onmicrosoft.com"), []string{"ENTRA_TENANT_ID", "not a GUID", "not its domain name"}},
		{"tenant GUID without dashes", jwtEnv("ENTRA_TENANT_ID", strings.ReplaceAll(testTenant, "-", "")), []string{"ENTRA_TENANT_ID", "not a GUID"}},
		{"tenant GUID in braces", jwtEnv("ENTRA_TENANT_ID", "{"+testTenant+"}"), []string{"ENTRA_TENANT_ID", "not a GUID"}},
		{"no audience", jwtEnv("ENTRA_AUDIENCE", ""), []string{"ENTRA_AUDIENCE is not set", "application (client) id"}},
		{"audience is a name", jwtEnv("ENTRA_AUDIENCE", "invitegate"), []string{"ENTRA_AUDIENCE", "application (client) id", "api://{function-host}/{client id}"}},
		{"audience App ID URI without a GUID", jwtEnv("ENTRA_AUDIENCE", "api://fn.example/invitegate"), []string{"ENTRA_AUDIENCE", "App ID URI"}},
		{"authority not a URL", jwtEnv("ENTRA_AUTHORITY", "ciamlogin.com"), []string{"ENTRA_AUTHORITY", "not an absolute URL", "leave it unset"}},
		{"authority over http", jwtEnv("ENTRA_AUTHORITY", "http://contoso.ciamlogin.com/"+testTenant+"/v2.0"), []string{"ENTRA_AUTHORITY", "use https", "loopback"}},
		{"authority over ftp", jwtEnv("ENTRA_AUTHORITY", "ftp://contoso.ciamlogin.com/"+testTenant), []string{"ENTRA_AUTHORITY", "not https"}},
		{"authority with a query", jwtEnv("ENTRA_AUTHORITY", "https://contoso.ciamlogin.com/"+testTenant+"/v2.0?p=x"), []string{"ENTRA_AUTHORITY", "remove the user, query and fragment"}},
		{"common authority", jwtEnv("ENTRA_AUTHORITY", "https://login.microsoftonline.com/common/v2.0"), []string{"ENTRA_AUTHORITY", `"common"`, "your own tenant's authority"}},

		{"easyauth without platform auth", easyEnv("WEBSITE_AUTH_ENABLED", ""), []string{"WEBSITE_AUTH_ENABLED is not true", "could be forged", "ENTRA_AUTH to jwt"}},
		{"easyauth with platform auth false", easyEnv("WEBSITE_AUTH_ENABLED", "false"), []string{"WEBSITE_AUTH_ENABLED is not true"}},
		{"easyauth without a tenant", easyEnv("ENTRA_TENANT_ID", ""), []string{"ENTRA_TENANT_ID is not set"}},
		{"easyauth without an audience", easyEnv("ENTRA_AUDIENCE", ""), []string{"ENTRA_AUDIENCE is not set"}},
		{"easyauth with a bad tenant", easyEnv("ENTRA_TENANT_ID", "contoso"), []string{"ENTRA_TENANT_ID", "not a GUID"}},
		{"easyauth with a bad audience", easyEnv("ENTRA_AUDIENCE", "x"), []string{"ENTRA_AUDIENCE", "a GUID"}},
		{"easyauth on Flex Consumption", easyEnv("WEBSITE_SKU", "FlexConsumption"), []string{"WEBSITE_SKU is FlexConsumption", "X-MS-CLIENT-PRINCIPAL", "ENTRA_AUTH=jwt"}},
		{"easyauth on Flex Consumption, any case", easyEnv("WEBSITE_SKU", "flexconsumption"), []string{"WEBSITE_SKU", "ENTRA_AUTH=jwt"}},

		{"off with WEBSITE_INSTANCE_ID", map[string]string{"ENTRA_AUTH": "off", "WEBSITE_INSTANCE_ID": "abc123"}, []string{"ENTRA_AUTH is off", "WEBSITE_INSTANCE_ID is set", "ENTRA_AUTH to jwt"}},
		{"off with WEBSITE_SITE_NAME (Flex, Linux Consumption)", map[string]string{"ENTRA_AUTH": "off", "WEBSITE_SITE_NAME": "invitegate-fn"}, []string{"ENTRA_AUTH is off", "WEBSITE_SITE_NAME is set", "ENTRA_AUTH to jwt"}},
		{"off with WEBSITE_HOSTNAME", map[string]string{"ENTRA_AUTH": "off", "WEBSITE_HOSTNAME": "invitegate-fn.azurewebsites.net"}, []string{"ENTRA_AUTH is off", "WEBSITE_HOSTNAME is set"}},
		{"off with WEBSITE_SKU", map[string]string{"ENTRA_AUTH": "Off", "WEBSITE_SKU": "Dynamic"}, []string{"ENTRA_AUTH is off", "WEBSITE_SKU is set"}},
		{"off with a loopback-looking WEBSITE_HOSTNAME", map[string]string{"ENTRA_AUTH": "off", "WEBSITE_HOSTNAME": "127.evil.example"}, []string{"WEBSITE_HOSTNAME is set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := entraauth.ConfigFromEnv(getenv(tt.env))
			if err == nil {
				t.Fatalf("ConfigFromEnv accepted %+v, want an error", cfg)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			// New refuses the same Config, so code that builds one
			// cannot get around the guards.
			if _, nerr := entraauth.New(t.Context(), cfg, entraauth.Options{}); nerr == nil || nerr.Error() != err.Error() {
				t.Errorf("New: %v, want the error of ConfigFromEnv", nerr)
			}
		})
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       map[string]string
		mode      entraauth.Mode
		authority string
		audience  string
	}{
		{
			name:      "defaults",
			env:       map[string]string{"ENTRA_TENANT_ID": " " + strings.ToUpper(testTenant), "ENTRA_AUDIENCE": testAudience},
			mode:      entraauth.ModeJWT,
			authority: "https://" + testTenant + ".ciamlogin.com/" + testTenant + "/v2.0",
			audience:  testAudience,
		},
		{
			name: "subdomain authority, App ID URI audience",
			env: jwtEnv("ENTRA_AUTH", " JWT ", "ENTRA_AUDIENCE", "api://invitegate-fn.azurewebsites.net/"+testAudience,
				"ENTRA_AUTHORITY", "https://Contoso.ciamlogin.com/"+testTenant+"/v2.0/"),
			mode:      entraauth.ModeJWT,
			authority: "https://Contoso.ciamlogin.com/" + testTenant + "/v2.0",
			audience:  testAudience,
		},
		{
			name:      "workforce authority",
			env:       jwtEnv("ENTRA_AUTHORITY", "https://login.microsoftonline.com/"+testTenant+"/v2.0"),
			mode:      entraauth.ModeJWT,
			authority: "https://login.microsoftonline.com/" + testTenant + "/v2.0",
			audience:  testAudience,
		},
		{
			name:      "loopback http authority",
			env:       jwtEnv("ENTRA_AUTHORITY", "http://[::1]:9/"+testTenant+"/v2.0"),
			mode:      entraauth.ModeJWT,
			authority: "http://[::1]:9/" + testTenant + "/v2.0",
			audience:  testAudience,
		},
		{name: "jwt in Azure", env: jwtEnv("WEBSITE_SITE_NAME", "fn", "WEBSITE_SKU", "FlexConsumption"), mode: entraauth.ModeJWT,
			authority: "https://" + testTenant + ".ciamlogin.com/" + testTenant + "/v2.0", audience: testAudience},
		{name: "easyauth on Elastic Premium", env: easyEnv("WEBSITE_SKU", "ElasticPremium", "WEBSITE_INSTANCE_ID", "abc"), mode: entraauth.ModeEasyAuth, audience: testAudience},
		{name: "off locally", env: map[string]string{"ENTRA_AUTH": "off"}, mode: entraauth.ModeOff},
		// func start (Azure Functions Core Tools) sets WEBSITE_HOSTNAME
		// to the local address it listens on.
		{name: "off under Core Tools", env: map[string]string{"ENTRA_AUTH": "off", "WEBSITE_HOSTNAME": "localhost:7071"}, mode: entraauth.ModeOff},
		{name: "off with a loopback IP as WEBSITE_HOSTNAME", env: map[string]string{"ENTRA_AUTH": "off", "WEBSITE_HOSTNAME": "127.0.0.1:7071"}, mode: entraauth.ModeOff},
		{name: "off in a container", env: map[string]string{"ENTRA_AUTH": "off", "CONTAINER_NAME": "build-42"}, mode: entraauth.ModeOff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := entraauth.ConfigFromEnv(getenv(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			a, err := entraauth.New(t.Context(), cfg, entraauth.Options{})
			if err != nil {
				t.Fatal(err)
			}
			tenant, audience, authority := a.Settings()
			if a.Mode() != tt.mode || authority != tt.authority || audience != tt.audience {
				t.Errorf("got mode %q authority %q audience %q, want %q %q %q", a.Mode(), authority, audience, tt.mode, tt.authority, tt.audience)
			}
			if tt.mode != entraauth.ModeOff && tenant != testTenant {
				t.Errorf("tenant %q, want %q", tenant, testTenant)
			}
		})
	}
}

// TestConfigPlatform checks what ConfigFromEnv reads about the platform.
func TestConfigPlatform(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  map[string]string
		want entraauth.Platform
	}{
		{map[string]string{}, entraauth.Platform{}},
		{map[string]string{"WEBSITE_INSTANCE_ID": "abc", "WEBSITE_SKU": "ElasticPremium"}, entraauth.Platform{AzureVariable: "WEBSITE_INSTANCE_ID", SKU: "ElasticPremium"}},
		{map[string]string{"WEBSITE_SKU": "FlexConsumption", "WEBSITE_AUTH_ENABLED": "True"}, entraauth.Platform{AzureVariable: "WEBSITE_SKU", SKU: "FlexConsumption", AuthEnabled: true}},
		{map[string]string{"WEBSITE_HOSTNAME": "[::1]:7071"}, entraauth.Platform{}},
		{map[string]string{"WEBSITE_HOSTNAME": "localhost"}, entraauth.Platform{}},
		{map[string]string{"WEBSITE_HOSTNAME": "fn.azurewebsites.net", "WEBSITE_SITE_NAME": " "}, entraauth.Platform{AzureVariable: "WEBSITE_HOSTNAME"}},
		{map[string]string{"CONTAINER_NAME": "x", "WEBSITE_AUTH_ENABLED": "1"}, entraauth.Platform{}},
	}
	for _, tt := range tests {
		cfg, _ := entraauth.ConfigFromEnv(getenv(tt.env))
		if cfg.Platform != tt.want {
			t.Errorf("%v: Platform %+v, want %+v", tt.env, cfg.Platform, tt.want)
		}
	}
}
