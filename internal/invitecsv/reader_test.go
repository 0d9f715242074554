package invitecsv

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

type record struct {
	line   int
	fields []string
}

func readAll(t *testing.T, in string, max int) ([]record, error) {
	t.Helper()
	r := newReader(strings.NewReader(in), max)
	var out []record
	for {
		f, line, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, record{line, f})
	}
}

func TestCSVReader(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []record
	}{
		{"plain", "a,b\nc,d\n", []record{{1, []string{"a", "b"}}, {2, []string{"c", "d"}}}},
		{"no final newline", "a,b\nc,d", []record{{1, []string{"a", "b"}}, {2, []string{"c", "d"}}}},
		{"crlf", "a,b\r\nc,d\r\n", []record{{1, []string{"a", "b"}}, {2, []string{"c", "d"}}}},
		{"bom", "\uFEFFemail,note\nx,y\n", []record{{1, []string{"email", "note"}}, {2, []string{"x", "y"}}}},
		{"bom only at the start", "a\n\uFEFFb\n", []record{{1, []string{"a"}}, {2, []string{"\uFEFFb"}}}},
		{"blank lines skipped, numbers kept", "a\n\n\r\nb\n", []record{{1, []string{"a"}}, {4, []string{"b"}}}},
		{"empty fields", ",a,,\n", []record{{1, []string{"", "a", "", ""}}}},
		{"quoted comma and quote", `"a,b","say ""hi""",""` + "\n", []record{{1, []string{"a,b", `say "hi"`, ""}}}},
		{"quoted newline advances lines", "\"one\ntwo\",x\ny\n", []record{{1, []string{"one\ntwo", "x"}}, {3, []string{"y"}}}},
		{"quoted CRLF kept exactly", "\"a\r\nb\"\r\nc\r\n", []record{{1, []string{"a\r\nb"}}, {3, []string{"c"}}}},
		{"lone CR is data", "a\rb,c\n", []record{{1, []string{"a\rb", "c"}}}},
		{"quoted then EOF", `"a"`, []record{{1, []string{"a"}}}},
		{"spaces kept", " a , b \n", []record{{1, []string{" a ", " b "}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(t, tc.in, maxRecord)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("read %q:\n got %+v\nwant %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestCSVReaderErrors(t *testing.T) {
	long := strings.Repeat("x", 2000)
	for _, tc := range []struct {
		name, in string
		max      int
		line     int
		msg      string
	}{
		{"bare quote", "email,note\njo@example.org,say \"hi\"\n", maxRecord, 2, "field 2 has a quote"},
		{"text after closing quote", "email,note\n\"jo@example.org\"x,y\n", maxRecord, 2, "text after its closing quote"},
		{"unclosed quote", "email,note\na,b\njo@example.org,\"open\nmore\nlines\n", maxRecord, 3, "never closed"},
		{"long line", "a,b\nc,d\ne," + long + "\nf,g\n", 1000, 3, "longer than 1000 bytes"},
		{"long quoted record", "a\n\"" + strings.Repeat("x\n", 1000) + "\"\n", 1000, 2, "longer than 1000 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(t, tc.in, tc.max)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if ce.Line != tc.line || !strings.Contains(ce.Msg, tc.msg) {
				t.Fatalf("err = %v, want line %d and %q", err, tc.line, tc.msg)
			}
		})
	}
}

// The reader never holds more than one record's worth of a runaway line.
func TestCSVReaderBoundsMemory(t *testing.T) {
	r := newReader(io.MultiReader(strings.NewReader("email\n"), endless{}), 1<<16)
	if _, _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	_, line, err := r.Read()
	if !isSyntax(err) || line != 2 {
		t.Fatalf("endless line: line %d, %v; want a syntax error on line 2", line, err)
	}
	if cap(r.buf) > 1<<17 {
		t.Fatalf("buffer grew to %d bytes for a %d-byte limit", cap(r.buf), 1<<16)
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// FuzzCSVRoundTrip checks that what encoding/csv writes (as export does)
// reads back exactly, and that no input makes the reader panic.
func FuzzCSVRoundTrip(f *testing.F) {
	for _, s := range []string{"a\x1fb\x1ec", "say \"hi\"\x1f,\x1e\r\n\x1f\n", " lead\x1f\x1f\x1e\uFEFFx", "\\.\x1f\r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		readAll(t, s, 1<<10) // any input: no panic

		var recs [][]string
		for _, r := range strings.Split(s, "\x1e") {
			fields := strings.Split(r, "\x1f")
			if len(fields) == 1 && fields[0] == "" {
				continue // encoding/csv writes it as a blank line
			}
			recs = append(recs, fields)
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if err := w.WriteAll(recs); err != nil {
			t.Skip()
		}
		if len(recs) > 0 && strings.HasPrefix(recs[0][0], "\uFEFF") {
			t.Skip() // a leading byte order mark is stripped on purpose
		}
		got, err := readAll(t, buf.String(), maxRecord)
		if err != nil {
			t.Fatalf("reading %q: %v", buf.String(), err)
		}
		if len(got) != len(recs) {
			t.Fatalf("read %d records from %q, wrote %d", len(got), buf.String(), len(recs))
		}
		for i := range recs {
			if !reflect.DeepEqual(got[i].fields, recs[i]) {
				t.Fatalf("record %d: read %q, wrote %q", i, got[i].fields, recs[i])
			}
		}
	})
}
