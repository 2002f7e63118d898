package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/api"
)

// defaultTransport is shared by every Client without its own HTTPClient, so
// that clients made per command or per reconnect share idle connections
// instead of leaking them. The API is local: no proxy.
var defaultTransport = &http.Transport{
	Proxy:               nil,
	DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	MaxIdleConns:        64,
	MaxIdleConnsPerHost: 16,
	IdleConnTimeout:     90 * time.Second,
}

// Client calls one node's local API. It is safe for concurrent use. Every
// method is bounded only by its ctx: long polls and watches run long.
type Client struct {
	// HTTPClient sends the requests; nil means a shared keep-alive client
	// with no overall timeout. Set it before the first call.
	HTTPClient *http.Client

	base  string // http://host:port
	token string
}

// New returns a client of the API at addr (host:port) with the bearer token.
func New(addr, token string) *Client {
	return &Client{base: "http://" + addr, token: token}
}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return &http.Client{Transport: defaultTransport}
}

// ListOptions select a page of List.
type ListOptions struct {
	Prefix string // only keys starting with Prefix
	After  string // only keys after this one: the previous page's Next
	Limit  int    // page size; zero means the server's default
}

// Put writes value, one JSON document, under (ns, key).
func (c *Client) Put(ctx context.Context, ns, key string, value json.RawMessage) (api.Version, error) {
	path, err := recordPath(ns, key)
	if err != nil {
		return api.Version{}, fmt.Errorf("put: %w", err)
	}
	var res api.WriteResponse
	err = c.call(ctx, http.MethodPut, path, nil, value, &res)
	return res.Version, err
}

// Get reads a live record; a missing or deleted one is an error matching
// ErrNotFound.
func (c *Client) Get(ctx context.Context, ns, key string) (api.Record, error) {
	path, err := recordPath(ns, key)
	if err != nil {
		return api.Record{}, fmt.Errorf("get: %w", err)
	}
	var rec api.Record
	err = c.call(ctx, http.MethodGet, path, nil, nil, &rec)
	return rec, err
}

// Delete writes a tombstone for (ns, key).
func (c *Client) Delete(ctx context.Context, ns, key string) (api.Version, error) {
	path, err := recordPath(ns, key)
	if err != nil {
		return api.Version{}, fmt.Errorf("delete: %w", err)
	}
	var res api.WriteResponse
	err = c.call(ctx, http.MethodDelete, path, nil, nil, &res)
	return res.Version, err
}

// List reads one page of a namespace's live records in key order. Pass the
// page's Next as opts.After for the following page; Next is empty on the
// last.
func (c *Client) List(ctx context.Context, ns string, opts ListOptions) (api.ListResponse, error) {
	if ns == "" {
		return api.ListResponse{}, fmt.Errorf("list: %w: empty namespace", crdt.ErrInvalid)
	}
	q := url.Values{}
	setIf(q, "prefix", opts.Prefix)
	setIf(q, "after", opts.After)
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	var res api.ListResponse
	// The trailing '/' makes the path a namespace whatever its segments.
	err := c.call(ctx, http.MethodGet, "/v1/records/"+escapeNamespace(ns)+"/", q, nil, &res)
	return res, err
}

// Changes reads the change feed after the cursor since ("" for the
// beginning, "now" for only what comes next), of ns only unless it is empty.
// If nothing follows since, the server waits up to wait for a change. A zero
// limit means the server's default.
func (c *Client) Changes(ctx context.Context, since, ns string, limit int, wait time.Duration) (api.ChangesResponse, error) {
	q := url.Values{}
	setIf(q, "since", since)
	setIf(q, "ns", ns)
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if wait > 0 {
		q.Set("wait", wait.String())
	}
	var res api.ChangesResponse
	err := c.call(ctx, http.MethodGet, "/v1/changes", q, nil, &res)
	return res, err
}

// Status describes the node.
func (c *Client) Status(ctx context.Context) (api.Status, error) {
	var st api.Status
	err := c.call(ctx, http.MethodGet, "/v1/status", nil, nil, &st)
	return st, err
}

// Peers lists the peers the node knows.
func (c *Client) Peers(ctx context.Context) ([]api.Peer, error) {
	var res api.PeersResponse
	err := c.call(ctx, http.MethodGet, "/v1/peers", nil, nil, &res)
	return res.Peers, err
}

// Healthz checks that the node answers; it needs no token.
func (c *Client) Healthz(ctx context.Context) error {
	var h api.Health
	if err := c.call(ctx, http.MethodGet, "/healthz", nil, nil, &h); err != nil {
		return err
	}
	if !h.OK {
		return fmt.Errorf("healthz: node reports not ok")
	}
	return nil
}

// call sends one request and decodes a 2xx answer into out; any other
// status becomes an *Error.
func (c *Client) call(ctx context.Context, method, path string, q url.Values, body []byte, out any) error {
	res, err := c.send(ctx, method, path, q, body, "application/json")
	if err != nil {
		return err
	}
	defer closeBody(res.Body)
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

// send issues a request and returns a 2xx response, whose body the caller
// closes.
func (c *Client) send(ctx context.Context, method, path string, q url.Values, body []byte, accept string) (*http.Response, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", accept)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		defer closeBody(res.Body)
		return nil, readError(res)
	}
	return res, nil
}

// Call sends in (nil for no body) as JSON to path and decodes the 2xx
// answer into out: for routes this package has no method for, such as a
// relay's admin routes.
func (c *Client) Call(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("%s %s: encode request: %w", method, path, err)
		}
	}
	return c.call(ctx, method, path, nil, body, out)
}

// closeBody drains a little of what is left, so the connection can be
// reused, and closes the body.
func closeBody(body io.ReadCloser) {
	io.Copy(io.Discard, io.LimitReader(body, maxErrorBody))
	body.Close()
}

func setIf(q url.Values, name, value string) {
	if value != "" {
		q.Set(name, value)
	}
}

// recordPath builds /v1/records/{ns}/{key}: each namespace segment and the
// key are escaped on their own, so a '/' in the key travels as %2F and the
// server splits the path where the caller meant.
func recordPath(ns, key string) (string, error) {
	if ns == "" {
		return "", fmt.Errorf("%w: empty namespace", crdt.ErrInvalid)
	}
	if key == "" {
		return "", fmt.Errorf("%w: empty key", crdt.ErrInvalid)
	}
	return "/v1/records/" + escapeNamespace(ns) + "/" + escapeSegment(key), nil
}

func escapeNamespace(ns string) string {
	segs := strings.Split(ns, "/")
	for i, s := range segs {
		segs[i] = escapeSegment(s)
	}
	return strings.Join(segs, "/")
}

// escapeSegment escapes one path segment. Dot segments are escaped too, so
// that nothing between here and the server resolves them as "this" or
// "parent" directory.
func escapeSegment(s string) string {
	switch s {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(s)
}
