package functionshost

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// app is a Function App as the host reads it from its package.
type app struct {
	root        string     // the unpacked package: the app root and the handler's working directory
	executable  string     // customHandler.description.defaultExecutablePath, resolved against root
	routePrefix string     // extensions.http.routePrefix
	functions   []function // sorted by name
}

// function is one HTTP-in, HTTP-out function.
type function struct {
	name    string
	route   []string // literal segments, prefix included
	methods []string // upper case; empty allows every method
}

// unpack extracts the zip at zipPath into dir with the mode bits each
// entry carries, and nothing more: like Flex Consumption and
// run-from-package, which mount the package read-only, it never adds an
// execute bit. Then it makes the tree read-only.
func unpack(zipPath, dir string) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return fmt.Errorf("opening the package: %v", err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		name := path.Clean(f.Name)
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("package entry %q points outside the app root", f.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			continue
		}
		if !f.Mode().IsRegular() {
			return fmt.Errorf("package entry %q is not a regular file (%v)", f.Name, f.Mode())
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := extract(f, target); err != nil {
			return err
		}
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.Chmod(p, info.Mode().Perm()&^0o222)
	})
}

func extract(f *zip.File, target string) error {
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	// The file is created writable, then given exactly the entry's mode:
	// os.OpenFile's mode is filtered by the umask.
	w, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return os.Chmod(target, f.Mode().Perm())
}

// makeWritable undoes unpack's read-only marking so that the tree can be
// removed.
func makeWritable(dir string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			if info, err := d.Info(); err == nil {
				os.Chmod(p, info.Mode().Perm()|0o200)
			}
		}
		return nil
	})
}

// hostJSON is the part of host.json this emulator reads.
type hostJSON struct {
	CustomHandler *struct {
		Description struct {
			DefaultExecutablePath string   `json:"defaultExecutablePath"`
			WorkingDirectory      string   `json:"workingDirectory"`
			Arguments             []string `json:"arguments"`
			DefaultWorkerPath     string   `json:"defaultWorkerPath"`
		} `json:"description"`
		EnableForwardingHttpRequest bool `json:"enableForwardingHttpRequest"`
	} `json:"customHandler"`
	Extensions struct {
		HTTP struct {
			RoutePrefix *string `json:"routePrefix"`
		} `json:"http"`
	} `json:"extensions"`
}

// functionJSON is the part of a function.json this emulator reads.
type functionJSON struct {
	Bindings []struct {
		Type      string   `json:"type"`
		Direction string   `json:"direction"`
		AuthLevel string   `json:"authLevel"`
		Methods   []string `json:"methods"`
		Route     string   `json:"route"`
	} `json:"bindings"`
}

