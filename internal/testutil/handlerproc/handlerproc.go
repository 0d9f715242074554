// Package handlerproc runs the gate's handler binary as a child process on
// a loopback port, the way the Azure Functions host runs it, for the
// end-to-end tests, the host emulator and the benchmark: it starts the
// binary, waits until GET / answers, keeps what it writes, signals, stops
// and measures it (CPU time, peak memory).
package handlerproc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/invitegate/invitegate/internal/testutil/tooldir"
)

// Process is the handler binary running as a child process on a loopback
// port.
type Process struct {
	// URL is http://127.0.0.1:port.
	URL string
	// Started is when the process was started (just before exec).
	Started time.Time

	cmd    *exec.Cmd
	stdout *logSink
	stderr *logSink
	done   chan struct{}
	err    error // of cmd.Wait, once done is closed
}

// Options configure Start.
type Options struct {
	// Env is the complete environment of the process, besides
	// FUNCTIONS_CUSTOMHANDLER_PORT, which Start sets. Nothing is
	// inherited, so a developer's settings cannot leak into a test.
	Env []string
	// Port is the port to listen on; 0 picks a free one.
	Port int
	// Dir is the working directory; "" keeps the caller's.
	Dir string
	// KeepLogs keeps up to this many bytes of stdout (the JSON log) for
	// Logs; later lines are only counted. 0 keeps nothing.
	KeepLogs int
	// Stdout and Stderr, when set, also receive everything the process
	// writes to them, as it arrives.
	Stdout, Stderr io.Writer
}

// Start starts the binary at bin and returns at once; WaitReady waits
// until it answers.
func Start(bin string, o Options) (*Process, error) {
	port := o.Port
	if port == 0 {
		var err error
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	h := &Process{
		URL:    "http://127.0.0.1:" + strconv.Itoa(port),
		stdout: &logSink{keep: o.KeepLogs},
		stderr: &logSink{keep: 1 << 20},
		done:   make(chan struct{}),
	}
	h.cmd = exec.Command(bin)
	h.cmd.Env = append(append([]string{}, o.Env...), "FUNCTIONS_CUSTOMHANDLER_PORT="+strconv.Itoa(port))
	h.cmd.Dir = o.Dir
	h.cmd.Stdout, h.cmd.Stderr = tee(h.stdout, o.Stdout), tee(h.stderr, o.Stderr)
	// Die with the test or benchmark that started it.
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	h.Started = time.Now()
	if err := h.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %v", bin, err)
	}
	go func() {
		h.err = h.cmd.Wait()
		close(h.done)
	}()
	return h, nil
}

// tee writes to kept and, when set, to also.
func tee(kept *logSink, also io.Writer) io.Writer {
	if also == nil {
		return kept
	}
	return io.MultiWriter(kept, also)
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) { return tooldir.FreePort() }

// Port returns the port the process was told to listen on.
func (h *Process) Port() int {
	p, _ := strconv.Atoi(h.URL[strings.LastIndexByte(h.URL, ':')+1:])
	return p
}

// Pid returns the process id.
func (h *Process) Pid() int { return h.cmd.Process.Pid }

// WaitReady polls GET / until the handler answers, and returns how long
// after Started that was.
func (h *Process) WaitReady(timeout time.Duration) (time.Duration, error) {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get(h.URL + "/")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return time.Since(h.Started), nil
		}
		select {
		case <-h.done:
			return 0, fmt.Errorf("the handler exited before answering: %v\nstderr: %s\nstdout: %s", h.err, h.stderr, h.stdout)
		default:
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("the handler did not answer GET / within %v: %v\nstderr: %s", timeout, err, h.stderr)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// Signal sends sig to the process.
func (h *Process) Signal(sig os.Signal) error { return h.cmd.Process.Signal(sig) }

// Wait waits at most timeout for the process to exit and returns its exit
// code (-1 when a signal ended it).
func (h *Process) Wait(timeout time.Duration) (int, error) {
	if !h.Exited() {
		select {
		case <-h.done:
		case <-time.After(timeout):
			return 0, fmt.Errorf("the handler did not exit within %v", timeout)
		}
	}
	var ee *exec.ExitError
	switch {
	case h.err == nil:
		return 0, nil
	case errors.As(h.err, &ee):
		return ee.ExitCode(), nil
	}
	return 0, h.err
}

// Done is closed when the process has ended and its output is drained.
func (h *Process) Done() <-chan struct{} { return h.done }

// ExitState returns how the process ended, or nil while it runs.
func (h *Process) ExitState() *os.ProcessState {
	if !h.Exited() {
		return nil
	}
	return h.cmd.ProcessState
}

// Exited reports whether the process has ended.
func (h *Process) Exited() bool {
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM and waits for the exit, killing the process if it
// takes longer than 10s. It returns the exit code.
func (h *Process) Stop() (int, error) {
	if h.Exited() {
		return h.Wait(0)
	}
	h.Signal(syscall.SIGTERM)
	code, err := h.Wait(10 * time.Second)
	if err != nil {
		h.Kill()
	}
	return code, err
}

// Kill ends the process at once.
func (h *Process) Kill() {
	if !h.Exited() {
		h.cmd.Process.Kill()
		<-h.done
	}
}

// Logs returns the JSON log kept so far (see HandlerOptions.KeepLogs).
func (h *Process) Logs() string { return h.stdout.String() }

// LogLines returns how many lines the handler has written to stdout.
func (h *Process) LogLines() int64 { return h.stdout.Lines() }

// Stderr returns what the handler wrote to stderr.
func (h *Process) Stderr() string { return h.stderr.String() }

// PeakRSS returns the process's peak resident set size (VmHWM), in bytes.
func (h *Process) PeakRSS() (int64, error) { return ProcStatusBytes(h.Pid(), "VmHWM") }

// ProcStatusBytes reads a "kB" field, such as VmHWM or VmRSS, of
// /proc/pid/status.
func ProcStatusBytes(pid int, field string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// CPUTime returns the user plus system CPU time that process pid has used,
// from /proc/pid/stat.
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after it are
	// plain. utime and stime are fields 14 and 15, in clock ticks.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unreadable /proc/%d/stat", pid)
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticksPerSecond, nil
}

// logSink keeps the first keep bytes written to it and counts lines.
type logSink struct {
	mu    sync.Mutex
	keep  int
	buf   bytes.Buffer
	lines int64
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines += int64(bytes.Count(p, []byte{'\n'}))
	if room := s.keep - s.buf.Len(); room > 0 {
		s.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func (s *logSink) Lines() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lines
}
