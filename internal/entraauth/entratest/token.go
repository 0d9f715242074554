package entratest

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/invitegate/invitegate/internal/entraauth"
)

// TokenOption changes one thing about a minted token. Without options,
// Token mints what Entra's authentication events service presents: a v2
// access token for Audience, issued by the tenant, valid from a minute ago
// for an hour, RS256-signed with the current key.
type TokenOption func(*tokenSpec)

type tokenSpec struct {
	claims jwt.MapClaims
	alg    string
	kid    *string // nil: the current key's kid; "": no kid header
	key    any     // nil: chosen by alg
}

// WithIssuer sets iss.
func WithIssuer(iss string) TokenOption { return WithClaim("iss", iss) }

// WithAudience sets aud.
func WithAudience(aud string) TokenOption { return WithClaim("aud", aud) }

// WithTenant sets tid.
func WithTenant(tid string) TokenOption { return WithClaim("tid", tid) }

// WithAzp sets azp, the client that asked for a v2 token.
func WithAzp(azp string) TokenOption { return WithClaim("azp", azp) }

// WithAppID sets appid, the client that asked for a v1 token.
func WithAppID(appid string) TokenOption { return WithClaim("appid", appid) }

// WithVersion sets ver ("1.0" or "2.0").
func WithVersion(ver string) TokenOption { return WithClaim("ver", ver) }

// WithExpiry sets exp.
func WithExpiry(exp time.Time) TokenOption { return WithClaim("exp", exp.Unix()) }

// WithNotBefore sets nbf.
func WithNotBefore(nbf time.Time) TokenOption { return WithClaim("nbf", nbf.Unix()) }

// WithClaim sets any claim to v (a string, a number, a []string...).
func WithClaim(name string, v any) TokenOption {
	return func(s *tokenSpec) { s.claims[name] = v }
}

// WithoutClaims removes claims.
func WithoutClaims(names ...string) TokenOption {
	return func(s *tokenSpec) {
		for _, n := range names {
			delete(s.claims, n)
		}
	}
}

// V1 makes the token a v1 token, as an app registration with
// accessTokenAcceptedVersion 1 gets: ver 1.0, the sts.windows.net issuer,
// the App ID URI api://{host}/{Audience} as aud, and appid instead of
// azp. Options after it can still change each of these.
func V1(host string) TokenOption {
	return func(s *tokenSpec) {
		tid, _ := s.claims["tid"].(string)
		s.claims["ver"] = "1.0"
		s.claims["iss"] = "https://sts.windows.net/" + tid + "/"
		s.claims["aud"] = "api://" + host + "/" + Audience
		s.claims["appid"] = s.claims["azp"]
		delete(s.claims, "azp")
		delete(s.claims, "azpacr")
		s.claims["appidacr"] = "2"
	}
}

// WithKID puts kid in the header instead of the signing key's; "" leaves
// kid out.
func WithKID(kid string) TokenOption { return func(s *tokenSpec) { s.kid = &kid } }

// WithAlg signs with another algorithm (JWS name): RS384, PS256 and the
// like with the tenant's RSA key; HS256, HS384 and HS512 keyed with the
// PEM of the tenant's public key (the algorithm-confusion attack); none
// unsigned. Other algorithms need SignedWith.
func WithAlg(alg string) TokenOption { return func(s *tokenSpec) { s.alg = alg } }

// SignedWith signs with key (an *rsa.PrivateKey, *ecdsa.PrivateKey or
// []byte, to suit the algorithm) instead of the tenant's current key,
// while the header still names the current kid unless WithKID says
// otherwise: a forgery.
func SignedWith(key any) TokenOption { return func(s *tokenSpec) { s.key = key } }

// Claims returns the claims Token would put in a token with opts.
func (t *Tenant) Claims(opts ...TokenOption) map[string]any {
	return t.spec(opts).claims
}

func (t *Tenant) spec(opts []TokenOption) tokenSpec {
	now := t.now()
	s := tokenSpec{alg: "RS256", claims: jwt.MapClaims{
		"aud":    Audience,
		"iss":    t.Issuer(),
		"iat":    now.Add(-time.Minute).Unix(),
		"nbf":    now.Add(-time.Minute).Unix(),
		"exp":    now.Add(time.Hour).Unix(),
		"azp":    entraauth.EventsAppID,
		"azpacr": "2",
		"tid":    t.ID,
		"sub":    "a1b2c3d4-0000-4000-8000-000000000001",
		"oid":    "a1b2c3d4-0000-4000-8000-000000000001",
		"roles":  []string{"customauthenticationextension.api.endpoint"},
		"ver":    "2.0",
	}}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// Token mints a bearer token; see TokenOption for what it holds by
// default. It panics if the token cannot be signed, which only a misuse
// does (an algorithm that does not fit the key).
func (t *Tenant) Token(opts ...TokenOption) string {
	s := t.spec(opts)
	t.mu.Lock()
	current := t.keys[len(t.keys)-1]
	t.mu.Unlock()

	method := jwt.GetSigningMethod(s.alg)
	if method == nil {
		panic("entratest: unknown algorithm " + s.alg)
	}
	key := s.key
	if key == nil {
		switch method.(type) {
		case *jwt.SigningMethodRSA, *jwt.SigningMethodRSAPSS:
			key = current.key
		case *jwt.SigningMethodHMAC:
			key = publicPEM(&current.key.PublicKey)
		default:
			if method == jwt.SigningMethodNone {
				key = jwt.UnsafeAllowNoneSignatureType
			}
		}
	}
	tok := jwt.NewWithClaims(method, s.claims)
	switch {
	case s.kid == nil:
		tok.Header["kid"] = current.kid
	case *s.kid != "":
		tok.Header["kid"] = *s.kid
	}
	signed, err := tok.SignedString(key)
	if err != nil {
		panic("entratest: signing a token with " + s.alg + ": " + err.Error())
	}
	return signed
}

func publicPEM(pub *rsa.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic("entratest: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
