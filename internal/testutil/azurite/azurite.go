// Package azurite starts and controls the Azurite Table service (the
// official Azure Storage emulator) for tests, so that they talk to the real
// Azure Table API.
//
// Tests find Azurite in this order: INVITEGATE_TEST_CONNECTION (a connection
// string to a running Azurite, set by scripts/test.sh), or the binary that
// `npm install` put in tools/node_modules (scripts/test.sh installs it). When
// neither is there, tests skip, except under CI=true, where they fail.
package azurite

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/testutil/tooldir"
)

// AccountKey is Azurite's well-known development account key.
const AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

// ConnectionString returns the connection string of an Azurite Table
// service on 127.0.0.1:port.
func ConnectionString(port int) string {
	return "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + AccountKey +
		";TableEndpoint=http://127.0.0.1:" + strconv.Itoa(port) + "/devstoreaccount1;"
}

// Process is an Azurite Table service this test started.
type Process struct {
	Port int
	bin  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Connection returns a connection string for tests that only need a
// working Table service: the shared one from scripts/test.sh, or a private
// one started for this test.
func Connection(t testing.TB) string {
	t.Helper()
	if c := os.Getenv("INVITEGATE_TEST_CONNECTION"); c != "" {
		return c
	}
	return Start(t).ConnectionString()
}

// ConnectionString returns the connection string of p.
func (p *Process) ConnectionString() string { return ConnectionString(p.Port) }

// Binary returns the path of the azurite-table executable, or skips the
// test (fails it under CI) when Azurite is not installed.
func Binary(t testing.TB) string {
	t.Helper()
	return tooldir.Binary(t, "AZURITE_TABLE_BIN", "tools/node_modules/.bin/azurite-table",
		"Azurite is not installed: run scripts/test.sh (it installs it), or npm install --prefix tools")
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := tooldir.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Start starts a private, in-memory Azurite Table service on a free port
// and stops it when the test ends.
func Start(t testing.TB) *Process {
	t.Helper()
	p := &Process{Port: FreePort(t), bin: Binary(t)}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p
}

func (p *Process) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := exec.Command(p.bin, "--tableHost", "127.0.0.1", "--tablePort", strconv.Itoa(p.Port),
		"--inMemoryPersistence", "--disableTelemetry", "--silent", "--skipApiVersionCheck")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting Azurite: %v", err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(p.done)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(p.Port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("azurite exited before listening on port %d", p.Port)
		case <-time.After(25 * time.Millisecond):
		}
	}
	return fmt.Errorf("azurite did not listen on port %d within 20s", p.Port)
}

func (p *Process) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && p.cmd.Process != nil {
		// The whole process group: npm's shim may have children.
		syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

// Pause freezes Azurite (SIGSTOP): connections hang, as with a store that
// stopped answering.
func (p *Process) Pause() { p.signal(syscall.SIGSTOP) }

// Resume thaws a paused Azurite (SIGCONT).
func (p *Process) Resume() { p.signal(syscall.SIGCONT) }

// Kill stops Azurite and waits for it to exit. Its in-memory data is lost.
func (p *Process) Kill() {
	p.signal(syscall.SIGCONT)
	p.signal(syscall.SIGKILL)
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done != nil {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
	}
}

// Restart starts Azurite again on the same port after Kill.
func (p *Process) Restart(ctx context.Context) error {
	var err error
	for ctx.Err() == nil {
		if err = p.start(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond) // the port may linger briefly
	}
	return err
}
