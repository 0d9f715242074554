// Package guid answers one question the same way everywhere: is this string
// a GUID? Tenant ids, client ids and application ids are GUIDs, and the
// packages that check them must not disagree about which strings are.
//
// The rule is the canonical form, 8-4-4-4-12 lower-case hex digits. A
// caller that accepts what people and Entra write (settings, claims, ids in
// requests) normalises first with Normalize, which lowercases and trims;
// a caller that needs the canonical form as stored (a table key) uses Valid
// alone.
package guid

import "strings"

// Valid reports whether s is a GUID in canonical form: 36 characters,
// lower-case hex digits in groups of 8, 4, 4, 4 and 12 separated by '-'.
// Upper-case digits, braces and surrounding space make it false.
func Valid(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// Normalize trims space from s and lowercases it, and reports whether the
// result is Valid. Use it where a GUID may be written in any case, such as
// ENTRA_TENANT_ID, and compare the normalised forms.
func Normalize(s string) (string, bool) {
	n := strings.ToLower(strings.TrimSpace(s))
	return n, Valid(n)
}
