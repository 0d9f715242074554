package armschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Provenance says where schema data in testdata comes from, so it can be
// checked against its source and regenerated.
type Provenance struct {
	Repository string `json:"repository"`
	Path       string `json:"path"`
	Commit     string `json:"commit"`
	SHA256     string `json:"sha256"` // of the source file, as read
	License    string `json:"license"`
	Note       string `json:"note"` // what was kept, and how to regenerate
}

// TypesFile is a types.json trimmed to the resource types a template uses,
// with its provenance.
type TypesFile struct {
	Provenance Provenance `json:"provenance"`
	Resources  []string   `json:"resources"`
	Types      []Record   `json:"types"`
}

// Encode writes f as indented JSON with a final newline.
func (f *TypesFile) Encode() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ReadTypesFile reads a trimmed types file and checks it declares the
// resource types it says it does.
func ReadTypesFile(path string) (*TypesFile, *Types, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var f TypesFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	if f.Provenance.Repository == "" || f.Provenance.Commit == "" || f.Provenance.SHA256 == "" {
		return nil, nil, fmt.Errorf("%s: the provenance header lacks the repository, commit or sha256", path)
	}
	t := &Types{Records: f.Types}
	if err := t.validate(); err != nil {
		return nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	if got, want := strings.Join(t.Resources(), " "), strings.Join(sorted(f.Resources), " "); got != want {
		return nil, nil, fmt.Errorf("%s: declares %s, its header says %s", path, got, want)
	}
	return &f, t, nil
}

// LoadSchema reads every *.types.json under dir into one Schema.
func LoadSchema(dir string) (*Schema, []*TypesFile, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.types.json"))
	if err != nil {
		return nil, nil, err
	}
	if len(paths) == 0 {
		return nil, nil, fmt.Errorf("no *.types.json in %s", dir)
	}
	var types []*Types
	var files []*TypesFile
	for _, p := range paths {
		f, t, err := ReadTypesFile(p)
		if err != nil {
			return nil, nil, err
		}
		files = append(files, f)
		types = append(types, t)
	}
	return NewSchema(types...), files, nil
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
