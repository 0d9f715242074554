// Package tooldir finds the programs scripts/test.sh installs for the
// tests (Azurite, Mailpit) under the repository's tools folder, and hands
// out free loopback ports for the servers the tests start.
package tooldir

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

// Binary returns the program the environment variable env names, or the
// one at rel (such as "tools/bin/mailpit") below the module root, found by
// walking up from the working directory. When neither exists the test is
// skipped with hint, or failed under CI=true: CI must never pass by
// skipping.
func Binary(t testing.TB, env, rel, hint string) string {
	t.Helper()
	if b := os.Getenv(env); b != "" {
		return b
	}
	dir, err := os.Getwd()
	for err == nil {
		b := filepath.Join(dir, filepath.FromSlash(rel))
		if _, serr := os.Stat(b); serr == nil {
			return b
		}
		if _, serr := os.Stat(filepath.Join(dir, "go.mod")); serr == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if os.Getenv("CI") != "" {
		t.Fatal(hint)
	}
	t.Skip(hint)
	return ""
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
