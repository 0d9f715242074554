package invite

import (
	"testing"
	"time"
)

func TestParseExpiry(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 30, 15, 500, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{"", time.Time{}, false},
		{"never", time.Time{}, false},
		{"2027-01-31", time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), false}, // through the end of that day, UTC
		{"2027-01-31T17:00:00Z", time.Date(2027, 1, 31, 17, 0, 0, 0, time.UTC), false},
		{"2027-01-31T17:00:00+02:00", time.Date(2027, 1, 31, 15, 0, 0, 0, time.UTC), false},
		// A duration lasts through the end of the UTC day (hour, minute) it reaches.
		{"30d", time.Date(2026, 12, 27, 0, 0, 0, 0, time.UTC), false},
		{"1d", time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), false},
		{"2w", time.Date(2026, 12, 11, 0, 0, 0, 0, time.UTC), false},
		{"12h", time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC), false},
		{"90m", time.Date(2026, 11, 26, 11, 1, 0, 0, time.UTC), false},
		{"31/01/2027", time.Time{}, true},
		{"2027-02-30", time.Time{}, true},
		{"0d", time.Time{}, true},
		{"-3d", time.Time{}, true},
		{"soon", time.Time{}, true},
		{"99999999999d", time.Time{}, true},
	} {
		got, err := ParseExpiry(tc.in, now)
		if (err != nil) != tc.bad || !got.Equal(tc.want) {
			t.Errorf("ParseExpiry(%q) = %v, %v; want %v (error: %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestParseSubject(t *testing.T) {
	for in, want := range map[string]string{
		" Jo.Bloggs@Example.ORG ":      "jo.bloggs@example.org",
		"@Example.org":                 "@example.org",
		"o'brien@example.org":          "o'brien@example.org",
		"jo@example":                   "",
		"@":                            "",
		"@.org":                        "",
		"jo@@example.org":              "",
		"jo":                           "",
		"jo#1@example.org":             "",
		"\u212Aim.l\u0130@example.org": "", // Kelvin sign and dotted I lowercase to ASCII: look-alikes of kim.li@
		"ÉLISE@example.fr":             "élise@example.fr",
		"\u212Bsa@example.org":         "", // Ångström sign: lowercases to å, the invitation of åsa@
		"\u00C5sa@example.org":         "åsa@example.org",
		"a\u030Asa@example.org":        "", // decomposed å: not NFC
		"\u2126mega@example.org":       "", // Ohm sign → ω, whose uppercase is Ω
		"\u01C5ungla@example.org":      "", // titlecase ǅ
		"ΣΟΦΊΑ@example.gr":             "σοφία@example.gr",
		"straße@example.de":            "straße@example.de",
		"@\u212Aelvin.example":         "",
	} {
		got, err := ParseSubject(in)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("ParseSubject(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestParseApp(t *testing.T) {
	for in, want := range map[string]string{
		"":                                     AnyApp,
		"*":                                    AnyApp,
		"5F3E2D1C-2222-4B3A-8C9D-1A2B3C4D5E6F": "5f3e2d1c-2222-4b3a-8c9d-1a2b3c4d5e6f",
		"members-portal":                       "",
		"5f3e2d1c22224b3a8c9d1a2b3c4d5e6f":     "",
	} {
		got, err := ParseApp(in)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("ParseApp(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestParseAttribute(t *testing.T) {
	for in, want := range map[string][2]string{
		"givenName=Jo":            {"givenName", "Jo"},
		"extension_abc_Level=a=b": {"extension_abc_Level", "a=b"},
		"city=":                   {"city", ""},
		"=x":                      {"", ""},
		"no-equals":               {"", ""},
		"bad name=x":              {"", ""},
		"1st=x":                   {"", ""},
	} {
		n, v, err := ParseAttribute(in)
		if n != want[0] || v != want[1] || (err != nil) != (want[0] == "") {
			t.Errorf("ParseAttribute(%q) = %q, %q, %v; want %q", in, n, v, err, want)
		}
	}
}

// A relative expiry is the same all through its unit, so re-running an
// import a moment later changes nothing; on the next day it moves on.
func TestParseExpiryStableWithinUnit(t *testing.T) {
	day := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in        string
		from, to  time.Time // the first and last instant of one unit
		want, nxt time.Time // the expiry within it, and just after it
	}{
		{"30d", day, day.Add(24*time.Hour - time.Nanosecond), time.Date(2026, 12, 27, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC)},
		{"12h", day.Add(9 * time.Hour), day.Add(10*time.Hour - time.Nanosecond), day.Add(22 * time.Hour), day.Add(23 * time.Hour)},
		{"5m", day.Add(time.Minute), day.Add(2*time.Minute - time.Nanosecond), day.Add(7 * time.Minute), day.Add(8 * time.Minute)},
	} {
		for _, now := range []time.Time{tc.from, tc.from.Add(time.Second), tc.to, tc.to.In(time.FixedZone("UTC-10", -10*3600))} {
			if got, err := ParseExpiry(tc.in, now); err != nil || !got.Equal(tc.want) {
				t.Errorf("ParseExpiry(%q) at %v = %v, %v; want %v", tc.in, now, got, err, tc.want)
			}
		}
		if got, _ := ParseExpiry(tc.in, tc.to.Add(time.Nanosecond)); !got.Equal(tc.nxt) {
			t.Errorf("ParseExpiry(%q) at %v = %v, want %v", tc.in, tc.to.Add(time.Nanosecond), got, tc.nxt)
		}
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90m": 90 * time.Minute,
		"12h": 12 * time.Hour,
		"7d":  7 * 24 * time.Hour, // exact: not rounded to a day's end as an expiry is
		" 2W": 14 * 24 * time.Hour,
	} {
		if got, err := ParseAge(in); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0d", "7", "d", "-7d", "1.5d", "7 d", "2027-01-31", "never", "99999999999999999999m"} {
		if got, err := ParseAge(bad); err == nil {
			t.Errorf("ParseAge(%q) = %v, want an error", bad, got)
		}
	}
}
