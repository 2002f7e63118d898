package httpsync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/relay/httpsync"
	"github.com/syncnode/syncnode/store"
	"github.com/syncnode/syncnode/store/storetest"
)

// testTimeout bounds every request of these tests; hitting it is a failure.
const testTimeout = 10 * time.Second

// baseMS is the wall time of the relay's injected clock.
const baseMS = 1_750_000_000_000

// relayOrigin stamps the relay store's writes.
const relayOrigin crdt.NodeID = "relay-1"

// Tokens of the test clients.
const (
	tokenA = "snr_aaaa_secret"
	tokenB = "snr_bbbb_secret"
)

// fakeAuth knows a fixed set of tokens and limits the sources it is told to.
type fakeAuth struct {
	mu      sync.Mutex
	tokens  map[string]string // token -> client
	limited map[string]error  // source -> rate-limit error
	broken  error             // returned for every token when set
	sources []string
}

func (a *fakeAuth) Authenticate(_ context.Context, token, source string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sources = append(a.sources, source)
	if err := a.limited[source]; err != nil {
		return "", err
	}
	if a.broken != nil {
		return "", a.broken
	}
	client, ok := a.tokens[token]
	if !ok {
		return "", fmt.Errorf("registry: bad token: %w", httpsync.ErrUnauthorized)
	}
	return client, nil
}

// seen returns the sources Authenticate was called with.
func (a *fakeAuth) seen() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.sources...)
}

// breakWith makes every later call fail with err.
func (a *fakeAuth) breakWith(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.broken = err
}

func (a *fakeAuth) limit(source string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.limited[source] = err
}

// fakeClients records resync marks and acknowledged cursors.
type fakeClients struct {
	mu      sync.Mutex
	resync  map[string]bool
	acks    map[string][]uint64
	cleared []string
}

func (c *fakeClients) NeedsResync(client string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resync[client]
}

func (c *fakeClients) ClearResync(client string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.resync, client)
	c.cleared = append(c.cleared, client)
	return nil
}

func (c *fakeClients) Ack(client string, cursor uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.acks[client] = append(c.acks[client], cursor)
	return nil
}

func (c *fakeClients) mark(client string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resync[client] = true
}

func (c *fakeClients) clearedClients() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.cleared...)
}

func (c *fakeClients) ackedBy(client string) []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]uint64(nil), c.acks[client]...)
}

// fakeGC reports a settable floor.
type fakeGC struct{ floor atomic.Uint64 }

func (g *fakeGC) Floor() uint64 { return g.floor.Load() }

// relay is a sync handler over an in-memory store, served on loopback.
type relay struct {
	srv     *httptest.Server
	store   *store.Store
	auth    *fakeAuth
	clients *fakeClients
	gc      *fakeGC
	clockMS atomic.Int64
}

// newRelay starts a relay; opts adjust the config first.
func newRelay(t *testing.T, opts ...func(*httpsync.Config)) *relay {
	t.Helper()
	r := &relay{
		auth: &fakeAuth{
			tokens:  map[string]string{tokenA: "laptop", tokenB: "phone"},
			limited: map[string]error{},
		},
		clients: &fakeClients{resync: map[string]bool{}, acks: map[string][]uint64{}},
		gc:      &fakeGC{},
	}
	r.clockMS.Store(baseMS)
	r.store = storetest.InMemory(t, relayOrigin, r.clockMS.Load)
	cfg := httpsync.Config{
		Auth:    r.auth,
		Store:   r.store,
		Clients: r.clients,
		GC:      r.gc,
		Logger:  slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(&cfg)
	}
	r.srv = httptest.NewServer(httpsync.NewHandler(cfg))
	t.Cleanup(r.srv.Close)
	return r
}

// head is the relay's feed head.
func (r *relay) head() uint64 { return r.store.Stats().FeedHead }

// response is a fully read HTTP response.
type response struct {
	code   int
	header http.Header
	body   []byte
}

// errorText decodes an error body, failing the test if it is not one.
func (res response) errorText(t *testing.T) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(res.body, &e); err != nil || e.Error == "" {
		t.Fatalf("status %d: body %q is not {\"error\": ...}", res.code, res.body)
	}
	return e.Error
}

// do sends method path with body and an Authorization header (none if
// auth is empty).
func (r *relay) do(t *testing.T, method, path, auth string, body io.Reader) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, r.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := r.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{code: res.StatusCode, header: res.Header, body: b}
}

// post sends body to /v1/sync with token.
func (r *relay) post(t *testing.T, token, body string) response {
	t.Helper()
	return r.do(t, http.MethodPost, httpsync.SyncPath, "Bearer "+token, strings.NewReader(body))
}

// sync sends req as token and requires a 200.
func (r *relay) sync(t *testing.T, token string, req httpsync.SyncRequest) httpsync.SyncResponse {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return r.syncRaw(t, token, string(body))
}

// syncRaw sends a literal body as token and requires a 200.
func (r *relay) syncRaw(t *testing.T, token, body string) httpsync.SyncResponse {
	t.Helper()
	res := r.post(t, token, body)
	if res.code != http.StatusOK {
		t.Fatalf("sync %s: status %d: %s", body, res.code, res.body)
	}
	var out httpsync.SyncResponse
	dec := json.NewDecoder(bytes.NewReader(res.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("decode %s: %v", res.body, err)
	}
	return out
}

// pullAll pages through the feed from since with limit until more is
// false, and returns every change and the final server_seq.
func (r *relay) pullAll(t *testing.T, token string, since uint64, limit int) ([]httpsync.Change, uint64) {
	t.Helper()
	var all []httpsync.Change
	for range 1000 {
		res := r.sync(t, token, httpsync.SyncRequest{Since: since, Limit: limit})
		all = append(all, res.Changes...)
		since = res.ServerSeq
		if !res.More {
			return all, since
		}
	}
	t.Fatal("feed never drained")
	return nil, 0
}

// byKey indexes changes by ns/key, failing on a key seen twice.
func byKey(t *testing.T, cs []httpsync.Change) map[string]httpsync.Change {
	t.Helper()
	m := map[string]httpsync.Change{}
	for _, c := range cs {
		k := c.NS + "/" + c.Key
		if _, dup := m[k]; dup {
			t.Fatalf("key %s returned twice", k)
		}
		m[k] = c
	}
	return m
}

// put builds a pushed value.
func put(ns, key, value string) httpsync.Push {
	return httpsync.Push{NS: ns, Key: key, Value: json.RawMessage(value)}
}

// stamp is an HLC at offset ms from the relay's clock.
func stamp(offsetMS int64, logical uint16) string {
	return crdt.NewTimestamp(baseMS+offsetMS, logical).String()
}

// isNotFound reports whether err is the store's not-found.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
