package functionshost

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/invitegate/invitegate/internal/testutil/handlerproc"
)

// The handler's life under the host: start, readiness, exit, restart,
// and what it writes.

// startWorker starts the handler once (HttpFunctionInvocationDispatcher.
// InitializeHttpWorkerChannelAsync): a new worker id, the same port.
func (h *Host) startWorker() {
	id := newGUID()
	port := strconv.Itoa(h.HandlerPort)
	env := append(os.Environ(), h.opts.Env...)
	env = append(env,
		"FUNCTIONS_HTTPWORKER_PORT="+port,
		"FUNCTIONS_HTTPWORKER_ID="+id,
		"FUNCTIONS_CUSTOMHANDLER_PORT="+port,
		"FUNCTIONS_CUSTOMHANDLER_WORKER_ID="+id,
		"FUNCTIONS_APP_ROOT_PATH="+h.app.root,
	)
	w := &worker{rec: Worker{ID: id, Port: h.HandlerPort}}
	stdout := &lineWriter{line: func(s string) { h.console(w, false, s) }}
	stderr := &lineWriter{line: func(s string) { h.console(w, true, s) }}

	h.mu.Lock()
	if h.closed || h.state == Stopped {
		h.mu.Unlock()
		return
	}
	proc, err := handlerproc.Start(h.app.executable, handlerproc.Options{
		Env: env, Port: h.HandlerPort, Dir: h.app.root, Stdout: stdout, Stderr: stderr,
	})
	if err != nil {
		// WorkerProcess.StartProcessAsync logs the failure, and the
		// dispatcher's start task fails unobserved: no error is counted and
		// nothing is retried. Invocations wait for a handler that never
		// comes, until the host gives up on them and stops.
		h.logf(Error, "Failed to start Worker Channel. Process fileName: %s: %v", h.app.executable, err)
		h.mu.Unlock()
		return
	}
	w.proc = proc
	w.rec.Pid, w.rec.Start = proc.Pid(), proc.Started
	h.current = w
	h.workers = append(h.workers, w)
	h.logf(Information, "Started handler process %d (worker %s) on 127.0.0.1:%d", w.rec.Pid, id, h.HandlerPort)
	h.mu.Unlock()

	go h.watchExit(w, stdout, stderr)
	h.waitForHandler(w)
}

// waitForHandler polls GET / until the handler answers
// (DefaultHttpWorkerService.IsWorkerReady).
func (h *Host) waitForHandler(w *worker) {
	deadline := time.Now().Add(h.opts.InitializationTimeout)
	for {
		select {
		case <-w.proc.Done():
			return // the exit is handled by watchExit
		default:
		}
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		go func() {
			select {
			case <-w.proc.Done(): // no use waiting on a process that is gone
				cancel()
			case <-ctx.Done():
			}
		}()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.handlerURL("/"), nil)
		resp, err := h.client.Do(req)
		cancel()
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		select {
		case <-w.proc.Done():
			return // the exit is handled by watchExit
		default:
		}
		var op *net.OpError
		refused := err != nil && errors.As(err, &op) && op.Op == "dial" && !errors.Is(err, context.DeadlineExceeded)
		if err == nil || (!refused && !errors.Is(err, context.DeadlineExceeded)) {
			// Any HTTP answer, or any failure other than a refused
			// connection, counts as ready.
			h.mu.Lock()
			if h.current == w && !w.disposing && h.state != Stopped {
				h.logf(Information, "Worker process started and initialized.")
				h.setState(Running)
			}
			h.mu.Unlock()
			return
		}
		if time.Now().After(deadline) {
			h.mu.Lock()
			if h.current == w && !w.disposing {
				h.logf(Error, "Failed to start http worker process. workerId:%s: Initializing HttpWorker timed out.", w.rec.ID)
				h.workerError(w)
			}
			h.mu.Unlock()
			return
		}
		time.Sleep(pollInterval)
	}
}

