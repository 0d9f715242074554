// Package loopback answers one question the same way everywhere: does a
// host name or URL point at this machine only? Plain-text transports
// (http, SMTP without TLS, a development storage endpoint) are allowed for
// loopback hosts alone, so the rule must not differ between packages.
package loopback

import (
	"net"
	"net/url"
	"strings"
)

// Host reports whether host (a bare host name or IP literal, without port
// or brackets) is a loopback address: "localhost" (any case), or an IP
// address in 127.0.0.0/8 or ::1. A name that merely starts with "127." is
// not one: "127.evil.example" resolves wherever its owner wants.
func Host(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// URL reports whether u's host is a loopback host.
func URL(u *url.URL) bool { return u != nil && Host(u.Hostname()) }
