package invitecsv

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/invitegate/invitegate/internal/invite"
)

// KeyLine is one invitation named in a key file, and its line.
type KeyLine struct {
	Line int
	Key  invite.Key
}

// ReadKeys reads the invitations a bulk revoke or delete acts on, in one
// of two shapes:
//
//   - CSV with a header row that has an email column and, optionally, an
//     app column; other columns are ignored, so a file from export or
//     list --output csv works as it is;
//   - a list, one EMAIL or @DOMAIN per line, for the application app
//     (already checked; "" for any application).
//
// It checks every line before anything is done and returns each invalid
// one in problems. A key named twice is returned once.
func ReadKeys(r io.Reader, app string) (keys []KeyLine, problems []*Error, err error) {
	cr := newReader(r, maxRecord)
	fields, line, err := cr.Read()
	switch {
	case err == io.EOF:
		return nil, nil, errorf(1, "the file is empty: list one EMAIL or @DOMAIN per line, or give CSV with an email column")
	case err != nil:
		return nil, nil, keyFileError(err)
	}
	emailAt, appAt, width := -1, -1, 1
	for i, f := range fields {
		switch strings.ToLower(strings.TrimSpace(f)) {
		case colEmail:
			emailAt, width = i, len(fields)
		case colApp:
			appAt = i
		}
	}
	if emailAt >= 0 && appAt >= 0 && app != "" {
		return nil, nil, errorf(line, "the file has an app column and --app is given: use one of them")
	}
	if emailAt < 0 {
		emailAt, appAt = 0, -1 // a list: this line is data
	} else if fields, line, err = cr.Read(); err != nil && err != io.EOF {
		return nil, nil, keyFileError(err)
	}
	seen := map[invite.Key]bool{}
	for ; err != io.EOF; fields, line, err = cr.Read() {
		if err != nil {
			return nil, problems, keyFileError(err)
		}
		if blankRow(fields) {
			continue
		}
		if len(fields) != width {
			if width == 1 {
				problems = append(problems, errorf(line, "expected one EMAIL or @DOMAIN per line (or a header row naming an email column)"))
			} else {
				problems = append(problems, errorf(line, "%d fields, but the header has %d columns", len(fields), width))
			}
			continue
		}
		k, why := fileKey(fields, emailAt, appAt, app)
		if why != "" {
			problems = append(problems, errorf(line, "%s", why))
			continue
		}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, KeyLine{line, k})
		}
	}
	return keys, problems, nil
}

// fileKey reads the key of one line; why says what is wrong with it.
func fileKey(fields []string, emailAt, appAt int, app string) (k invite.Key, why string) {
	for i, f := range fields {
		if !utf8.ValidString(f) {
			return k, fmt.Sprintf("field %d is not UTF-8 text: save the file as UTF-8", i+1)
		}
	}
	if appAt >= 0 {
		app = fields[appAt]
	}
	var err error
	if k.Subject, err = invite.ParseSubject(restore(strings.TrimSpace(fields[emailAt]))); err != nil {
		return k, err.Error()
	}
	if k.App, err = invite.ParseApp(app); err != nil {
		return k, "app: " + err.Error()
	}
	return k, ""
}

func keyFileError(err error) error {
	if isSyntax(err) {
		return err
	}
	return fmt.Errorf("reading the file: %v", err)
}
