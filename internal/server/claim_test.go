package server

import (
	"testing"

	"github.com/invitegate/invitegate/internal/graph"
	"github.com/invitegate/invitegate/internal/invite"
)

// TestClaimFor is the email-provenance rule as a table: which address a
// request may be decided on, and what its submit must show.
func TestClaimFor(t *testing.T) {
	const start, submit = graph.AttributeCollectionStart, graph.AttributeCollectionSubmit
	issuers := []string{"google.com", "https://idp.partner.example/"}
	google := graph.Evidence{SignIn: graph.SignInFederated, Email: "alex@gmail.com", Issuer: "google.com", Subject: "1122"}
	googleID := invite.IdentityBinding("google.com", "1122")
	local := graph.Evidence{SignIn: graph.SignInLocal, Email: "jo@example.org"}
	for _, tc := range []struct {
		name string
		ev   graph.Event
		e    graph.Evidence
		want claim
	}{
		{"local at start", start, local, claim{email: "jo@example.org", source: sourceIdentity, binding: invite.AddressBinding}},
		{"local at submit needs no approval", submit, local, claim{email: "jo@example.org", source: sourceIdentity, binding: invite.AddressBinding}},
		{"local identity without an address", start, graph.Evidence{SignIn: graph.SignInLocal, Problem: graph.NoAddressInIdentity}, claim{reason: graph.NoAddressInIdentity}},
		{"trusted provider at start", start, google, claim{email: "alex@gmail.com", source: sourceFederated, binding: googleID}},
		{"trusted provider at submit: bound to the identity", submit, google, claim{email: "alex@gmail.com", source: sourceFederated, binding: googleID, needApproval: true}},
		{"issuer compared without case", start, graph.Evidence{SignIn: graph.SignInFederated, Email: "alex@gmail.com", Issuer: "Google.COM", Subject: "1122"},
			claim{email: "alex@gmail.com", source: sourceFederated, binding: googleID}},
		{"custom provider on the list", start, graph.Evidence{SignIn: graph.SignInFederated, Email: "p@partner.example", Issuer: "https://idp.partner.example/", Subject: "s"},
			claim{email: "p@partner.example", source: sourceFederated, binding: invite.IdentityBinding("https://idp.partner.example/", "s")}},
		{"provider not on the list", start, graph.Evidence{SignIn: graph.SignInFederated, Email: "jo@example.org", Issuer: "https://evil.example/", Subject: "x"}, claim{reason: reasonIssuerNotTrusted}},
		{"provider not on the list, at submit", submit, graph.Evidence{SignIn: graph.SignInFederated, Email: "jo@example.org", Issuer: "facebook.com", Subject: "x"}, claim{reason: reasonIssuerNotTrusted}},
		{"issuer that only contains a trusted one", start, graph.Evidence{SignIn: graph.SignInFederated, Email: "jo@example.org", Issuer: "google.com.evil.example", Subject: "x"}, claim{reason: reasonIssuerNotTrusted}},
		{"empty issuer", start, graph.Evidence{SignIn: graph.SignInFederated, Email: "jo@example.org", Subject: "x"}, claim{reason: reasonIssuerNotTrusted}},
		{"trusted provider without an email attribute", start, graph.Evidence{SignIn: graph.SignInFederated, Issuer: "google.com", Subject: "1122", Problem: graph.NoEmailAttribute}, claim{reason: graph.NoEmailAttribute}},
		{"two disagreeing identities", start, graph.Evidence{SignIn: graph.SignInFederated, Problem: graph.AmbiguousIdentities}, claim{reason: graph.AmbiguousIdentities}},
		{"userName identity", start, graph.Evidence{SignIn: graph.SignInOther, Problem: graph.UnverifiedSignInType, SignInType: "userName"}, claim{reason: graph.UnverifiedSignInType}},
		{"phoneNumber identity at submit", submit, graph.Evidence{SignIn: graph.SignInOther, Problem: graph.UnverifiedSignInType, SignInType: "phoneNumber"}, claim{reason: graph.UnverifiedSignInType}},
		{"start without identities", start, graph.Evidence{SignIn: graph.SignInNone, Email: "jo@example.org"}, claim{reason: reasonNoIdentity}},
		{"submit without identities: the form's address, approval of any binding", submit, graph.Evidence{SignIn: graph.SignInNone, Email: "jo@example.org"},
			claim{email: "jo@example.org", source: sourceForm, needApproval: true}},
		{"submit without identities or an address", submit, graph.Evidence{SignIn: graph.SignInNone, Problem: graph.NoEmailAttribute}, claim{reason: graph.NoEmailAttribute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := claimFor(tc.ev, tc.e, issuers); got != tc.want {
				t.Fatalf("claimFor = %+v, want %+v", got, tc.want)
			}
		})
	}
	if got := claimFor(start, google, nil); got.reason != reasonIssuerNotTrusted {
		t.Errorf("with no trusted issuers, Google was trusted: %+v", got)
	}
}
