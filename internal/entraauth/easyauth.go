package entraauth

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
)

// Headers that App Service Authentication ("Easy Auth") adds after it has
// validated the bearer token. The platform drops copies sent by the client,
// which is why easyauth mode insists on WEBSITE_AUTH_ENABLED, and refuses
// Flex Consumption, where that is not documented.
const (
	principalHeader    = "X-MS-CLIENT-PRINCIPAL"
	principalIDPHeader = "X-MS-CLIENT-PRINCIPAL-IDP"
	maxPrincipalLen    = 32 << 10
)

// principal is the decoded X-MS-CLIENT-PRINCIPAL header.
type principal struct {
	AuthTyp string `json:"auth_typ"`
	Claims  []struct {
		Typ string `json:"typ"`
		Val string `json:"val"`
	} `json:"claims"`
}

// authenticateEasyAuth checks what the platform cannot be told to check:
// that the caller is the authentication events service, and that the
// tenant and audience are ENTRA_TENANT_ID's and ENTRA_AUDIENCE's.
//
// The identity provider must be Microsoft Entra ("aad") whenever the
// platform names it, in X-MS-CLIENT-PRINCIPAL-IDP or in auth_typ; a missing
// name is accepted, because the principal header alone already comes from
// the platform. A function app that uses a custom OpenID Connect provider
// should use jwt mode instead.
func (a *Authenticator) authenticateEasyAuth(r *http.Request) *Error {
	h := r.Header.Get(principalHeader)
	if h == "" {
		return missing(CheckPrincipal, "no authenticated caller", "no "+principalHeader+" header: App Service Authentication did not authenticate this request; are unauthenticated requests allowed through?")
	}
	if idp := r.Header.Get(principalIDPHeader); idp != "" && !strings.EqualFold(idp, "aad") {
		return reject(CheckIdentityProvider, "the caller did not sign in with Microsoft Entra", principalIDPHeader+" is "+q(idp)+", want \"aad\"")
	}
	if len(h) > maxPrincipalLen {
		return reject(CheckPrincipal, "unreadable "+principalHeader+" header", "it is longer than 32 KiB")
	}
	b, err := base64.StdEncoding.DecodeString(h)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(h); err != nil {
			return reject(CheckPrincipal, "unreadable "+principalHeader+" header", "it is not base64: "+err.Error())
		}
	}
	var p principal
	if err := json.Unmarshal(b, &p); err != nil {
		return reject(CheckPrincipal, "unreadable "+principalHeader+" header", "it is not the JSON of a client principal: "+err.Error())
	}
	if p.AuthTyp != "" && !strings.EqualFold(p.AuthTyp, "aad") {
		return reject(CheckIdentityProvider, "the caller did not sign in with Microsoft Entra", "auth_typ is "+q(p.AuthTyp)+", want \"aad\"")
	}

	// Each of these claims may appear once; a second, different value
	// would leave it unclear which the platform checked.
	var ver, azp, appid, tid, aud string
	for _, c := range p.Claims {
		var dst *string
		switch c.Typ {
		case "ver":
			dst = &ver
		case "azp":
			dst = &azp
		case "appid":
			dst = &appid
		case "tid", "http://schemas.microsoft.com/identity/claims/tenantid":
			dst = &tid
		case "aud":
			dst = &aud
		default:
			continue
		}
		if *dst != "" && *dst != c.Val {
			return reject(CheckPrincipal, "ambiguous "+principalHeader+" header", "claim "+q(c.Typ)+" appears twice with different values")
		}
		*dst = c.Val
	}

	if e := checkCaller(ver, azp, appid); e != nil {
		return e
	}
	if !strings.EqualFold(tid, a.set.tenant) {
		return reject(CheckTenant, "the token is for another tenant", "tid is "+q(tid)+", want "+a.set.tenant)
	}
	// The platform also checks the audience, against its own allowed list,
	// which may be wider than this extension; a principal without aud
	// proves nothing about it.
	if !a.audienceOK(aud) {
		return reject(CheckAudience, "the token is not for this extension", "aud is "+q(aud)+", want "+a.set.audience+" or api://{host}/"+a.set.audience)
	}
	return nil
}
