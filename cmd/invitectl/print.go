package main

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/invitegate/invitegate/internal/invite"
)

// printable makes text from the table safe to show on a terminal: control
// characters (C0) become spaces, so a note keeps to its row; C1 controls,
// which some terminals obey, and the invisible bidirectional controls,
// which can show text in another order than it is stored (an address that
// reads as someone else's), are dropped.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r < 0x20 || r == 0x7f:
			return ' '
		case r >= 0x80 && r < 0xa0, unicode.Is(unicode.Bidi_Control, r):
			return -1
		}
		return r
	}, s)
}

// keyText is an invitation key as printed.
func keyText(k invite.Key) string { return printable(k.String()) }

// oneLine is printable s cut to max characters.
func oneLine(s string, max int) string {
	s = printable(s)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max-1]) + "…"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}
