package entraauth

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/invitegate/invitegate/internal/guid"
	"github.com/invitegate/invitegate/internal/loopback"
)

// EventsAppID is the application id of Microsoft's first-party "Microsoft
// Entra authentication events" service principal, the only client that may
// call a custom authentication extension. Its tokens carry it as azp (v2)
// or appid (v1).
const EventsAppID = "99045fe1-7639-4a75-9d4a-577b6ca3810f"

// Config says which requests an Authenticator accepts. Each field is one
// function app setting, and the errors of Validate name that setting, so
// that an operator knows what to change. ConfigFromEnv reads it.
type Config struct {
	// Mode is how requests are authenticated (ENTRA_AUTH); "" means
	// ModeJWT.
	Mode Mode

	// TenantID is the External ID tenant's id (ENTRA_TENANT_ID), a GUID in
	// any case. Required in jwt and easyauth modes.
	TenantID string

	// Audience is the application (client) id of the custom
	// authentication extension's app registration (ENTRA_AUDIENCE): a
	// GUID, or the App ID URI api://{host}/{client id}. Required in jwt and
	// easyauth modes.
	Audience string

	// Authority is the URL that /.well-known/openid-configuration is
	// appended to (ENTRA_AUTHORITY), used in jwt mode; "" means
	// https://{TenantID}.ciamlogin.com/{TenantID}/v2.0.
	Authority string

	// Platform is what the hosting platform says about itself. It decides
	// which modes are safe: off never runs in Azure, and easyauth needs
	// App Service Authentication on a plan that strips forged headers.
	Platform Platform
}

// Platform describes where the process runs, as the variables that App
// Service and Azure Functions set tell it.
type Platform struct {
	// AzureVariable names a variable that only Azure sets and that is set
	// (WEBSITE_INSTANCE_ID, WEBSITE_SITE_NAME, WEBSITE_HOSTNAME or
	// WEBSITE_SKU), or is "" when the process does not run in Azure.
	AzureVariable string

	// SKU is WEBSITE_SKU, the plan: FlexConsumption, Dynamic,
	// ElasticPremium and so on; "" when not set.
	SKU string

	// AuthEnabled is WEBSITE_AUTH_ENABLED=true: App Service Authentication
	// ("Easy Auth") validates tokens in front of the app.
	AuthEnabled bool
}

// flexConsumptionSKU is WEBSITE_SKU on the Flex Consumption plan (the
// Functions host's ScriptConstants.FlexConsumptionSku).
const flexConsumptionSKU = "FlexConsumption"

// ConfigFromEnv reads ENTRA_AUTH, ENTRA_TENANT_ID, ENTRA_AUDIENCE and
// ENTRA_AUTHORITY, and the platform's WEBSITE_INSTANCE_ID,
// WEBSITE_SITE_NAME, WEBSITE_HOSTNAME, WEBSITE_SKU and WEBSITE_AUTH_ENABLED,
// and returns the Config with Validate's verdict.
//
// The Flex and Linux Consumption plans do not set WEBSITE_INSTANCE_ID,
// which is why any of the four Azure variables counts. CONTAINER_NAME does
// not: Linux Consumption sets it, but so do many container platforms where
// local runs must keep working. WEBSITE_HOSTNAME naming a loopback host
// does not count either: Azure Functions Core Tools sets it to
// localhost:{port} for `func start`
// (StartHostAction.GetConfigurationSettings, in azure-functions-core-tools).
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{Mode: Mode(strings.ToLower(strings.TrimSpace(getenv("ENTRA_AUTH"))))}
	if c.Mode == "" {
		c.Mode = ModeJWT
	}
	c.TenantID = strings.TrimSpace(getenv("ENTRA_TENANT_ID"))
	c.Audience = strings.TrimSpace(getenv("ENTRA_AUDIENCE"))
	c.Authority = strings.TrimSpace(getenv("ENTRA_AUTHORITY"))

	for _, name := range []string{"WEBSITE_INSTANCE_ID", "WEBSITE_SITE_NAME", "WEBSITE_HOSTNAME", "WEBSITE_SKU"} {
		v := strings.TrimSpace(getenv(name))
		if v == "" || name == "WEBSITE_HOSTNAME" && loopbackHostPort(v) {
			continue
		}
		c.Platform.AzureVariable = name
		break
	}
	c.Platform.SKU = strings.TrimSpace(getenv("WEBSITE_SKU"))
	c.Platform.AuthEnabled = strings.EqualFold(strings.TrimSpace(getenv("WEBSITE_AUTH_ENABLED")), "true")
	return c, c.Validate()
}

