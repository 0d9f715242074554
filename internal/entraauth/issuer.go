package entraauth

import (
	"strings"
)

// issuerOK reports whether iss names this tenant in one of the forms Entra
// uses. The docs and the field disagree on which one External ID puts in
// extension tokens, so each is accepted; each names the tenant, so none
// admits another one, and the signature must still verify with a key from
// this tenant's JWKS, which is what proves who issued the token.
//
//   - https://{label}.ciamlogin.com/{tenant}/v2.0, where {label} is one DNS
//     label: the tenant's id (what the discovery document says) or its
//     domain name (what Microsoft's docs show);
//   - https://login.microsoftonline.com/{tenant}/v2.0;
//   - https://sts.windows.net/{tenant}/ (v1 tokens);
//   - the issuer of the discovery document (snap), once it has loaded.
func (a *Authenticator) issuerOK(iss string, snap *keySnapshot) bool {
	t := a.set.tenant
	switch {
	case iss == "":
		return false
	case iss == "https://login.microsoftonline.com/"+t+"/v2.0", iss == "https://sts.windows.net/"+t+"/":
		return true
	case ciamIssuer(iss, t):
		return true
	}
	return snap != nil && iss == snap.issuer
}

// issuerRule describes what issuerOK accepts, for the log.
func (a *Authenticator) issuerRule(snap *keySnapshot) string {
	t := a.set.tenant
	s := "https://{tenant-domain or tenant id}.ciamlogin.com/" + t + "/v2.0, https://login.microsoftonline.com/" + t + "/v2.0 or https://sts.windows.net/" + t + "/"
	if snap != nil {
		s += ", or the discovery document's " + q(snap.issuer)
	}
	return s
}

// ciamIssuer reports whether iss is exactly
// https://{label}.ciamlogin.com/{tenant}/v2.0 with {label} a single DNS
// label. Hosts compare in any case; the tenant must be this one. No port,
// user, query or fragment fits, and neither does a host of more labels
// (a.b.ciamlogin.com) or one that merely ends in "ciamlogin.com".
func ciamIssuer(iss, tenant string) bool {
	rest, ok := strings.CutPrefix(iss, "https://")
	if !ok {
		return false
	}
	host, path, ok := strings.Cut(rest, "/")
	if !ok {
		return false
	}
	label, ok := strings.CutSuffix(strings.ToLower(host), ".ciamlogin.com")
	if !ok || !dnsLabel(label) {
		return false
	}
	tid, ver, ok := strings.Cut(path, "/")
	return ok && strings.EqualFold(tid, tenant) && ver == "v2.0"
}

// dnsLabel reports whether s is one lower-case DNS label (RFC 1123): 1 to
// 63 letters, digits and hyphens, neither first nor last a hyphen.
func dnsLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
