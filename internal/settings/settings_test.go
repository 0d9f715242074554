package settings

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestEmailIssuers(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{"", []string{"google.com"}, ""},
		{"none", nil, ""},
		{"NONE", nil, ""},
		{"google.com, facebook.com", []string{"google.com", "facebook.com"}, ""},
		{"https://idp.partner.example/v2.0,google.com,", []string{"https://idp.partner.example/v2.0", "google.com"}, ""},
		{"mail", nil, "local sign-in"},
		{"google.com,phone", nil, "local sign-in"},
		{"google.com facebook.com", nil, "space"},
		{" , ", nil, "names no issuer"},
	} {
		got, err := EmailIssuers(env(map[string]string{"INVITE_EMAIL_ISSUERS": tc.in}))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "INVITE_EMAIL_ISSUERS") {
				t.Errorf("EmailIssuers(%q) = %v, %v; want an error about %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("EmailIssuers(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestFromEnv(t *testing.T) {
	base := map[string]string{"INVITATIONS_CONNECTION": "UseDevelopmentStorage=true", "ENTRA_AUTH": "off"}
	h, err := FromEnv(env(base))
	if err != nil {
		t.Fatal(err)
	}
	if h.SignupWindow != 30*time.Minute || h.StoreTimeout != 700*time.Millisecond || h.DomainRefresh != 30*time.Second ||
		h.Hasher.Enabled() || h.Addr != "127.0.0.1:8080" || !reflect.DeepEqual(h.EmailIssuers, []string{"google.com"}) {
		t.Fatalf("defaults: %+v", h)
	}
	for _, tc := range []struct{ name, value, want string }{
		{"INVITE_SIGNUP_WINDOW", "30s", "INVITE_SIGNUP_WINDOW"},
		{"INVITE_SIGNUP_WINDOW", "48h", "INVITE_SIGNUP_WINDOW"},
		{"INVITE_STORE_TIMEOUT", "2s", "Entra waits at most 2s"},
		{"INVITE_LOG_HASH_KEY", "short", "at least 16"},
		{"INVITE_LOG_HASH_KEY", "@Microsoft.KeyVault(SecretUri=https://v.vault.azure.net/secrets/k/)", "unresolved Key Vault reference"},
		{"INVITE_LOG_LEVEL", "chatty", "INVITE_LOG_LEVEL"},
		{"INVITE_LOG_LEVEL", "trace", "INVITE_LOG_LEVEL"},
		{"INVITE_DOMAIN_REFRESH", "1ms", "INVITE_DOMAIN_REFRESH"},
		{"FUNCTIONS_CUSTOMHANDLER_PORT", "70000", "FUNCTIONS_CUSTOMHANDLER_PORT"},
		{"WEBSITE_SKU", "FlexConsumption", "WEBSITE_SKU"}, // the auth settings are in the list too
	} {
		m := map[string]string{"INVITATIONS_CONNECTION": "UseDevelopmentStorage=true", "ENTRA_AUTH": "off", tc.name: tc.value}
		if _, err := FromEnv(env(m)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: %v, want an error naming %q", tc.name, tc.value, err, tc.want)
		}
	}
	m := map[string]string{"INVITATIONS_CONNECTION": "UseDevelopmentStorage=true", "ENTRA_AUTH": "off", "INVITE_SIGNUP_WINDOW": "15m",
		"INVITE_LOG_HASH_KEY": "0123456789abcdef0123", "INVITE_NOT_APPROVED_MESSAGE": "Start over."}
	h, err = FromEnv(env(m))
	if err != nil || h.SignupWindow != 15*time.Minute || !h.Hasher.Enabled() || h.Messages.NotApproved != "Start over." {
		t.Fatalf("set values: %+v, %v", h, err)
	}
}
