package deploytest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// repoRoot is the module root, two folders up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test source")
	}
	root := filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repo root %s has no go.mod: %v", root, err)
	}
	return root
}

// scriptTools are the commands the scripts use besides az, func and go.
var scriptTools = []string{
	"base64", "bash", "basename", "cat", "cp", "dirname", "env", "grep", "head", "mkdir",
	"mktemp", "rm", "sed", "sleep", "sort", "tr",
}

// toolsDir returns a folder holding links to scriptTools and nothing else, so
// a script run with PATH set to it cannot reach az, func or go by accident.
func toolsDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, tool := range scriptTools {
		path, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("the scripts need %s: %v", tool, err)
		}
		if err := os.Symlink(path, filepath.Join(dir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// scriptEnv is the test process's environment without the variables the
// scripts read as configuration, with PATH replaced and extra added.
func scriptEnv(path string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "PATH",
			strings.HasPrefix(name, "AZURE_"),
			strings.HasPrefix(name, "ENTRA_"),
			strings.HasPrefix(name, "INVITEGATE_"):
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "PATH="+path)
	return append(env, extra...)
}

// result is what a script run left behind.
type result struct {
	code           int
	stdout, stderr string
}

// runScript runs a script of the repo with bash, from a folder outside the repo
// (the scripts must find their files from their own location).
func runScript(t *testing.T, env []string, script string, args ...string) result {
	t.Helper()
	return runScriptIn(t, t.TempDir(), env, script, args...)
}

// runScriptIn is runScript from the folder dir, where relative paths given
// to the script are found.
func runScriptIn(t *testing.T, dir string, env []string, script string, args ...string) result {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, append([]string{filepath.Join(repoRoot(t), script)}, args...)...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if exit, ok := err.(*exec.ExitError); ok {
		r.code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	return r
}
