package httpsync_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/syncnode/syncnode/relay/httpsync"
	"github.com/syncnode/syncnode/store"
)

// validChange is a change that would apply if its request were accepted.
const validChange = `{"ns": "tasks", "key": "k", "value": 1}`

func TestBadRequestsApplyNothing(t *testing.T) {
	r := newRelay(t)
	r.sync(t, tokenA, httpsync.SyncRequest{Changes: []httpsync.Push{put("tasks", "seed", `0`)}})
	tooMany := strings.Repeat(validChange+",", httpsync.MaxChanges) + validChange
	cases := []struct {
		name, body string
		code       int
		want       string
	}{
		{"empty body", ``, 400, "empty body"},
		{"not an object", `[` + validChange + `]`, 400, "JSON object"},
		{"null body", `null`, 400, "JSON object"},
		{"truncated", `{"since": 0, "changes": [` + validChange, 400, "malformed"},
		{"syntax", `{"since": 0, "changes": [` + validChange + `,}]}`, 400, "malformed"},
		{"trailing value", `{"changes": [` + validChange + `]} {}`, 400, "more than one"},
		{"unknown field", `{"since": 0, "changes": [` + validChange + `], "sicne": 1}`, 400, `unknown field "sicne"`},
		{"unknown change field", `{"changes": [` + validChange + `, {"ns": "a", "key": "b", "value": 1, "vaule": 2}]}`, 400, "vaule"},
		{"duplicate field", `{"since": 0, "since": 1, "changes": [` + validChange + `]}`, 400, "twice"},
		{"negative since", `{"since": -1, "changes": [` + validChange + `]}`, 400, "since must be a non-negative integer"},
		{"fractional since", `{"since": 1.5, "changes": [` + validChange + `]}`, 400, "since must be"},
		{"string since", `{"since": "1", "changes": [` + validChange + `]}`, 400, "since must be"},
		{"null since", `{"since": null, "changes": [` + validChange + `]}`, 400, "since must be"},
		{"huge since", `{"since": 18446744073709551616, "changes": [` + validChange + `]}`, 400, "since must be"},
		{"since ahead", `{"since": 99, "changes": [` + validChange + `]}`, 400, "since 99 is ahead of the server (server_seq 1): resync from 0"},
		{"zero limit", `{"limit": 0, "changes": [` + validChange + `]}`, 400, "limit must be"},
		{"limit too large", `{"limit": 5001, "changes": [` + validChange + `]}`, 400, "limit must be"},
		{"negative limit", `{"limit": -1}`, 400, "limit must be"},
		{"string limit", `{"limit": "10"}`, 400, "limit must be"},
		{"changes not an array", `{"changes": {"ns": "tasks"}}`, 400, "array"},
		{"change of wrong type", `{"changes": [` + validChange + `, {"ns": "a", "key": "b", "deleted": "yes"}]}`, 400, "changes[1]"},
		{"numeric hlc", `{"changes": [` + validChange + `, {"ns": "a", "key": "b", "value": 1, "hlc": 5}]}`, 400, "changes[1]"},
		{"too many changes", `{"changes": [` + tooMany + `]}`, 400, "more than 5000 changes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			head := r.head()
			res := r.post(t, tokenA, tc.body)
			if res.code != tc.code {
				t.Fatalf("status %d, want %d: %s", res.code, tc.code, res.body)
			}
			if msg := res.errorText(t); !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q, want it to contain %q", msg, tc.want)
			}
			if r.head() != head {
				t.Fatalf("a refused request moved the feed from %d to %d", head, r.head())
			}
		})
	}
}

func TestBodyOverTheLimit(t *testing.T) {
	const limit = 4 << 10
	r := newRelay(t, func(c *httpsync.Config) { c.MaxBodyBytes = limit })
	body := `{"changes": [` + strings.Repeat(validChange+",", limit/len(validChange)) + validChange + `]}`
	for _, tc := range []struct {
		name string
		body io.Reader
	}{
		{"with content length", strings.NewReader(body)},
		// A reader of unknown length is sent chunked, so only the read
		// limit can catch it.
		{"chunked", io.MultiReader(strings.NewReader(body))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := r.do(t, http.MethodPost, httpsync.SyncPath, "Bearer "+tokenA, tc.body)
			if res.code != http.StatusRequestEntityTooLarge || !strings.Contains(res.errorText(t), "4096-byte limit") {
				t.Fatalf("status %d: %s", res.code, res.body)
			}
			if r.head() != 0 {
				t.Fatalf("an oversized body applied writes: head %d", r.head())
			}
		})
	}
}

