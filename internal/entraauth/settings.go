package entraauth

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/invitegate/invitegate/internal/loopback"
)

// eventsAppID is the application id of Microsoft's first-party "Microsoft
// Entra authentication events" service principal, the only client that may
// call a custom authentication extension. Its tokens carry it as azp (v2)
// or appid (v1).
const eventsAppID = "99045fe1-7639-4a75-9d4a-577b6ca3810f"

// settings is what the environment asked for, checked once by readSettings.
type settings struct {
	mode Mode

	// tenant and audience are lower-case GUIDs. In jwt mode both are set;
	// in easyauth mode either may be "" (then that check is skipped).
	tenant   string
	audience string

	// authority and issuers are used in jwt mode only. authority has no
	// trailing slash; issuers are the fixed iss values accepted for the
	// tenant (the discovery document's issuer is accepted as well).
	authority string
	issuers   []string
}

// readSettings reads ENTRA_AUTH and the settings of the chosen mode. Every
// error names the setting and says what to set it to.
func readSettings(getenv func(string) string) (settings, error) {
	var s settings
	switch m := strings.ToLower(strings.TrimSpace(getenv("ENTRA_AUTH"))); m {
	case "", string(ModeJWT):
		s.mode = ModeJWT
	case string(ModeEasyAuth), string(ModeOff):
		s.mode = Mode(m)
	default:
		return s, fmt.Errorf("ENTRA_AUTH is %q: set it to jwt (the default), easyauth or off", getenv("ENTRA_AUTH"))
	}

	switch s.mode {
	case ModeOff:
		// Checked first so that a copied local.settings.json cannot open a
		// production endpoint to the internet.
		if getenv("WEBSITE_INSTANCE_ID") != "" {
			return s, fmt.Errorf("ENTRA_AUTH is off but WEBSITE_INSTANCE_ID is set, so this is running in Azure: refusing to accept unauthenticated requests there; set ENTRA_AUTH to jwt (or easyauth)")
		}
		return s, nil

	case ModeEasyAuth:
		if !strings.EqualFold(strings.TrimSpace(getenv("WEBSITE_AUTH_ENABLED")), "true") {
			return s, fmt.Errorf("ENTRA_AUTH is easyauth but WEBSITE_AUTH_ENABLED is not true: App Service Authentication is off, so nothing has validated the bearer token and the X-MS-CLIENT-PRINCIPAL header could be forged; turn on Authentication for the function app (identity provider Microsoft, unauthenticated requests get HTTP 401), or set ENTRA_AUTH to jwt")
		}
		var err error
		if v := strings.TrimSpace(getenv("ENTRA_TENANT_ID")); v != "" {
			if s.tenant, err = parseTenant(v); err != nil {
				return s, err
			}
		}
		if v := strings.TrimSpace(getenv("ENTRA_AUDIENCE")); v != "" {
			if s.audience, err = parseAudienceSetting(v); err != nil {
				return s, err
			}
		}
		return s, nil
	}

	v := strings.TrimSpace(getenv("ENTRA_TENANT_ID"))
	if v == "" {
		return s, fmt.Errorf("ENTRA_TENANT_ID is not set: set it to your External ID tenant's id (a GUID)")
	}
	var err error
	if s.tenant, err = parseTenant(v); err != nil {
		return s, err
	}

	v = strings.TrimSpace(getenv("ENTRA_AUDIENCE"))
	if v == "" {
		return s, fmt.Errorf("ENTRA_AUDIENCE is not set: set it to the application (client) id of your custom authentication extension's app registration (a GUID)")
	}
	if s.audience, err = parseAudienceSetting(v); err != nil {
		return s, err
	}

	s.authority = "https://" + s.tenant + ".ciamlogin.com/" + s.tenant + "/v2.0"
	if v := strings.TrimSpace(getenv("ENTRA_AUTHORITY")); v != "" {
		if s.authority, err = parseAuthority(v); err != nil {
			return s, err
		}
	}
	s.issuers = issuersFor(s.tenant, s.authority)
	return s, nil
}

