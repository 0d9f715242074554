package invitecsv

import "strings"

// A spreadsheet takes a cell that starts with =, +, - or @ (and some take
// one that starts with a TAB or CR) for a formula, so a note or attribute
// value exported from the table could run when an administrator opens the
// file. The writer therefore prefixes such a cell with ', which
// spreadsheets show as text, and the reader removes that ' again. A
// whole-domain invitation, @example.org, is written '@example.org and read
// back as @example.org.
//
// So that the round trip is exact, a cell that is already such a cell
// behind one or more ' is prefixed too ('=x is written ''=x): the reader
// removes one ' only from a cell the writer would have prefixed, and keeps
// every other cell, such as 'tis, as it is.

// formulaStart reports whether a spreadsheet could take s for a formula,
// behind any number of leading '.
func formulaStart(s string) bool {
	s = strings.TrimLeft(s, "'")
	return s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0]))
}

// neutralise returns s as the writer writes it.
func neutralise(s string) string {
	if formulaStart(s) {
		return "'" + s
	}
	return s
}

// restore returns the value of a cell that neutralise wrote.
func restore(s string) string {
	if strings.HasPrefix(s, "'") && formulaStart(s[1:]) {
		return s[1:]
	}
	return s
}
