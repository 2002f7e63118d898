package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/node/api/apitest"
)

// testTimeout bounds every wait in these tests; hitting it is a failure,
// never the expected path.
const testTimeout = 10 * time.Second

// newServer serves an in-memory backend; opts adjust the config first.
func newServer(t *testing.T, opts ...func(*api.Config)) (*apitest.Server, *apitest.Backend) {
	t.Helper()
	b := apitest.NewBackend(t, "")
	cfg := api.Config{Backend: b}
	for _, o := range opts {
		o(&cfg)
	}
	return apitest.NewServer(t, cfg), b
}

// response is a fully read HTTP response.
type response struct {
	code   int
	header http.Header
	body   []byte
}

// request describes one call; a zero auth sends the test token.
type request struct {
	method, path string
	body         string
	auth         string // full Authorization value; "-" sends none
	host         string
	header       map[string]string
}

func do(t *testing.T, ts *apitest.Server, rq request) response {
	t.Helper()
	res, err := fetch(ts, rq)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// fetch is do for goroutines other than the test's.
func fetch(ts *apitest.Server, rq request) (response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	req, err := newRequest(ctx, ts, rq)
	if err != nil {
		return response{}, err
	}
	res, err := ts.Client().Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", rq.method, rq.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read body: %w", rq.method, rq.path, err)
	}
	return response{code: res.StatusCode, header: res.Header, body: b}, nil
}

func newRequest(ctx context.Context, ts *apitest.Server, rq request) (*http.Request, error) {
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, ts.URL+rq.path, body)
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	switch rq.auth {
	case "":
		req.Header.Set("Authorization", "Bearer "+apitest.Token)
	case "-":
	default:
		req.Header.Set("Authorization", rq.auth)
	}
	if rq.host != "" {
		req.Host = rq.host
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	return req, nil
}

// want fails unless r has status code and a JSON body.
func (r response) want(t *testing.T, code int) response {
	t.Helper()
	if r.code != code {
		t.Fatalf("status %d, want %d; body %s", r.code, code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	if code >= 400 {
		var e api.Error
		if err := json.Unmarshal(r.body, &e); err != nil || e.Error == "" {
			t.Fatalf("error body %s is not {\"error\":\"...\"} (%v)", r.body, err)
		}
	}
	return r
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, r.body, err)
	}
	return v
}

func put(t *testing.T, ts *apitest.Server, path, value string) api.Version {
	t.Helper()
	return decode[api.WriteResponse](t, do(t, ts, request{method: "PUT", path: path, body: value}).want(t, 200)).Version
}

func del(t *testing.T, ts *apitest.Server, path string) api.Version {
	t.Helper()
	return decode[api.WriteResponse](t, do(t, ts, request{method: "DELETE", path: path}).want(t, 200)).Version
}

func get(t *testing.T, ts *apitest.Server, path string) api.Record {
	t.Helper()
	return decode[api.Record](t, do(t, ts, request{method: "GET", path: path}).want(t, 200))
}
