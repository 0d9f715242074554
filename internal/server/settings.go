package server

import (
	"fmt"
	"strings"
	"time"
)

// Store timeout bounds: at least enough for one round trip, and below
// Entra's 2 s limit for the whole answer.
const (
	MinStoreTimeout = 50 * time.Millisecond
	MaxStoreTimeout = 1900 * time.Millisecond
)

// StoreTimeoutFromEnv reads INVITE_STORE_TIMEOUT (default 700ms). The
// handler and invitectl doctor both use it, so they agree on the rule.
func StoreTimeoutFromEnv(getenv func(string) string) (time.Duration, error) {
	return EnvDuration(getenv, "INVITE_STORE_TIMEOUT", DefaultStoreTimeout, MinStoreTimeout, MaxStoreTimeout,
		"Entra waits at most 2s for the whole answer")
}

// EnvDuration reads the duration setting name through getenv: def when
// unset, otherwise it must parse and lie within [min, max]. Errors name
// the setting and say what to write; why, when given, says why the bounds.
func EnvDuration(getenv func(string) string, name string, def, min, max time.Duration, why string) (time.Duration, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a duration: write it like %s", name, v, def)
	}
	if d < min || d > max {
		msg := fmt.Sprintf("%s %s is out of range: use %s to %s", name, d, min, max)
		if why != "" {
			msg += " (" + why + ")"
		}
		return 0, fmt.Errorf("%s", msg)
	}
	return d, nil
}
