// Package hosttest runs the packaged gate the way Azure Functions runs it:
// TestMain builds the deployment zip with scripts/package.sh, and every
// test deploys that zip to the host emulator in
// internal/testutil/functionshost, which unpacks it, starts the handler
// and forwards requests to it as the real host does. Storage is Azurite;
// bearer tokens are checked against a local tenant (ENTRA_AUTH=jwt, as in
// production).
package hosttest_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// packageZip is the deployment zip built by TestMain.
var packageZip string

func TestMain(m *testing.M) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		// package.sh builds for linux/amd64, the platform of the app.
		fmt.Println("hosttest: skipped: the package runs on linux/amd64 only")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "invitegate-hosttest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		root, err := moduleRoot()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		zip := filepath.Join(dir, "invitegate.zip")
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "package.sh"), zip)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			fmt.Fprintf(os.Stderr, "scripts/package.sh: %v\n%s", err, stderr)
			return 1
		}
		if got := strings.TrimSpace(string(out)); got != zip {
			fmt.Fprintf(os.Stderr, "scripts/package.sh printed %q, want %q\n", got, zip)
			return 1
		}
		packageZip = zip
		return m.Run()
	}()
	os.Exit(code)
}

// moduleRoot finds the folder holding go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}
