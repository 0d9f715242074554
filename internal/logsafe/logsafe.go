// Package logsafe holds the rules for what may appear in a log line: email
// addresses only masked or keyed-hashed, request-supplied values capped,
// and no character that could forge or disguise a line in a viewer.
package logsafe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// MaskEmail keeps enough of an address to recognise it in a log without
// revealing it: the first character of the local part and the domain
// ("j***@example.org"). The domain stays readable so that operators can
// see which organisations are blocked.
func MaskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return "***"
	}
	_, n := utf8.DecodeRuneInString(email)
	return email[:n] + "***" + email[at:]
}

// Hasher turns a normalised address into a short keyed digest (HMAC-SHA256),
// so that an operator who knows an address and the key can find its log
// lines, while someone who only has the logs cannot recover addresses by
// hashing guesses. The zero Hasher has no key and hashes nothing.
type Hasher struct{ key []byte }

// MinHashKeyBytes is the shortest key NewHasher accepts.
const MinHashKeyBytes = 16

// NewHasher returns a Hasher keyed with key ("" for none).
func NewHasher(key string) Hasher {
	if key == "" {
		return Hasher{}
	}
	return Hasher{key: []byte(key)}
}

// Enabled reports whether h has a key.
func (h Hasher) Enabled() bool { return len(h.key) > 0 }

// Email returns the digest of a normalised address: 16 hex digits, or ""
// when h has no key.
func (h Hasher) Email(email string) string {
	if !h.Enabled() {
		return ""
	}
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte("invitegate-email:" + email))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// Cap shortens a value a request supplied (a header, an identifier) to at
// most n bytes, on a character boundary, marking the cut with "…".
func Cap(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
