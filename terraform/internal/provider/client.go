package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls Interim's public REST API under /api/v1 with a Bearer API token.
type Client struct {
	endpoint  string // origin without a trailing slash, e.g. https://id.example.com
	token     string
	userAgent string
	http      *http.Client
}

// NewClient checks that endpoint is an http(s) origin and returns a client for it.
func NewClient(endpoint, token, userAgent string) (*Client, error) {
	parsed, err := url.Parse(strings.TrimRight(endpoint, "/"))
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL such as https://id.example.com", endpoint)
	}
	return &Client{
		endpoint:  parsed.String(),
		token:     token,
		userAgent: userAgent,
		http: &http.Client{
			Timeout: 60 * time.Second,
			Transport: &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
				TLSHandshakeTimeout:   10 * time.Second,
				ResponseHeaderTimeout: 30 * time.Second,
				MaxIdleConnsPerHost:   4,
			},
		},
	}, nil
}

// Endpoint is the origin the client talks to.
func (c *Client) Endpoint() string { return c.endpoint }

// FieldError is one entry of a problem's `errors` list: the server names the field it rejects.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// APIError is a 4xx or 5xx answer, carrying the RFC 9457 problem the server sent.
type APIError struct {
	Method string
	Path   string
	Status int
	Code   string       `json:"code"`
	Detail string       `json:"detail"`
	Errors []FieldError `json:"errors"`
}

func (e *APIError) Error() string {
	detail := e.Detail
	if detail == "" {
		detail = http.StatusText(e.Status)
	}
	if e.Code != "" {
		return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.Path, e.Status, e.Code, detail)
	}
	return fmt.Sprintf("%s %s: %d: %s", e.Method, e.Path, e.Status, detail)
}

// IsNotFound says whether err is the API's 404: the object is gone (or never existed).
func IsNotFound(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound
}

// UnreachableError means no HTTP answer came back at all (DNS, refused connection, timeout, TLS).
type UnreachableError struct {
	Endpoint string
	Err      error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach Interim at %s: %v", e.Endpoint, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// How often a request is retried when the server says it is briefly unavailable (503 while its
// database is away, 429) before the error is reported.
const maxRetries = 4

// Get, Post, Put, Patch and Delete call `path` (which starts with /api/v1/ or /oidc/), send `in`
// as JSON when it is not nil, and decode a 2xx body into `out` when it is not nil.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	return c.Do(ctx, http.MethodGet, path, nil, out)
}

func (c *Client) Post(ctx context.Context, path string, in, out any) error {
	return c.Do(ctx, http.MethodPost, path, in, out)
}

func (c *Client) Put(ctx context.Context, path string, in, out any) error {
	return c.Do(ctx, http.MethodPut, path, in, out)
}

func (c *Client) Patch(ctx context.Context, path string, in, out any) error {
	return c.Do(ctx, http.MethodPatch, path, in, out)
}

func (c *Client) Delete(ctx context.Context, path string) error {
	return c.Do(ctx, http.MethodDelete, path, nil, nil)
}

// Do sends one request (retrying 429 and 503 a few times) and turns a 4xx/5xx answer into an *APIError.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return fmt.Errorf("encoding the %s %s body: %w", method, path, err)
		}
	}
	for attempt := 0; ; attempt++ {
		retryAfter, err := c.once(ctx, method, path, payload, out)
		if retryAfter < 0 || attempt >= maxRetries {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(retryAfter):
		}
	}
}

// once sends the request one time. A non-negative retryAfter says the answer may be retried after that wait.
func (c *Client) once(ctx context.Context, method, path string, payload []byte, out any) (time.Duration, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, body)
	if err != nil {
		return -1, fmt.Errorf("building %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for name, value := range requestHeaders(ctx) { // e.g. If-Match, see client_request_headers.go
		req.Header.Set(name, value)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return -1, &UnreachableError{Endpoint: c.endpoint, Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return -1, &UnreachableError{Endpoint: c.endpoint, Err: err}
	}
	if resp.StatusCode >= 400 {
		apiErr := &APIError{Method: method, Path: path, Status: resp.StatusCode}
		if json.Unmarshal(raw, apiErr) != nil || apiErr.Detail == "" {
			// Not our problem+json (a proxy in front, say): keep a short excerpt of what came back.
			apiErr.Detail = strings.TrimSpace(string(raw[:min(len(raw), 300)]))
		}
		return retryDelay(resp), apiErr
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return -1, fmt.Errorf("decoding the answer to %s %s: %w", method, path, err)
		}
	}
	return -1, nil
}

func retryDelay(resp *http.Response) time.Duration {
	if resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusTooManyRequests {
		return -1
	}
	var secs int
	if _, err := fmt.Sscanf(resp.Header.Get("Retry-After"), "%d", &secs); err == nil && secs > 0 && secs <= 30 {
		return time.Duration(secs) * time.Second
	}
	return 2 * time.Second
}

// PathEscape escapes one path segment (an id taken from configuration or an import).
func PathEscape(segment string) string { return url.PathEscape(segment) }