// loopbackHostPort reports whether v, a host with an optional port, names
// this machine.
func loopbackHostPort(v string) bool {
	host := v
	if h, _, err := net.SplitHostPort(v); err == nil {
		host = h
	}
	return loopback.Host(strings.Trim(host, "[]"))
}

// Validate reports the first setting that is missing, malformed or unsafe
// where the process runs; every error names the setting and says what to
// set it to.
func (c Config) Validate() error {
	_, err := c.resolve()
	return err
}

// settings is a Config after Validate: canonical values, defaults filled.
type settings struct {
	mode Mode

	// tenant and audience are lower-case GUIDs, set in jwt and easyauth
	// modes.
	tenant   string
	audience string

	// authority has no trailing slash; jwt mode only.
	authority string
}

func (c Config) resolve() (settings, error) {
	s := settings{mode: c.Mode}
	switch c.Mode {
	case "":
		s.mode = ModeJWT
	case ModeJWT, ModeEasyAuth, ModeOff:
	default:
		return s, fmt.Errorf("ENTRA_AUTH is %q: set it to jwt (the default), easyauth or off", c.Mode)
	}

	switch s.mode {
	case ModeOff:
		// Checked before anything else, so that a copied
		// local.settings.json cannot open a production endpoint.
		if v := c.Platform.AzureVariable; v != "" {
			return s, fmt.Errorf("ENTRA_AUTH is off but %s is set, so this is running in Azure: refusing to accept unauthenticated requests there; set ENTRA_AUTH to jwt (or easyauth)", v)
		}
		return s, nil

	case ModeEasyAuth:
		if strings.EqualFold(c.Platform.SKU, flexConsumptionSKU) {
			return s, fmt.Errorf("ENTRA_AUTH is easyauth but WEBSITE_SKU is %s: the Flex Consumption plan is not documented to remove an X-MS-CLIENT-PRINCIPAL header forged by the caller, so that header proves nothing there; set ENTRA_AUTH=jwt (with ENTRA_TENANT_ID and ENTRA_AUDIENCE) to validate the token in the handler", c.Platform.SKU)
		}
		if !c.Platform.AuthEnabled {
			return s, fmt.Errorf("ENTRA_AUTH is easyauth but WEBSITE_AUTH_ENABLED is not true: App Service Authentication is off, so nothing has validated the bearer token and the X-MS-CLIENT-PRINCIPAL header could be forged; turn on Authentication for the function app (identity provider Microsoft, unauthenticated requests get HTTP 401), or set ENTRA_AUTH to jwt")
		}
	}

	var err error
	if c.TenantID == "" {
		return s, fmt.Errorf("ENTRA_TENANT_ID is not set: set it to your External ID tenant's id (a GUID)")
	}
	if s.tenant, err = parseTenant(c.TenantID); err != nil {
		return s, err
	}
	if c.Audience == "" {
		return s, fmt.Errorf("ENTRA_AUDIENCE is not set: set it to the application (client) id of your custom authentication extension's app registration (a GUID)")
	}
	if s.audience, err = parseAudienceSetting(c.Audience); err != nil {
		return s, err
	}
	if s.mode == ModeEasyAuth {
		return s, nil
	}

	s.authority = "https://" + s.tenant + ".ciamlogin.com/" + s.tenant + "/v2.0"
	if c.Authority != "" {
		if s.authority, err = parseAuthority(c.Authority); err != nil {
			return s, err
		}
	}
	return s, nil
}

func parseTenant(v string) (string, error) {
	id, ok := guid.Normalize(v)
	if !ok {
		return "", fmt.Errorf("ENTRA_TENANT_ID is %q, not a GUID: set it to your External ID tenant's id (a GUID like 7d1c0b6e-1111-4a2b-9c3d-0a0b0c0d0e0f, shown on the tenant's Overview page), not its domain name", v)
	}
	return id, nil
}

// parseAudienceSetting accepts the client id, or the App ID URI
// api://{host}/{client id} that the portal shows next to it.
func parseAudienceSetting(v string) (string, error) {
	if id, ok := guid.Normalize(v); ok {
		return id, nil
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
	if !ok || host == "" {
		return "", false
	}
	// Any case, but nothing around it: the id is the whole last segment.
	if id != strings.TrimSpace(id) {
		return "", false
	}
	return guid.Normalize(id)
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
