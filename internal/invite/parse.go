package invite

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/invitegate/invitegate/internal/guid"
)

// NormalizeEmail trims and lowercases s and checks that it has the shape of
// one address: exactly one "@", a non-empty local part, a dotted domain, and
// none of the characters that Azure Table keys forbid or that never appear
// in a deliverable address. The address must already be in its canonical
// form (see Canonical): look-alikes are refused, never folded, so
// "ｊｏ@example.org" stays distinct from "jo@example.org" and the Ångström
// sign never matches "å". The gate and the admin CLI use it, so both sides
// agree on every key.
func NormalizeEmail(s string) (string, bool) {
	t := strings.TrimSpace(s)
	if !Canonical(t) {
		return "", false
	}
	e := strings.ToLower(t)
	if e == "" || len(e) > 254 {
		return "", false
	}
	at := strings.IndexByte(e, '@')
	if at <= 0 || at != strings.LastIndexByte(e, '@') {
		return "", false
	}
	if !validDomain(e[at+1:]) {
		return "", false
	}
	return e, validKeyChars(e)
}

// Canonical reports whether s is its own canonical form, so that
// lowercasing it cannot make it equal to a different address: s is in
// Unicode normalization form C, and every character is either lowercase
// already or the uppercase partner of its lowercase (É ↔ é). Characters
// that lowercase to a letter whose uppercase is someone else are refused:
// the Kelvin sign U+212A (→ k), the Ångström sign U+212B (→ å), the Ohm
// sign U+2126 (→ ω), dotted capital I U+0130 (→ i), titlecase digraphs.
// A decomposed "å" (a + U+030A) is refused too, rather than composed:
// mail systems need not treat the two spellings as one mailbox.
func Canonical(s string) bool {
	for _, c := range s {
		if c < utf8.RuneSelf {
			continue
		}
		if l := unicode.ToLower(c); l != c && unicode.ToUpper(l) != c {
			return false
		}
	}
	return norm.NFC.IsNormalString(s)
}

func validDomain(d string) bool {
	return d != "" && strings.Contains(d, ".") && !strings.HasPrefix(d, ".") &&
		!strings.HasSuffix(d, ".") && !strings.Contains(d, "..") && validKeyChars(d)
}

func validKeyChars(s string) bool {
	for _, c := range s {
		switch {
		case c < 0x21, c == 0x7f, c >= 0x80 && c < 0xa0, c == 0xfffd:
			return false // spaces, control characters, replacement character
		case strings.ContainsRune(`/\#?",;<>()[]:`, c):
			return false
		}
	}
	return true
}

// ParseSubject parses what an administrator types to name who is invited:
// an email address, or "@domain.tld" for every address of a domain.
func ParseSubject(s string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if !Canonical(strings.TrimSpace(s)) {
		return "", fmt.Errorf("%q holds a character that only looks like another one (such as the Kelvin or Ångström sign), or is not in Unicode normal form C: type the address again", s)
	}
	if strings.HasPrefix(t, "@") {
		if !validDomain(t[1:]) {
			return "", fmt.Errorf("%q is not a domain: write it as @example.org", s)
		}
		return t, nil
	}
	e, ok := NormalizeEmail(t)
	if !ok {
		return "", fmt.Errorf("%q is not an email address or an @domain", s)
	}
	return e, nil
}

// IsGUID reports whether s is a GUID in its canonical, lowercase form. It
// is guid.Valid, the one GUID rule of the project; callers lowercase first.
func IsGUID(s string) bool { return guid.Valid(s) }

// ParseApp parses an application id: "" or "*" means any application,
// otherwise a GUID (the application's appId).
func ParseApp(s string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "" || t == AnyApp {
		return AnyApp, nil
	}
	if !IsGUID(t) {
		return "", fmt.Errorf("%q is not an application id: use the app's appId, a GUID such as 5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f", s)
	}
	return t, nil
}

var durationPattern = regexp.MustCompile(`^(\d+)([mhdw])$`)

// ParseExpiry parses an expiry as administrators write it, relative to now:
//
//   - a date, 2027-01-31: valid through the end of that day, UTC;
//   - an RFC 3339 time, 2027-01-31T17:00:00Z: valid until that instant;
//   - a duration, 30d or 2w (days), 12h (hours) or 90m (minutes): valid
//     through the end of the UTC day, hour or minute that it reaches, so
//     30d is the date 30 days from today, like a date.
//
// A duration thus resolves to the same expiry all through one day (hour,
// minute): re-running an import the same day changes nothing, and
// re-running it on a later day moves the expiry on. "" and "never" mean no
// expiry (the zero time).
func ParseExpiry(s string, now time.Time) (time.Time, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "", "never":
		return time.Time{}, nil
	}
	if d, err := time.Parse(time.DateOnly, t); err == nil {
		return d.AddDate(0, 0, 1).UTC(), nil
	}
	if ts, err := time.Parse(time.RFC3339Nano, t); err == nil {
		return ts.UTC(), nil
	}
	if m := durationPattern.FindStringSubmatch(strings.ToLower(t)); m != nil {
		n, err := strconv.Atoi(m[1])
		if err == nil && n > 0 && n <= 100*366*24*60 {
			unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
			step := min(unit, 24*time.Hour) // weeks count in days
			if time.Duration(n) <= time.Duration(1<<62)/unit {
				// Truncate counts from the zero time, so whole days are UTC days.
				return now.UTC().Truncate(step).Add(time.Duration(n)*unit + step), nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an expiry: use a date (2027-01-31), an RFC 3339 time (2027-01-31T17:00:00Z) or a duration (30d, 12h, 2w)", s)
}

// ParseAge parses an age such as 90m, 12h, 7d or 2w: a whole number of
// minutes, hours, days or weeks, counted exactly (unlike an expiry, it is
// not rounded to the end of a day).
func ParseAge(s string) (time.Duration, error) {
	if m := durationPattern.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s))); m != nil {
		n, err := strconv.Atoi(m[1])
		unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
		if err == nil && n > 0 && n <= 100*366*24*60 && time.Duration(n) <= time.Duration(1<<62)/unit {
			return time.Duration(n) * unit, nil
		}
	}
	return 0, fmt.Errorf("%q is not an age: use 90m, 12h, 7d or 2w", s)
}

// ParseAttribute parses NAME=VALUE as given to --prefill and --set.
func ParseAttribute(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return "", "", fmt.Errorf("%q is not NAME=VALUE", s)
	}
	if !validAttributeName(name) {
		return "", "", fmt.Errorf("%q is not an attribute name: use the name Entra sends, such as givenName or extension_<appid>_Name", name)
	}
	return name, value, nil
}

func validAttributeName(s string) bool {
	if len(s) > 256 {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