func parseTenant(v string) (string, error) {
	if !isGUID(v) {
		return "", fmt.Errorf("ENTRA_TENANT_ID is %q, not a GUID: set it to your External ID tenant's id (a GUID like 7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0f, shown on the tenant's Overview page), not its domain name", v)
	}
	return strings.ToLower(v), nil
}

// parseAudienceSetting accepts the client id, or the App ID URI
// api://{host}/{client id} that the portal shows next to it.
func parseAudienceSetting(v string) (string, error) {
	if isGUID(v) {
		return strings.ToLower(v), nil
	}
	if id, ok := appIDURIClientID(v); ok {
		return id, nil
	}
	return "", fmt.Errorf("ENTRA_AUDIENCE is %q: set it to the application (client) id of your custom authentication extension's app registration (a GUID), or to its App ID URI api://{function-host}/{client id}", v)
}

// appIDURIClientID returns the client id of an App ID URI of the form
// api://{host}/{guid}, the form Entra requires for custom authentication
// extensions and puts in the aud of v1 tokens.
func appIDURIClientID(v string) (string, bool) {
	const scheme = "api://"
	if len(v) < len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false
	}
	host, id, ok := strings.Cut(v[len(scheme):], "/")
	if !ok || host == "" || !isGUID(id) {
		return "", false
	}
	return strings.ToLower(id), true
}

func parseAuthority(v string) (string, error) {
	u, err := url.Parse(v)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("ENTRA_AUTHORITY is %q, not an absolute URL: set it to your tenant's authority, such as https://{tenant-id}.ciamlogin.com/{tenant-id}/v2.0, or leave it unset for that default", v)
	}
	if err := checkFetchURL(u); err != nil {
		return "", fmt.Errorf("ENTRA_AUTHORITY is %q: %v", v, err)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("ENTRA_AUTHORITY is %q: remove the user, query and fragment; it is the URL that /.well-known/openid-configuration is appended to", v)
	}
	for _, seg := range strings.Split(u.Path, "/") {
		switch strings.ToLower(seg) {
		case "common", "organizations", "consumers":
			return "", fmt.Errorf("ENTRA_AUTHORITY is %q: %q accepts tokens of any tenant; use your own tenant's authority, such as https://{tenant-id}.ciamlogin.com/{tenant-id}/v2.0", v, seg)
		}
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// checkFetchURL allows https, and plain http only to loopback hosts, which
// is how tests serve discovery and keys. It is used for the authority, the
// jwks_uri of the discovery document, and every redirect.
func checkFetchURL(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if loopback.URL(u) {
			return nil
		}
		return fmt.Errorf("use https (plain http is allowed only for loopback hosts, in tests)")
	}
	return fmt.Errorf("scheme %q is not https", u.Scheme)
}

// issuersFor lists the iss values Entra uses for tenant. The docs and the
// field disagree on which one External ID puts in extension tokens, so all
// of them are accepted; each names the tenant, so none admits another one.
func issuersFor(tenant, authority string) []string {
	iss := []string{
		"https://" + tenant + ".ciamlogin.com/" + tenant + "/v2.0",
		"https://login.microsoftonline.com/" + tenant + "/v2.0",
		"https://sts.windows.net/" + tenant + "/", // v1 tokens
	}
	if u, err := url.Parse(authority); err == nil {
		host := strings.ToLower(u.Hostname())
		if sub, ok := strings.CutSuffix(host, ".ciamlogin.com"); ok && sub != tenant && sub != "" && !strings.Contains(sub, ".") {
			iss = append(iss, "https://"+sub+".ciamlogin.com/"+tenant+"/v2.0")
		}
	}
	return iss
}

// isGUID reports whether s is a GUID in its usual 8-4-4-4-12 hex form.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
