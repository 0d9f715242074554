package graph

import (
	"strings"

	"github.com/invitegate/invitegate/internal/invite"
)

// SignIn says how the person signing up proved who they are, as far as
// the request tells.
type SignIn string

// Ways of signing in, as Evidence reports them.
const (
	// SignInNone: the request carries no identity. Entra sends submits
	// like that, for local and federated sign-ups alike.
	SignInNone SignIn = "none"
	// SignInLocal: a local account whose address Entra verified (email
	// one-time passcode, or email and password): signInType "email" or
	// "emailAddress", or issuer "mail".
	SignInLocal SignIn = "local"
	// SignInFederated: a federated identity provider (Google, Facebook,
	// Apple, a custom OIDC or SAML provider). The identity holds the
	// provider's opaque subject; the address, if any, is in the attributes.
	SignInFederated SignIn = "federated"
	// SignInOther: an identity that proves no address, such as signInType
	// "userName" or "phoneNumber", or one this package does not know.
	SignInOther SignIn = "other"
)

// Reasons why Evidence found no usable address, as short words for logs.
const (
	NoAddressInIdentity  = "identity_address_unusable" // a local identity whose issuerAssignedId is not an address
	NoEmailAttribute     = "no_email_attribute"        // no "email"/"EmailAddress" attribute with an address
	AmbiguousIdentities  = "ambiguous_identities"      // several federated identities that disagree
	UnverifiedSignInType = "sign_in_type_unverified"   // SignInOther
)

// Evidence is what a request says about the person's email address and
// where that address comes from. The gate decides from it which address,
// if any, it may trust (see the server package).
type Evidence struct {
	SignIn SignIn
	// Email is the normalised address: the local identity's for
	// SignInLocal, otherwise the "email" (or "EmailAddress") attribute's.
	// "" when there is none that is usable; Problem then says why.
	Email   string
	Problem string
	// Issuer and Subject name the federated identity (SignInFederated).
	Issuer  string
	Subject string
	// SignInType is the identity's signInType as sent, for logs
	// (SignInOther). It is capped to a short length.
	SignInType string
	// Attribute is the email attribute as sent: its key (in the request's
	// spelling) and its raw value; Key is "" when the request has none.
	Attribute struct{ Key, Value string }
}

// Evidence reads the person's email address and its provenance. A local
// identity wins over everything: Entra verified its address. When a local
// identity's issuerAssignedId is not a usable address, Email is "": the
// form's attributes never stand in for what Entra verified. A federated
// identity's issuerAssignedId is never used as an address: it is an opaque
// subject chosen by the provider.
func (r *Request) Evidence() Evidence {
	info := r.Data.UserSignUpInfo
	var e Evidence
	e.Attribute.Key, e.Attribute.Value = r.emailAttribute()
	for _, id := range info.Identities {
		if isLocal(id) {
			e.SignIn = SignInLocal
			if email, ok := invite.NormalizeEmail(id.IssuerAssignedID); ok {
				e.Email = email
			} else {
				e.Problem = NoAddressInIdentity
			}
			return e
		}
	}
	for _, id := range info.Identities {
		if !strings.EqualFold(strings.TrimSpace(id.SignInType), "federated") {
			continue
		}
		if e.SignIn == SignInFederated && (!strings.EqualFold(e.Issuer, id.Issuer) || e.Subject != id.IssuerAssignedID) {
			return Evidence{SignIn: SignInFederated, Problem: AmbiguousIdentities, Attribute: e.Attribute}
		}
		e.SignIn, e.Issuer, e.Subject = SignInFederated, id.Issuer, id.IssuerAssignedID
	}
	switch {
	case e.SignIn == SignInFederated:
	case len(info.Identities) > 0:
		e.SignIn, e.Problem = SignInOther, UnverifiedSignInType
		e.SignInType = truncateTo(info.Identities[0].SignInType, 32)
		return e
	default:
		e.SignIn = SignInNone
	}
	if email, ok := invite.NormalizeEmail(e.Attribute.Value); ok && e.Attribute.Key != "" {
		e.Email = email
	} else {
		e.Problem = NoEmailAttribute
	}
	return e
}

// isLocal reports whether an identity is a local account whose address
// Entra verified.
func isLocal(id Identity) bool {
	return strings.EqualFold(id.SignInType, "email") ||
		strings.EqualFold(id.SignInType, "emailAddress") ||
		strings.EqualFold(id.Issuer, "mail")
}

// emailAttribute returns the "email" attribute, or failing that the
// "EmailAddress" one (Google's start requests use it), matched
// case-insensitively, when its value is a string. Two passes keep the
// choice deterministic whatever the map order.
func (r *Request) emailAttribute() (key, value string) {
	for _, name := range []string{"email", "emailaddress"} {
		for k, attr := range r.Data.UserSignUpInfo.Attributes {
			if !strings.EqualFold(k, name) {
				continue
			}
			if s, ok := attr.stringValue(); ok {
				return k, s
			}
		}
	}
	return "", ""
}

func truncateTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
