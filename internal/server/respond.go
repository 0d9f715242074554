package server

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/rs/zerolog"

	"github.com/invitegate/invitegate/internal/graph"
)

// requestFailures maps what Decode reports to an HTTP status and error
// code: the first entry the error matches wins.
var requestFailures = []struct {
	err    error
	status int
	code   string
}{
	{graph.ErrTooLarge, http.StatusRequestEntityTooLarge, "too_large"},
	{os.ErrDeadlineExceeded, http.StatusRequestTimeout, "request_timeout"},
	{graph.ErrBadRequest, http.StatusBadRequest, "bad_request"},
}

func requestFailure(err error) (status int, code string) {
	for _, f := range requestFailures {
		if errors.Is(err, f.err) {
			return f.status, f.code
		}
	}
	return http.StatusBadRequest, "bad_request"
}

// authFailure maps an Authenticator error to a status, a challenge and a
// reason that is safe to send back. The reason depends on the status
// alone: every refused token gets the same words, whatever check failed,
// so that a caller cannot learn whether its guessed tenant or audience was
// right. Which check failed goes to the log only.
func authFailure(err error) (status int, challenge, reason string) {
	status, challenge, reason = http.StatusUnauthorized, "Bearer", "the request is not authenticated"
	var s interface{ HTTPStatus() int }
	if errors.As(err, &s) && s.HTTPStatus() >= 400 {
		status = s.HTTPStatus()
	}
	if status == http.StatusServiceUnavailable {
		reason = "the signing keys are not loaded yet; try again shortly"
	}
	var c interface{ WWWAuthenticate() string }
	if errors.As(err, &c) && c.WWWAuthenticate() != "" {
		challenge = c.WWWAuthenticate()
	}
	return status, challenge, reason
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")))
}

// writeJSON writes every response: status, application/json, and v. The
// length is set, so the answer is complete for the client as soon as it is
// flushed, even while the handler still records an approval.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal","message":"response could not be encoded"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
}

// errorBody is the JSON body of every 4xx/5xx answer.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, errorBody{Error: code, Message: message})
}

// recoverer turns a panic into a logged 500: Entra shows the person a
// generic error, which fails closed.
func recoverer(log zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error().Interface("panic", v).Msg("handler panicked")
				writeError(w, http.StatusInternalServerError, "internal", "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}