func TestUnauthorized(t *testing.T) {
	r := newRelay(t)
	body := `{"changes": [` + validChange + `]}`
	for name, auth := range map[string]string{
		"no header":    "",
		"wrong scheme": "Basic " + tokenA,
		"empty token":  "Bearer  ",
		"wrong token":  "Bearer snr_nope",
	} {
		t.Run(name, func(t *testing.T) {
			res := r.do(t, http.MethodPost, httpsync.SyncPath, auth, strings.NewReader(body))
			if res.code != http.StatusUnauthorized || res.header.Get("WWW-Authenticate") == "" {
				t.Fatalf("status %d, WWW-Authenticate %q", res.code, res.header.Get("WWW-Authenticate"))
			}
			if msg := res.errorText(t); strings.Contains(msg, "snr_") {
				t.Fatalf("error %q echoes the token", msg)
			}
			if r.head() != 0 {
				t.Fatal("an unauthorized request applied writes")
			}
		})
	}
}

func TestRateLimitedSource(t *testing.T) {
	r := newRelay(t)
	r.post(t, tokenA, `{}`)
	if got := r.auth.seen(); len(got) != 1 || got[0] != "127.0.0.1" {
		t.Fatalf("auth saw sources %q, want the peer's address", got)
	}

	r.auth.limit("127.0.0.1", fmt.Errorf("registry: %w", httpsync.ErrRateLimited))
	res := r.post(t, tokenA, `{"changes": [`+validChange+`]}`)
	if res.code != http.StatusTooManyRequests || res.header.Get("Retry-After") != "5" {
		t.Fatalf("status %d, Retry-After %q", res.code, res.header.Get("Retry-After"))
	}
	res.errorText(t)

	r.auth.limit("127.0.0.1", &httpsync.RateLimitedError{RetryAfter: 1500 * time.Millisecond})
	res = r.post(t, tokenA, `{}`)
	if res.code != http.StatusTooManyRequests || res.header.Get("Retry-After") != "2" {
		t.Fatalf("status %d, Retry-After %q", res.code, res.header.Get("Retry-After"))
	}
	if r.head() != 0 {
		t.Fatal("a rate-limited request applied writes")
	}
}

func TestAuthFailureIsAnInternalError(t *testing.T) {
	r := newRelay(t)
	r.auth.breakWith(fmt.Errorf("registry: read /var/lib/secret-path: disk on fire"))
	res := r.post(t, tokenA, `{}`)
	if res.code != http.StatusInternalServerError {
		t.Fatalf("status %d: %s", res.code, res.body)
	}
	if msg := res.errorText(t); strings.Contains(msg, "secret-path") {
		t.Fatalf("error %q leaks internal details", msg)
	}
}

func TestRoutes(t *testing.T) {
	r := newRelay(t)
	cases := []struct {
		method, path, auth string
		code               int
		allow, body        string
	}{
		{http.MethodGet, "/healthz", "", 200, "", `{"status":"ok"}`},
		{http.MethodPost, "/healthz", "", 405, "GET, HEAD", ""},
		{http.MethodGet, "/v1/sync", "Bearer " + tokenA, 405, "POST", ""},
		{http.MethodPut, "/v1/sync", "", 405, "POST", ""},
		{http.MethodPost, "/v1/sync/", "Bearer " + tokenA, 404, "", ""},
		{http.MethodGet, "/v1/records/tasks", "Bearer " + tokenA, 404, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			res := r.do(t, tc.method, tc.path, tc.auth, nil)
			if res.code != tc.code || res.header.Get("Allow") != tc.allow {
				t.Fatalf("status %d, Allow %q; want %d, %q", res.code, res.header.Get("Allow"), tc.code, tc.allow)
			}
			if res.header.Get("Content-Type") != "application/json" {
				t.Fatalf("Content-Type %q", res.header.Get("Content-Type"))
			}
			if tc.body != "" {
				if got := strings.TrimSpace(string(res.body)); got != tc.body {
					t.Fatalf("body %s, want %s", got, tc.body)
				}
			} else {
				res.errorText(t)
			}
		})
	}
}

// restoredStore refuses writes as a store restored from a backup does
// until its first sync with a peer.
type restoredStore struct{ httpsync.Store }

func (restoredStore) WriteAll(context.Context, []store.Write) ([]store.WriteResult, error) {
	return nil, fmt.Errorf("store write: %w", store.ErrRestored)
}

func TestStoreUnavailable(t *testing.T) {
	restored := newRelay(t, func(c *httpsync.Config) { c.Store = restoredStore{c.Store} })
	res := restored.post(t, tokenA, `{"changes": [`+validChange+`]}`)
	if res.code != http.StatusServiceUnavailable || !strings.Contains(res.errorText(t), "restored") {
		t.Fatalf("push to a restored store: status %d: %s", res.code, res.body)
	}
	// Pulling needs no write, so it still works.
	restored.sync(t, tokenA, httpsync.SyncRequest{})

	closed := newRelay(t)
	closed.store.Close()
	for _, body := range []string{`{}`, `{"changes": [` + validChange + `]}`} {
		if res := closed.post(t, tokenA, body); res.code != http.StatusServiceUnavailable {
			t.Fatalf("%s to a closed store: status %d: %s", body, res.code, res.body)
		}
	}
}