// watchExit handles the end of the process (WorkerProcess.OnProcessExited).
func (h *Host) watchExit(w *worker, stdout, stderr *lineWriter) {
	<-w.proc.Done()
	stdout.flush()
	stderr.flush()
	code := exitCode(w.proc.ExitState())

	h.mu.Lock()
	defer h.mu.Unlock()
	w.rec.End, w.rec.ExitCode = time.Now(), code
	if w.disposing || h.closed {
		return
	}
	switch code {
	case 0:
		// Not an error, and not restarted: the handler is gone.
		h.logf(Debug, "Process %d has exited with code 0.", w.rec.Pid)
	case intentionalRestart:
		h.logf(Information, "Language Worker Process exited and needs to be restarted.")
		h.disposeAndRestart(w)
	default:
		h.logf(Error, "Language Worker Process exited. Pid=%d. %s exited with code %d (0x%X): %s",
			w.rec.Pid, h.app.executable, code, code, strings.Join(w.errLines, ","))
		h.workerError(w)
	}
}

// exitCode returns the exit code as .NET's Process.ExitCode reports it on
// Unix: 128 + the signal number when a signal ended the process.
func exitCode(st *os.ProcessState) int {
	if st == nil {
		return -1
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}

// workerError counts an error and restarts the handler, or stops the app
// after too many (HttpFunctionInvocationDispatcher.WorkerError,
// AddOrUpdateErrorBucket, RestartWorkerChannel); h.mu is held.
func (h *Host) workerError(w *worker) {
	now := time.Now()
	if n := len(h.errs); n > 0 && now.Sub(h.errs[n-1]) > errorInterval {
		h.errs = nil
	}
	h.errs = append(h.errs, now)
	h.disposeAndRestart(w)
}

// disposeAndRestart kills w if it still runs and starts a new handler on
// the same port, unless the error bucket is full; h.mu is held.
func (h *Host) disposeAndRestart(w *worker) {
	if h.state == Stopped || h.closed {
		return
	}
	h.setState(Restarting)
	h.dispose(w)
	if len(h.errs) >= errorThreshold {
		h.logf(Error, "Exceeded http worker restart retry count. Shutting down Functions Host")
		h.setState(Stopped)
		return
	}
	// The host disposes the old process, waiting up to a second for it
	// to exit, before it starts the new one.
	go func() {
		select {
		case <-w.proc.Done():
		case <-time.After(time.Second):
		}
		h.startWorker()
	}()
}

// dispose marks the exit of w as expected and kills it the way the host
// does (WorkerProcess.Dispose: Process.Kill, which is SIGKILL); h.mu is
// held.
func (h *Host) dispose(w *worker) {
	w.disposing = true
	if !w.proc.Exited() {
		w.rec.Killed = true
		go w.proc.Kill()
	}
}

// console logs one line the handler wrote, as the host classifies it.
func (h *Host) console(w *worker, stderr bool, line string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	level := Information
	if stderr {
		w.rec.Stderr = append(w.rec.Stderr, line)
		if strings.Contains(strings.ToLower(line), "warn") {
			level = Warning
		} else {
			level = Error
			w.errLines = append(w.errLines, line)
			if len(w.errLines) > maxStderrKept {
				w.errLines = w.errLines[1:]
			}
		}
	} else {
		w.rec.Stdout = append(w.rec.Stdout, line)
	}
	category := ConsoleCategory
	// Lines with this prefix go to the host's worker logger instead.
	const prefix = "languageworkerconsolelog"
	if strings.HasPrefix(strings.ToLower(line), prefix) {
		category, line = hostCategory, line[len(prefix):]
	}
	h.logs = append(h.logs, LogEntry{Time: time.Now(), Level: level, Category: category, Message: line})
}

// lineWriter calls line for each complete line written to it, and flush
// for what is left at the end.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	line func(string)
}

func (lw *lineWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	lw.buf = append(lw.buf, p...)
	for {
		i := bytes.IndexByte(lw.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		lw.line(strings.TrimSuffix(string(lw.buf[:i]), "\r"))
		lw.buf = lw.buf[i+1:]
	}
}

func (lw *lineWriter) flush() {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if len(lw.buf) > 0 {
		lw.line(string(lw.buf))
		lw.buf = nil
	}
}

// newGUID returns a random version 4 GUID, as the host's ids are.
func newGUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
