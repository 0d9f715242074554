package loopback

import (
	"net/url"
	"testing"
)

func TestHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost":        true,
		"LocalHost":        true,
		"127.0.0.1":        true,
		"127.1.2.3":        true,
		"::1":              true,
		"127.evil.example": false,
		"127.0.0.1.nip.io": false,
		"localhost.evil":   false,
		"10.0.0.1":         false,
		"::ffff:10.0.0.1":  false,
		"":                 false,
		"example.org":      false,
		"[::1]":            false, // brackets belong to URLs, not host names
		"0000:0000::0001":  true,
	} {
		if got := Host(host); got != want {
			t.Errorf("Host(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestURL(t *testing.T) {
	for raw, want := range map[string]bool{
		"http://127.0.0.1:10002/devstoreaccount1": true,
		"http://[::1]:8080/":                      true,
		"https://localhost/x":                     true,
		"http://127.evil.example/":                false,
		"https://account.table.core.windows.net":  false,
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := URL(u); got != want {
			t.Errorf("URL(%q) = %v, want %v", raw, got, want)
		}
	}
	if URL(nil) {
		t.Error("URL(nil) = true")
	}
}
