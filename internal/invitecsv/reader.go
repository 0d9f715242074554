package invitecsv

import (
	"bufio"
	"fmt"
	"io"
)

// maxRecord bounds one CSV record, so that a runaway line or an unclosed
// quote is reported with its line number instead of being read into memory.
const maxRecord = 1 << 20

// reader reads RFC 4180 records: comma-separated fields, optionally in
// double quotes ("" is a quote inside them), records ending in LF or CRLF.
// Unlike encoding/csv it bounds the size of a record, skips a UTF-8 byte
// order mark, keeps a quoted field's bytes exactly (a CR in a note comes
// back as written), and stops at the first syntax error, after which the
// rest of the file cannot be trusted. Blank lines are skipped.
type reader struct {
	r       *bufio.Reader
	max     int
	line    int // physical lines consumed
	started bool
	buf     []byte
	ends    []int
}

func newReader(r io.Reader, max int) *reader {
	return &reader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// Read returns the next record and the line it starts on, or io.EOF. The
// strings stay valid after the next call.
func (r *reader) Read() (fields []string, line int, err error) {
	if !r.started {
		r.started = true
		if b, err := r.r.Peek(3); err == nil && string(b) == "\uFEFF" {
			r.r.Discard(3)
		}
	}
	if err := r.skipBlankLines(); err != nil {
		return nil, r.line + 1, err
	}
	start := r.line + 1
	r.buf, r.ends = r.buf[:0], r.ends[:0]
	for {
		end, err := r.field(start)
		if err != nil {
			return nil, start, err
		}
		r.ends = append(r.ends, len(r.buf))
		if end {
			break
		}
	}
	s := string(r.buf) // one allocation for the whole record
	fields = make([]string, len(r.ends))
	from := 0
	for i, to := range r.ends {
		fields[i] = s[from:to]
		from = to
	}
	return fields, start, nil
}

func (r *reader) skipBlankLines() error {
	for {
		b, err := r.r.ReadByte()
		switch {
		case err != nil:
			return err // io.EOF at the end
		case b == '\n':
			r.line++
		case b == '\r' && r.peekIs('\n'):
			r.r.ReadByte()
			r.line++
		default:
			r.r.UnreadByte()
			return nil
		}
	}
}

func (r *reader) peekIs(c byte) bool {
	b, err := r.r.Peek(1)
	return err == nil && b[0] == c
}

// field reads one field into r.buf; end reports whether it ended the record.
func (r *reader) field(start int) (end bool, err error) {
	n := len(r.ends) + 1
	b, err := r.r.ReadByte()
	if err == io.EOF {
		return true, nil
	} else if err != nil {
		return false, err
	}
	if b != '"' {
		r.r.UnreadByte()
		return r.unquoted(start, n)
	}
	open := r.line + 1
	for {
		b, err := r.r.ReadByte()
		if err == io.EOF {
			return false, errorf(open, "field %d opens a quote that is never closed", n)
		} else if err != nil {
			return false, err
		}
		if b == '\n' {
			r.line++
		}
		if b == '"' {
			if r.peekIs('"') {
				r.r.ReadByte()
			} else {
				return r.afterQuote(n)
			}
		}
		if err := r.add(b, start); err != nil {
			return false, err
		}
	}
}

func (r *reader) unquoted(start, n int) (end bool, err error) {
	for {
		b, err := r.r.ReadByte()
		switch {
		case err == io.EOF:
			return true, nil
		case err != nil:
			return false, err
		}
		if sep, end := r.separator(b); sep {
			return end, nil
		}
		if b == '"' {
			return false, errorf(r.line+1, `field %d has a quote but does not start with one: put the whole field in quotes and double the quote ("say ""hi""")`, n)
		}
		if err := r.add(b, start); err != nil {
			return false, err
		}
	}
}

// separator consumes what ends a field when b starts it: a comma (another
// field follows) or a line break, LF or CRLF (the record ends).
func (r *reader) separator(b byte) (sep, end bool) {
	switch {
	case b == ',':
		return true, false
	case b == '\n':
	case b == '\r' && r.peekIs('\n'):
		r.r.ReadByte()
	default:
		return false, false
	}
	r.line++
	return true, true
}

// afterQuote reads what follows a closing quote: a comma, the end of the
// record, or nothing else.
func (r *reader) afterQuote(n int) (end bool, err error) {
	b, err := r.r.ReadByte()
	switch {
	case err == io.EOF:
		return true, nil
	case err != nil:
		return false, err
	}
	if sep, end := r.separator(b); sep {
		return end, nil
	}
	return false, errorf(r.line+1, `field %d has text after its closing quote: a quote inside a quoted field must be doubled ("")`, n)
}

func (r *reader) add(b byte, start int) error {
	if len(r.buf) >= r.max {
		return errorf(start, "the record is longer than %s (an unclosed quote, or not a CSV file?)", sizeText(r.max))
	}
	r.buf = append(r.buf, b)
	return nil
}

func sizeText(n int) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// isSyntax reports whether err is bad input rather than a failure to read.
func isSyntax(err error) bool {
	_, ok := err.(*Error)
	return ok
}
