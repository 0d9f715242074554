package invitecsv

import "fmt"

// Error is bad input at a line of a file: broken CSV, a bad header, or an
// invalid row. Commands report it as a usage error.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

func errorf(line int, format string, args ...any) *Error {
	return &Error{Line: line, Msg: fmt.Sprintf(format, args...)}
}
