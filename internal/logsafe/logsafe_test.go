package logsafe

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{
		"jo.bloggs@example.org": "j***@example.org",
		"élise@example.fr":      "é***@example.fr",
		"@example.org":          "***",
		"nonsense":              "***",
	} {
		if got := MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHasher(t *testing.T) {
	if got := (Hasher{}).Email("jo@example.org"); got != "" {
		t.Fatalf("unkeyed hash = %q, want none", got)
	}
	a, b := NewHasher("0123456789abcdef-one"), NewHasher("0123456789abcdef-two")
	ha := a.Email("jo@example.org")
	if len(ha) != 16 || ha != a.Email("jo@example.org") {
		t.Fatalf("keyed hash %q is not a stable 16-digit digest", ha)
	}
	if ha == b.Email("jo@example.org") {
		t.Error("two keys give the same digest: the key is not used")
	}
	if ha == a.Email("amy@example.org") {
		t.Error("two addresses give the same digest")
	}
}

func TestCap(t *testing.T) {
	if got := Cap("short", 64); got != "short" {
		t.Errorf("Cap kept %q", got)
	}
	long := strings.Repeat("x", 60000)
	if got := Cap(long, 64); len(got) != 64+len("…") {
		t.Errorf("Cap(60000 bytes, 64) is %d bytes", len(got))
	}
	if got := Cap(strings.Repeat("é", 40), 5); got != "éé…" {
		t.Errorf("Cap cut inside a character: %q", got)
	}
}

// TestWriterEscapesThroughZerolog: a real zerolog line carrying every
// character to escape comes out with none of them raw, still valid JSON,
// and decoding to the very same string.
func TestWriterEscapesThroughZerolog(t *testing.T) {
	evil := "a\u2028b\u2029c\u202ed\u2066e\u200ff\u0085g\u061ch — ok é ✓"
	var buf bytes.Buffer
	log := zerolog.New(NewWriter(&buf))
	log.Info().Str("value", evil).Msg("m\u2028sg")
	line := buf.Bytes()
	for _, r := range evil + "\u2028" {
		if unsafeRune(r) && bytes.ContainsRune(line, r) {
			t.Errorf("line holds raw %U: %s", r, line)
		}
	}
	var v struct{ Value, Message string }
	if err := json.Unmarshal(line, &v); err != nil {
		t.Fatalf("escaped line is not JSON: %v\n%s", err, line)
	}
	if v.Value != evil || v.Message != "m\u2028sg" {
		t.Errorf("escaping changed the value: %q", v.Value)
	}
	if !bytes.Contains(line, []byte(`\u2028`)) || !bytes.Contains(line, []byte(`— ok é ✓`)) {
		t.Errorf("unexpected line %s", line)
	}
}
