package logsafe

import (
	"bytes"
	"io"
	"unicode/utf8"
)

// NewWriter returns a writer that passes JSON log lines to w with every
// character escaped that JSON allows raw inside a string but that a log
// viewer may act on: C1 control characters (U+0080–U+009F), the line and
// paragraph separators U+2028 and U+2029 (which end a line in some viewers
// and in JavaScript), and the bidirectional controls (U+061C, U+200E,
// U+200F, U+202A–U+202E, U+2066–U+2069), which can make a line read as
// something else. They become \uXXXX escapes, which decode to the same
// string: the line stays valid JSON that means the same. Each Write must be
// whole lines of JSON, as zerolog writes them; these characters occur only
// inside strings there, where an escape is valid.
func NewWriter(w io.Writer) io.Writer { return escaper{w} }

type escaper struct{ w io.Writer }

func (e escaper) Write(p []byte) (int, error) {
	if !needsEscape(p) {
		return e.w.Write(p)
	}
	out := make([]byte, 0, len(p)+32)
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRune(p[i:])
		if r >= utf8.RuneSelf && unsafeRune(r) {
			out = append(out, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
		} else {
			out = append(out, p[i:i+n]...)
		}
		i += n
	}
	if _, err := e.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

const hexDigits = "0123456789abcdef"

// needsEscape is the fast path: the runes to escape all start with the
// lead bytes 0xC2 (C1 controls), 0xD8 (U+061C) or 0xE2 (U+2xxx).
func needsEscape(p []byte) bool {
	for _, b := range []byte{0xC2, 0xD8, 0xE2} {
		if bytes.IndexByte(p, b) >= 0 {
			return true
		}
	}
	return false
}

// unsafeRune reports whether r is one of the characters NewWriter escapes.
func unsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r == 0x2028, r == 0x2029:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// Unsafe reports whether r is a character that NewWriter escapes.
// Terminal output (tables) drops such characters instead.
func Unsafe(r rune) bool { return unsafeRune(r) }