// readApp reads host.json and every */function.json under root. It
// refuses, naming the reason, what this emulator does not emulate: it
// drives custom handlers in forwarding mode, with anonymous HTTP-in,
// HTTP-out functions on literal routes.
func readApp(root string) (*app, error) {
	b, err := os.ReadFile(filepath.Join(root, "host.json"))
	if err != nil {
		return nil, fmt.Errorf("the package has no host.json: %v", err)
	}
	var hj hostJSON
	if err := json.Unmarshal(b, &hj); err != nil {
		return nil, fmt.Errorf("host.json: %v", err)
	}
	ch := hj.CustomHandler
	switch {
	case ch == nil:
		return nil, errors.New("host.json has no customHandler section")
	case ch.Description.DefaultExecutablePath == "":
		return nil, errors.New("host.json: customHandler.description.defaultExecutablePath is empty")
	case !ch.EnableForwardingHttpRequest:
		return nil, errors.New("host.json: customHandler.enableForwardingHttpRequest is not true; this emulator only forwards HTTP requests")
	case len(ch.Description.Arguments) > 0 || ch.Description.DefaultWorkerPath != "":
		return nil, errors.New("host.json: arguments and defaultWorkerPath are not emulated")
	case ch.Description.WorkingDirectory != "":
		return nil, errors.New("host.json: a workingDirectory other than the app root is not emulated")
	}
	a := &app{root: root, routePrefix: "api"}
	if p := hj.Extensions.HTTP.RoutePrefix; p != nil {
		a.routePrefix = strings.Trim(*p, "/")
	}
	// HttpWorkerDescription.ApplyDefaultsAndValidate: a relative path that
	// exists under the worker directory becomes absolute; otherwise it is
	// left for the system to find.
	a.executable = ch.Description.DefaultExecutablePath
	if !filepath.IsAbs(a.executable) {
		if _, err := os.Stat(filepath.Join(root, a.executable)); err == nil {
			a.executable = filepath.Join(root, a.executable)
		}
	}

	files, err := filepath.Glob(filepath.Join(root, "*", "function.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	for _, f := range files {
		fn, err := readFunction(f, a.routePrefix)
		if err != nil {
			return nil, err
		}
		a.functions = append(a.functions, fn)
	}
	if len(a.functions) == 0 {
		return nil, errors.New("the package has no */function.json: no functions to serve")
	}
	return a, nil
}

func readFunction(file, prefix string) (function, error) {
	name := filepath.Base(filepath.Dir(file))
	b, err := os.ReadFile(file)
	if err != nil {
		return function{}, err
	}
	var fj functionJSON
	if err := json.Unmarshal(b, &fj); err != nil {
		return function{}, fmt.Errorf("%s/function.json: %v", name, err)
	}
	// FunctionMetadataExtensions.IsHttpInAndOutFunction: exactly one
	// httpTrigger in and one http out; anything else uses the invocation
	// payload protocol, which this emulator does not speak.
	fn := function{name: name}
	var in, out int
	for _, bd := range fj.Bindings {
		switch {
		case strings.EqualFold(bd.Type, "httpTrigger") && strings.EqualFold(bd.Direction, "in"):
			in++
			if !strings.EqualFold(bd.AuthLevel, "anonymous") {
				return fn, fmt.Errorf("%s/function.json: authLevel %q: only anonymous is emulated", name, bd.AuthLevel)
			}
			route := bd.Route
			if route == "" {
				route = name
			}
			if strings.ContainsAny(route, "{}*") {
				return fn, fmt.Errorf("%s/function.json: route %q has parameters, which are not emulated", name, route)
			}
			for _, seg := range strings.Split(strings.Trim(prefix+"/"+route, "/"), "/") {
				if seg != "" {
					fn.route = append(fn.route, seg)
				}
			}
			for _, m := range bd.Methods {
				fn.methods = append(fn.methods, strings.ToUpper(m))
			}
		case strings.EqualFold(bd.Type, "http") && strings.EqualFold(bd.Direction, "out"):
			out++
		}
	}
	if in != 1 || out != 1 || len(fj.Bindings) != 2 {
		return fn, fmt.Errorf("%s/function.json: not an HTTP-in, HTTP-out function (the host would use the invocation payload protocol, which is not emulated)", name)
	}
	return fn, nil
}

// match returns the function the host routes a request to, as ASP.NET Core
// routing matches a literal route template: segment by segment, ignoring
// case, a trailing slash ignored, an empty segment matching nothing
// (RoutePatternMatcher and PathTokenizer in dotnet/aspnetcore), and then
// the function's methods (HttpMethodRouteConstraint).
func (a *app) match(method, urlPath string) (function, bool) {
	if !strings.HasPrefix(urlPath, "/") {
		return function{}, false
	}
	p := strings.TrimPrefix(urlPath, "/")
	p = strings.TrimSuffix(p, "/")
	var segs []string
	if p != "" {
		segs = strings.Split(p, "/")
	}
	for _, fn := range a.functions {
		if len(segs) != len(fn.route) {
			continue
		}
		ok := true
		for i, s := range segs {
			if s == "" || !strings.EqualFold(s, fn.route[i]) {
				ok = false
				break
			}
		}
		if ok && (len(fn.methods) == 0 || slices.Contains(fn.methods, strings.ToUpper(method))) {
			return fn, true
		}
	}
	return function{}, false
}
