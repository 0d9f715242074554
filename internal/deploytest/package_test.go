package deploytest

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPackage builds the deployment zip the way a release does and checks what
// the Functions host on Linux needs from it: host.json at the root naming the
// binary, one folder per function, an executable static linux/amd64 ELF, and
// nothing else.
func TestPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the handler")
	}
	root := repoRoot(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	path := toolsDir(t) + string(os.PathListSeparator) + filepath.Dir(goBin)

	out := filepath.Join(t.TempDir(), "app.zip")
	r := runScript(t, scriptEnv(path), "scripts/package.sh", out)
	if r.code != 0 {
		t.Fatalf("package.sh exited %d\nstderr:\n%s", r.code, r.stderr)
	}
	if got := strings.TrimSpace(r.stdout); got != out {
		t.Errorf("package.sh printed %q, want the zip's path %q", got, out)
	}

	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	entries := map[string]*zip.File{}
	var names []string
	for _, f := range zr.File {
		entries[f.Name] = f
		names = append(names, f.Name)
	}
	want := []string{"attributeStart/function.json", "attributeSubmit/function.json", "handler", "host.json"}
	if !slices.Equal(names, want) {
		t.Fatalf("zip entries = %q, want exactly %q", names, want)
	}

	for _, name := range want {
		mode := entries[name].Mode()
		wantMode := fs.FileMode(0o644)
		if name == "handler" {
			wantMode = 0o755
		}
		if mode != wantMode {
			t.Errorf("%s: mode %v, want %v (regular file)", name, mode, wantMode)
		}
	}

	// The function.json files and host.json are copied byte for byte.
	for _, name := range []string{"host.json", "attributeStart/function.json", "attributeSubmit/function.json"} {
		onDisk, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		if got := readEntry(t, entries[name]); !bytes.Equal(got, onDisk) {
			t.Errorf("%s in the zip differs from the repo's", name)
		}
	}

	var host struct {
		CustomHandler struct {
			Description struct {
				DefaultExecutablePath string `json:"defaultExecutablePath"`
			} `json:"description"`
		} `json:"customHandler"`
	}
	if err := json.Unmarshal(readEntry(t, entries["host.json"]), &host); err != nil {
		t.Fatalf("host.json: %v", err)
	}
	if exe := host.CustomHandler.Description.DefaultExecutablePath; exe != "handler" {
		t.Errorf("host.json defaultExecutablePath = %q; the zip's binary is \"handler\"", exe)
	}

	bin := readEntry(t, entries["handler"])
	ef, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("handler is not an ELF file: %v", err)
	}
	if ef.Class != elf.ELFCLASS64 || ef.Machine != elf.EM_X86_64 || ef.Type != elf.ET_EXEC {
		t.Errorf("handler is %v %v %v, want ELFCLASS64 EM_X86_64 ET_EXEC", ef.Class, ef.Machine, ef.Type)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("handler has a PT_INTERP segment: it is dynamically linked (want CGO_ENABLED=0)")
		}
	}
	if libs, _ := ef.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("handler needs shared libraries %q, want a static binary", libs)
	}
	if ef.Section(".symtab") != nil {
		t.Error("handler has a symbol table: want it stripped (-ldflags='-s -w')")
	}

	t.Run("output from INVITEGATE_ZIP", func(t *testing.T) {
		again := filepath.Join(t.TempDir(), "again.zip")
		r := runScript(t, scriptEnv(path, "INVITEGATE_ZIP="+again), "scripts/package.sh")
		if r.code != 0 {
			t.Fatalf("package.sh exited %d\nstderr:\n%s", r.code, r.stderr)
		}
		if _, err := zip.OpenReader(again); err != nil {
			t.Errorf("no zip at $INVITEGATE_ZIP: %v", err)
		}
	})
}

// TestZipapp checks the zip writer on its own: modes come from -x, not from
// the disk, and the same files give the same bytes whatever their timestamps.
func TestZipapp(t *testing.T) {
	root := repoRoot(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	src := t.TempDir()
	files := map[string]fs.FileMode{"run": 0o600, "conf/a.json": 0o777, "conf/b.json": 0o640}
	for name, mode := range files {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("content of "+name), mode); err != nil {
			t.Fatal(err)
		}
	}
	zipapp := func(out string, args ...string) (string, error) {
		cmd := exec.Command(goBin, append([]string{"run", "./scripts/zipapp", "-o", out, "-C", src}, args...)...)
		cmd.Dir = root
		b, err := cmd.CombinedOutput()
		return string(b), err
	}

	dir := t.TempDir()
	first := filepath.Join(dir, "first.zip")
	if out, err := zipapp(first, "-x", "run", "run", "conf"); err != nil {
		t.Fatalf("zipapp: %v\n%s", err, out)
	}
	zr, err := zip.OpenReader(first)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range zr.File {
		got = append(got, f.Name+" "+f.Mode().String())
	}
	zr.Close()
	want := []string{"conf/a.json -rw-r--r--", "conf/b.json -rw-r--r--", "run -rwxr-xr-x"}
	if !slices.Equal(got, want) {
		t.Errorf("entries = %q, want %q", got, want)
	}

	// Touch every file: the archive must not change.
	for name := range files {
		later := time.Now().Add(time.Hour)
		if err := os.Chtimes(filepath.Join(src, filepath.FromSlash(name)), later, later); err != nil {
			t.Fatal(err)
		}
	}
	second := filepath.Join(dir, "second.zip")
	if out, err := zipapp(second, "-x", "run", "conf", "run"); err != nil {
		t.Fatalf("zipapp: %v\n%s", err, out)
	}
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(second)
	if !bytes.Equal(a, b) {
		t.Error("the same files gave different zips")
	}

	for _, bad := range [][]string{
		{"-x", "missing", "run"}, // -x must name an entry
		{"../outside"},           // paths stay inside -C
	} {
		if out, err := zipapp(filepath.Join(dir, "bad.zip"), bad...); err == nil {
			t.Errorf("zipapp %q succeeded, want an error\n%s", bad, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.zip")); err == nil {
		t.Error("a failed zipapp left bad.zip behind")
	}
}

func readEntry(t *testing.T, f *zip.File) []byte {
	t.Helper()
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
