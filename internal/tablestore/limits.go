package tablestore

import (
	"fmt"

	"github.com/invitegate/invitegate/internal/invite"
)

// maxPropertyChars is the most UTF-16 code units Table Storage keeps in
// one string property: 64 KiB ("Understanding the Table service data
// model", property types).
const maxPropertyChars = 32 << 10

// CheckSize returns an error matching invite.ErrTooLarge when inv does not
// fit one row of the table. Put, Create and Update check every write with
// it; an importer calls it to check a whole file before writing any row.
func CheckSize(inv invite.Invitation) error {
	_, err := toEntity(inv)
	return err
}

// checkSize checks the string properties whose length administrators
// control: the note and the attribute values (kept as JSON).
func (e entity) checkSize() error {
	for _, p := range []struct{ what, value, unit string }{
		{"the note is", e.Note, "characters long"},
		{"the prefill values take", e.Prefill, "characters as JSON"},
		{"the set values take", e.Set, "characters as JSON"},
	} {
		if n := utf16Len(p.value); n > maxPropertyChars {
			return fmt.Errorf("%w: %s %d %s; a Table Storage property holds at most %d",
				invite.ErrTooLarge, p.what, n, p.unit, maxPropertyChars)
		}
	}
	return nil
}

// utf16Len is the length of s in UTF-16 code units, as Table Storage
// counts it.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}
