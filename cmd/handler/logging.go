package main

import (
	"io"
	stdlog "log"
	"strings"

	"github.com/rs/zerolog"
)

// The Azure Functions host logs every line a custom handler writes to
// stdout as Information, and every line it writes to stderr as an Error,
// or as a Warning when the line contains "warn" (WorkerProcess.
// ParseErrorMessageAndLog; HttpWorkerDescription.UseStdErrorStreamForErrorsOnly
// is true by default, in Azure/azure-functions-host). So the log is split
// by severity: warn and error lines go to stderr, everything else to
// stdout, and stderr stays silent while all is well, which keeps
// Application Insights' failures view meaningful.

// newLogger returns the handler's JSON logger at level, writing warn and
// error lines to stderr and the rest to stdout.
func newLogger(stdout, stderr io.Writer, level zerolog.Level) zerolog.Logger {
	return zerolog.New(severityWriter{stdout: stdout, stderr: stderr}).Level(level).
		With().Timestamp().Str("service", "invitegate").Logger()
}

// severityWriter routes each zerolog line by its level.
type severityWriter struct{ stdout, stderr io.Writer }

// Write receives lines that have no level; they are information.
func (w severityWriter) Write(p []byte) (int, error) { return w.stdout.Write(p) }

// WriteLevel sends warn, error, fatal and panic lines to stderr.
func (w severityWriter) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	if l >= zerolog.WarnLevel && l <= zerolog.PanicLevel {
		return w.stderr.Write(p)
	}
	return w.stdout.Write(p)
}

// serverErrorLog returns the logger net/http writes its own complaints
// to (a failed accept, a malformed request it answered itself, a query
// with a semicolon), as JSON warn lines on log instead of bare text on
// stderr.
func serverErrorLog(log zerolog.Logger) *stdlog.Logger {
	return stdlog.New(httpErrorWriter{log: log}, "", 0)
}

type httpErrorWriter struct{ log zerolog.Logger }

func (w httpErrorWriter) Write(p []byte) (int, error) {
	w.log.Warn().Str("source", "net/http").Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}
