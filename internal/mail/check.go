package mail

import "context"

// Report is what Check found.
type Report struct {
	// TLS is the TLS version of the connection ("" on a loopback server
	// that does not offer STARTTLS).
	TLS string
	// Auth is the mechanism used to sign in ("" without credentials).
	Auth string
}

// Check connects as sending would (TLS, sign-in) and says goodbye without
// sending anything.
func Check(ctx context.Context, cfg Config) (Report, error) {
	c, err := Dial(ctx, cfg)
	if err != nil {
		return Report{}, err
	}
	r := Report{TLS: c.TLSVersion(), Auth: c.AuthMechanism()}
	return r, c.Close()
}
