package functionshost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// contentHeaders are the headers .NET keeps on HttpContent: a request's
// header collection refuses them (TryAddWithoutValidation returns false),
// so the host's copy of the incoming headers drops them, and only
// Content-Length and Content-Type come back, with the body.
var contentHeaders = map[string]bool{
	"Allow": true, "Content-Disposition": true, "Content-Encoding": true, "Content-Language": true,
	"Content-Length": true, "Content-Location": true, "Content-Md5": true, "Content-Range": true,
	"Content-Type": true, "Expires": true, "Last-Modified": true,
}

// errStopped is an invocation's failure once the host has stopped the app.
var errStopped = errors.New("the host stopped the app")

// serve is the app's public endpoint: it routes a request to a function
// and forwards it to the handler.
func (h *Host) serve(w http.ResponseWriter, r *http.Request) {
	if h.State() == Stopped {
		http.Error(w, "Function host is not running.", http.StatusServiceUnavailable)
		return
	}
	fn, ok := h.app.match(r.Method, r.URL.Path)
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	inv := Invocation{ID: newGUID(), Function: fn.name, Method: r.Method, Path: r.URL.Path}
	started := time.Now()
	status, err := h.invoke(w, r, fn, inv.ID)
	inv.Status, inv.Elapsed = status, time.Since(started)
	if err != nil {
		inv.Err = err.Error()
		// A failed invocation is a 500 with no body (FunctionInvocationMiddleware).
		w.WriteHeader(status)
	}
	h.mu.Lock()
	h.invocations = append(h.invocations, inv)
	if err != nil {
		h.logf(Error, "Executed 'Functions.%s' (Failed, Id=%s): %v", fn.name, inv.ID, err)
	}
	h.mu.Unlock()
}

// invoke forwards r to the handler and writes the handler's answer to w.
// When it returns an error, nothing has been written and status is what
// the caller must get.
func (h *Host) invoke(w http.ResponseWriter, r *http.Request, fn function, invocationID string) (status int, err error) {
	if err := h.awaitDispatcher(r.Context()); err != nil {
		if errors.Is(err, errStopped) {
			return http.StatusServiceUnavailable, err
		}
		return http.StatusInternalServerError, err
	}

	// The body goes only with a Content-Length above zero. A chunked body
	// has none, but its Transfer-Encoding header is copied with the rest,
	// onto a request without content, which SocketsHttpHandler refuses.
	if len(r.TransferEncoding) > 0 {
		return http.StatusInternalServerError, errors.New("'Transfer-Encoding: chunked' header can not be used when content object is not specified")
	}
	var body io.Reader
	if r.ContentLength > 0 {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return http.StatusInternalServerError, fmt.Errorf("reading the request body: %v", err)
		}
		body = bytes.NewReader(b)
	}

	ctx := r.Context()
	if h.opts.FunctionTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.opts.FunctionTimeout)
		defer cancel()
	}
	out, err := http.NewRequestWithContext(ctx, r.Method, h.handlerURL(r.URL.EscapedPath()+rebuildQuery(r.URL.RawQuery)), body)
	if err != nil {
		return http.StatusInternalServerError, err
	}
	for name, values := range r.Header {
		if contentHeaders[name] {
			continue
		}
		out.Header.Set(name, joinValues(name, values))
	}
	out.Host = r.Host
	if body != nil {
		out.ContentLength = r.ContentLength
		if ct := r.Header.Get("Content-Type"); ct != "" {
			out.Header.Set("Content-Type", ct)
		}
	}
	// DefaultHttpWorkerService.AddHeaders: Headers.Add appends to what the
	// caller sent, and UserAgent.ParseAdd appends a product.
	appendValue(out.Header, "X-Azure-Functions-HostVersion", h.opts.HostVersion)
	appendValue(out.Header, "X-Azure-Functions-InvocationId", invocationID)
	ua := "Azure-Functions-Host/" + h.opts.HostVersion
	if in := out.Header.Get("User-Agent"); in != "" {
		ua = in + " " + ua
	}
	out.Header.Set("User-Agent", ua)

	resp, err := h.client.Do(out)
	var answer []byte
	if err == nil {
		answer, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err != nil {
		if h.opts.FunctionTimeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Context().Err() == nil {
			h.timedOut(fn, invocationID)
		}
		return http.StatusInternalServerError, err
	}
	for name, values := range resp.Header {
		w.Header()[name] = values
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(answer)
	return resp.StatusCode, nil
}

// timedOut restarts the handler after an invocation ran past the function
// timeout (WebScriptHostExceptionHandler.OnTimeoutExceptionAsync): the
// handler is killed, and started again without counting an error.
func (h *Host) timedOut(fn function, invocationID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logf(Error, "Timeout value of %v exceeded by function 'Functions.%s' (Id: '%s'). Initiating cancellation.", h.opts.FunctionTimeout, fn.name, invocationID)
	h.logf(Warning, "A function timeout has occurred. Restarting worker process executing invocationId '%s'.", invocationID)
	if h.current != nil && !h.current.disposing {
		h.disposeAndRestart(h.current)
	}
}

// awaitDispatcher waits while the handler starts or restarts, for as long
// as the host would: the error threshold plus one, times the
// initialization timeout; then the host gives up and stops.
func (h *Host) awaitDispatcher(ctx context.Context) error {
	limit := time.After(time.Duration(errorThreshold+1) * h.opts.InitializationTimeout)
	for {
		h.mu.Lock()
		st, changed := h.state, h.changed
		h.mu.Unlock()
		switch st {
		case Running:
			return nil
		case Stopped:
			return errStopped
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-limit:
			h.mu.Lock()
			if h.state != Running && h.state != Stopped {
				h.logf(Error, "Final functionDispatcher state: %s. Initialization timed out and host is shutting down", h.state)
				if h.current != nil {
					h.dispose(h.current)
				}
				h.setState(Stopped)
			}
			h.mu.Unlock()
		}
	}
}

// joinValues puts a header's values on one line, as HttpClient sends a
// header that has several.
func joinValues(name string, values []string) string {
	if name == "Cookie" {
		return strings.Join(values, "; ")
	}
	return strings.Join(values, ", ")
}

func appendValue(hd http.Header, name, value string) {
	if v := hd.Get(name); v != "" {
		value = v + ", " + value
	}
	hd.Set(name, value)
}

// rebuildQuery rebuilds a query string as the host does
// (QueryHelpers.AddQueryString over GetQueryCollectionAsDictionary): each
// key once, in the order first seen, its values joined by commas, every
// key and value percent-encoded again. It returns "" or "?...".
func rebuildQuery(raw string) string {
	if raw == "" {
		return ""
	}
	var keys []string
	values := map[string][]string{}
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, v = unescapeQuery(k), unescapeQuery(v)
		if _, seen := values[k]; !seen {
			keys = append(keys, k)
		}
		values[k] = append(values[k], v)
	}
	var b strings.Builder
	for i, k := range keys {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(escapeQuery(k))
		b.WriteByte('=')
		b.WriteString(escapeQuery(strings.Join(values[k], ",")))
	}
	return b.String()
}

func unescapeQuery(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// escapeQuery percent-encodes everything but letters, digits and -._~.
func escapeQuery(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
