package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/rs/zerolog"

	"github.com/invitegate/invitegate/internal/graph"
	"github.com/invitegate/invitegate/internal/invite"
)

// Block page titles.
const (
	titleNotInvited  = "Invitation required"
	titleExpired     = "Invitation expired"
	titleUnavailable = "Service temporarily unavailable"
)

// Outcomes the gate logs beside invite's: the request gave no address the
// gate may trust, or a submit's address was not approved at start.
const (
	outcomeNoEmail     = "no_email"
	outcomeNotApproved = "not_approved"
)

// verdict is the answer to one request and what the decision log says.
type verdict struct {
	resp        graph.Response
	outcome     string
	reason      string // why no_email, not_approved or unavailable
	level       invite.Level
	email       string
	source      string
	recorded    bool
	overwritten bool             // submit: the email attribute was set back to the verified address
	approval    *invite.Approval // start: to record once the answer is out
	err         error            // why the gate could not answer (logged as an error)
}

// claim is the address a request may be decided on, and what the submit
// must show for it. It is the gate's email-provenance rule; claimFor
// derives it from the request alone.
type claim struct {
	email  string
	source string // "identity" (Entra verified it), "federated" (a trusted provider's), "form" (submit without identities)
	// binding is, at start, whom the approval is given to; at submit, whom
	// an approval must have been given to ("" for any).
	binding      invite.Binding
	needApproval bool   // submit: a live approval of the address must exist
	reason       string // no usable address: why
}

// Email sources, as logged.
const (
	sourceIdentity  = "identity"
	sourceFederated = "federated"
	sourceForm      = "form"
)

// Reasons a request has no usable address, beside graph's.
const (
	reasonIssuerNotTrusted = "issuer_not_trusted"
	reasonNoIdentity       = "no_identity_at_start"
	reasonNotApproved      = "not_approved_at_start"
	reasonSetValue         = "set_value_unusable"
)

// claimFor applies the email-provenance rule:
//
//   - A local account (email one-time passcode, email and password): the
//     address Entra verified, at start and at submit. The form's email
//     attribute never overrides it.
//   - A federated identity whose issuer is in issuers: the provider's
//     address, from the email attribute. At submit the attribute holds what
//     the person submitted, so it counts only if start approved that
//     address for this same identity.
//   - A submit with no identity at all: the submitted email attribute,
//     only if start approved that address within the window.
//   - Anything else has no usable address: a federated issuer not in
//     issuers, a userName or phoneNumber identity, an unknown signInType,
//     a start with no identity.
func claimFor(ev graph.Event, e graph.Evidence, issuers []string) claim {
	submit := ev == graph.AttributeCollectionSubmit
	switch e.SignIn {
	case graph.SignInLocal:
		if e.Email == "" {
			return claim{reason: e.Problem}
		}
		return claim{email: e.Email, source: sourceIdentity, binding: invite.AddressBinding}
	case graph.SignInFederated:
		if e.Problem == graph.AmbiguousIdentities {
			return claim{reason: e.Problem}
		}
		if !trusted(issuers, e.Issuer) {
			return claim{reason: reasonIssuerNotTrusted}
		}
		if e.Email == "" {
			return claim{reason: e.Problem}
		}
		return claim{email: e.Email, source: sourceFederated, binding: invite.IdentityBinding(e.Issuer, e.Subject), needApproval: submit}
	case graph.SignInNone:
		if !submit {
			return claim{reason: reasonNoIdentity}
		}
		if e.Email == "" {
			return claim{reason: e.Problem}
		}
		return claim{email: e.Email, source: sourceForm, needApproval: true}
	}
	return claim{reason: graph.UnverifiedSignInType}
}

func trusted(issuers []string, issuer string) bool {
	issuer = strings.TrimSpace(issuer)
	for _, i := range issuers {
		if issuer != "" && strings.EqualFold(i, issuer) {
			return true
		}
	}
	return false
}

// decide answers a decoded request within ctx's deadline. Side notes
// (prefill values left out, a failed redemption write) are logged on log;
// the decision itself by the caller.
func (g *gate) decide(ctx context.Context, ev graph.Event, req *graph.Request, log zerolog.Logger) verdict {
	evidence := req.Evidence()
	c := claimFor(ev, evidence, g.EmailIssuers)
	if c.reason != "" {
		v := verdict{outcome: outcomeNoEmail, reason: c.reason, resp: graph.Block(ev, titleNotInvited, g.Messages.NoEmail)}
		if c.reason == graph.UnverifiedSignInType {
			v.reason += ":" + evidence.SignInType
		}
		return v
	}
	v := verdict{email: c.email, source: c.source}

	m, err := g.Store.Match(ctx, c.email, req.AppID())
	if err != nil {
		return g.unavailable(ev, v, err)
	}
	now := g.Now()
	d := invite.Decide(m, now)
	v.outcome, v.level = string(d.Outcome), d.Level
	switch d.Outcome {
	case invite.Allowed:
	case invite.Expired:
		v.resp = graph.Block(ev, titleExpired, g.Messages.Expired)
		return v
	default:
		v.resp = graph.Block(ev, titleNotInvited, g.Messages.NotInvited)
		return v
	}

	if ev == graph.AttributeCollectionStart {
		inputs, skipped := req.TypedValues(d.Invitation.Prefill)
		if len(skipped) > 0 {
			log.Warn().Strs("attributes", skipped).Msg("prefill values left out: they do not match the attribute's type")
		}
		v.resp = graph.Prefill(inputs)
		if !invite.RecentlyApproved(m.Approvals, c.binding, now, g.SignupWindow) {
			v.approval = &invite.Approval{Email: c.email, Binding: c.binding, CorrelationID: req.CorrelationID(), At: now, Expires: now.Add(g.SignupWindow)}
		}
		return v
	}

	// Submit.
	if c.needApproval && !invite.Approved(m.Approvals, c.binding, now) {
		v.outcome, v.reason = outcomeNotApproved, reasonNotApproved
		v.resp = graph.Block(ev, titleNotInvited, g.Messages.NotApproved)
		return v
	}
	// Every enforced value must apply before anything is written: a value
	// that does not fit its attribute fails closed.
	attrs, skipped := req.TypedValues(d.Invitation.Set)
	if len(skipped) > 0 {
		v.reason = reasonSetValue
		return g.unavailable(ev, v, fmt.Errorf("the invitation's set values for %s do not fit the attributes' types: fix them with invitectl add --set", strings.Join(skipped, ", ")))
	}
	if c.source == sourceIdentity && evidence.Attribute.Key != "" {
		if typed, ok := invite.NormalizeEmail(evidence.Attribute.Value); !ok || typed != c.email {
			// The verified address wins over what the form says.
			if attrs == nil {
				attrs = map[string]any{}
			}
			attrs[evidence.Attribute.Key] = c.email
			v.overwritten = true
		}
	}
	v.recorded, err = g.Store.Redeem(ctx, *d.Invitation, c.email, req.CorrelationID(), now)
	if err != nil {
		// A failed write never blocks a sign-up the invitation allows.
		log.Error().Err(err).Msg("redemption not recorded; the sign-up continues")
	}
	v.resp = graph.Modify(attrs)
	return v
}

// unavailable is the verdict when the gate cannot decide: the store failed,
// or an enforced value cannot be applied.
func (g *gate) unavailable(ev graph.Event, v verdict, err error) verdict {
	v.outcome, v.err = string(invite.Unavailable), err
	v.resp = graph.Block(ev, titleUnavailable, g.Messages.Unavailable)
	return v
}
