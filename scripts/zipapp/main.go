// Command zipapp writes the Azure Functions deployment zip for scripts/package.sh.
//
// It exists so that packaging needs nothing but Go: no zip tool, no python. Unlike
// most zip tools it sets every entry's Unix mode explicitly (0755 for the files
// named with -x, 0644 for the rest), so the custom-handler binary stays executable
// whatever the umask or file system of the machine that built it, and it writes
// entries in sorted order with a fixed timestamp, so the same inputs always give
// the same bytes.
//
// Usage:
//
//	go run ./scripts/zipapp -o OUT.zip -C DIR [-x NAME]... PATH...
//
// Each PATH is relative to DIR and names a file or a folder (walked recursively);
// it is stored under that same relative name, with forward slashes.
package main

import (
	"archive/zip"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// modTime is the timestamp of every entry: the earliest a zip (DOS) time can say,
// so that the archive depends only on the files' names, modes and contents.
var modTime = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "zipapp:", err)
		os.Exit(1)
	}
}

// stringList collects a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func run(args []string, stderr io.Writer) error {
	fset := flag.NewFlagSet("zipapp", flag.ContinueOnError)
	fset.SetOutput(stderr)
	out := fset.String("o", "", "`file` to write (replaced atomically)")
	dir := fset.String("C", ".", "`folder` that the paths are relative to")
	var executables stringList
	fset.Var(&executables, "x", "entry `name` to store with mode 0755 (repeatable)")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if *out == "" || fset.NArg() == 0 {
		fset.Usage()
		return errors.New("need -o and at least one path")
	}

	names, err := collect(*dir, fset.Args())
	if err != nil {
		return err
	}
	for _, x := range executables {
		if !slices.Contains(names, x) {
			return fmt.Errorf("-x %s: no such entry among the paths given (have %s)", x, strings.Join(names, ", "))
		}
	}
	return write(*out, *dir, names, executables)
}

// collect returns the sorted, de-duplicated entry names (slash-separated,
// relative to dir) of the regular files under the given paths.
func collect(dir string, paths []string) ([]string, error) {
	var names []string
	for _, p := range paths {
		clean := filepath.Clean(p)
		if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("%s: paths must be inside -C %s", p, dir)
		}
		err := filepath.WalkDir(filepath.Join(dir, clean), func(full string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			if !d.Type().IsRegular() {
				return fmt.Errorf("%s: not a regular file (symlinks and devices are not packaged)", full)
			}
			rel, err := filepath.Rel(dir, full)
			if err != nil {
				return err
			}
			names = append(names, filepath.ToSlash(rel))
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// write stores the files in a temporary zip next to out and renames it into
// place, so a failed run never leaves a truncated package behind.
func write(out, dir string, names, executables []string) (err error) {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".zipapp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	zw := zip.NewWriter(tmp)
	for _, name := range names {
		mode := fs.FileMode(0o644)
		if slices.Contains(executables, name) {
			mode = 0o755
		}
		if err := add(zw, filepath.Join(dir, filepath.FromSlash(name)), name, mode); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

func add(zw *zip.Writer, file, name string, mode fs.FileMode) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()

	hdr := &zip.FileHeader{Name: path.Clean(name), Method: zip.Deflate, Modified: modTime}
	// SetMode marks the entry as made on Unix, so extractors honour the mode bits.
	hdr.SetMode(mode)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, f)
	return err
}
