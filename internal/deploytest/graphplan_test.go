package deploytest

import (
	"net/url"
	"strings"
	"testing"
)

// planRequests reads the az rest calls of a dry-run plan: each line that
// starts with "az rest", split into words as a shell would (the plans quote
// words with '...' or "..." only, see quote in scripts/lib/plumbing.sh).
func planRequests(t *testing.T, plan string) []graphRequest {
	t.Helper()
	var out []graphRequest
	for _, line := range strings.Split(plan, "\n") {
		if !strings.HasPrefix(line, "az rest ") {
			continue
		}
		words, err := shellWords(line)
		if err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		f := flags(words[2:])
		first := func(name string) string {
			if v := f[name]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		u := first("--uri")
		if params := f["--uri-parameters"]; len(params) > 0 {
			q := url.Values{}
			for _, p := range params {
				k, v, _ := strings.Cut(p, "=")
				q.Add(k, v)
			}
			u += "?" + q.Encode()
		}
		out = append(out, graphRequest{Method: first("--method"), URL: u, Body: first("--body")})
	}
	return out
}

// shellWords splits a line into words: bare, '...' (literal) or "..." (with
// backslash escapes of \ " $ and `).
func shellWords(line string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errUnterminated
			}
			w.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if line[i] == '\\' && i+1 < len(line) && strings.IndexByte("\\\"$`", line[i+1]) >= 0 {
					i++
				}
				w.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, errUnterminated
			}
			inWord = true
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

type planError string

func (e planError) Error() string { return string(e) }

const errUnterminated = planError("unterminated quote")
