package entraauth

import (
	"context"
	"fmt"
	"time"
)

// Describe returns a one-line summary of the settings in force, safe to
// print: the mode, tenant, audience and authority (no secrets exist here).
func (a *Authenticator) Describe() string {
	switch a.mode {
	case ModeOff:
		return "ENTRA_AUTH=off: requests are not authenticated"
	case ModeEasyAuth:
		return fmt.Sprintf("ENTRA_AUTH=easyauth: App Service Authentication validates the token; caller, tenant %s and audience %s checked here",
			a.set.tenant, a.set.audience)
	}
	return fmt.Sprintf("ENTRA_AUTH=jwt: tenant %s, audience %s, authority %s", a.set.tenant, a.set.audience, a.set.authority)
}

// DiscoveryURL returns the OpenID discovery document's address in jwt
// mode, and "" otherwise.
func (a *Authenticator) DiscoveryURL() string {
	if a.mode != ModeJWT {
		return ""
	}
	return a.keys.discoveryURL
}

// WaitReady waits until the signing keys have loaded at least once (jwt
// mode; other modes are always ready). When ctx ends first it returns why
// the latest fetch failed. It is for diagnostics such as invitectl doctor;
// requests never call it.
func (a *Authenticator) WaitReady(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !a.Ready() {
		select {
		case <-ctx.Done():
			if err := a.keys.lastError(); err != nil {
				return err
			}
			return fmt.Errorf("the signing keys did not load: %v", ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}
