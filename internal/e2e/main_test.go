// Package e2e_test runs the real handler binary as a process, against a
// real Azurite Table service and a local Entra tenant that publishes
// signing keys (ENTRA_AUTH=jwt, as in production), and checks what Entra
// would see: under faults (the store hanging, down or missing its table,
// the keys endpoint down, SIGTERM, racing redemptions) and with hostile
// requests.
//
// TestMain builds the handler once (with -race when the tests run with
// it; go test puts its own toolchain first on PATH). Tests that pause or kill Azurite start private ones; the others use
// the shared one from scripts/test.sh when INVITEGATE_TEST_CONNECTION is
// set.
package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// handlerBin is the handler built by TestMain.
var handlerBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "invitegate-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	handlerBin = filepath.Join(dir, "handler")
	args := []string{"build", "-o", handlerBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "github.com/invitegate/invitegate/cmd/handler")
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the handler: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
