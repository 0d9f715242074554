package bench

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"time"
)

// Post sends body to path on the handler as Entra does (JSON, with the
// bearer token when token is not "") and returns the status and body.
func Post(ctx context.Context, c *http.Client, url, token string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// Client returns an HTTP client for driving the handler: keep-alive
// connections to one host, enough of them for a few thousand requests per
// second, and Entra's 2s limit as the timeout.
func Client() *http.Client {
	return &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        2048,
			MaxIdleConnsPerHost: 2048,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true,
		},
	}
}
