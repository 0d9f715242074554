package main

import "testing"

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain note":                      "plain note",
		"two\r\nlines\tand a tab":         "two  lines and a tab",
		"c1\u0085\u009bcontrols":          "c1controls",
		"jo\u202e@example.org":            "jo@example.org", // right-to-left override
		"\u2066isolate\u2069 \u200fmarks": "isolate marks",
		"café ✓ — «ok»":                   "café ✓ — «ok»",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
	if got := oneLine("abcdef", 4); got != "abc…" {
		t.Errorf("oneLine = %q", got)
	}
}
