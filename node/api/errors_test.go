package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/node/api/apitest"
	"github.com/syncnode/syncnode/store"
)

// TestBadInput sends every kind of bad request and checks the status, the
// JSON error body, and that the server goes on serving good requests.
func TestBadInput(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("m 1\n")) })
	ts, _ := newServer(t, func(c *api.Config) { c.Metrics = metrics })
	put(t, ts, "/v1/records/tasks/keep", `"kept"`)

	long := strings.Repeat("k", crdt.MaxKeyLen+1)
	longNS := strings.Repeat("n", crdt.MaxNamespaceLen+1)
	cases := []struct {
		name  string
		req   request
		code  int
		allow string
	}{
		{"non-JSON body", request{method: "PUT", path: "/v1/records/tasks/k", body: "{not json"}, 400, ""},
		{"two JSON values", request{method: "PUT", path: "/v1/records/tasks/k", body: "1 2"}, 400, ""},
		{"empty body", request{method: "PUT", path: "/v1/records/tasks/k"}, 400, ""},
		{"oversized value", request{method: "PUT", path: "/v1/records/tasks/k", body: `"` + strings.Repeat("x", crdt.MaxValueSize) + `"`}, 413, ""},
		{"empty key", request{method: "PUT", path: "/v1/records/tasks/", body: "1"}, 400, ""},
		{"empty key delete", request{method: "DELETE", path: "/v1/records/tasks/"}, 400, ""},
		{"over-long key", request{method: "PUT", path: "/v1/records/tasks/" + long, body: "1"}, 400, ""},
		{"over-long key get", request{method: "GET", path: "/v1/records/tasks/" + long}, 400, ""},
		{"NUL in key", request{method: "PUT", path: "/v1/records/tasks/a%00b", body: "1"}, 400, ""},
		{"empty namespace", request{method: "PUT", path: "/v1/records//k", body: "1"}, 400, ""},
		{"empty namespace segment", request{method: "PUT", path: "/v1/records/a//b/k", body: "1"}, 400, ""},
		{"over-long namespace", request{method: "PUT", path: "/v1/records/" + longNS + "/k", body: "1"}, 400, ""},
		{"namespace charset", request{method: "PUT", path: "/v1/records/ta%20sks/k", body: "1"}, 400, ""},
		{"namespace charset list", request{method: "GET", path: "/v1/records/tasks!"}, 400, ""},
		{"dot namespace", request{method: "PUT", path: "/v1/records/%2E%2E/k", body: "1"}, 400, ""},
		{"system namespace", request{method: "PUT", path: "/v1/records/_sys/k", body: "1"}, 400, ""},
		{"system namespace delete", request{method: "DELETE", path: "/v1/records/_sys/k"}, 400, ""},
		{"missing token", request{method: "GET", path: "/v1/records/tasks/keep", auth: "-"}, 401, ""},
		{"wrong token", request{method: "GET", path: "/v1/records/tasks/keep", auth: "Bearer nope"}, 401, ""},
		{"wrong scheme", request{method: "GET", path: "/v1/status", auth: "Basic dGVzdC10b2tlbg=="}, 401, ""},
		{"metrics without token", request{method: "GET", path: "/metrics", auth: "-"}, 401, ""},
		{"wrong host", request{method: "GET", path: "/v1/status", host: "evil.example:80"}, 403, ""},
		{"wrong host no token", request{method: "GET", path: "/healthz", auth: "-", host: "rebind.example"}, 403, ""},
		{"unknown route", request{method: "GET", path: "/v1/nope"}, 404, ""},
		{"records root", request{method: "GET", path: "/v1/records"}, 404, ""},
		{"absent record", request{method: "GET", path: "/v1/records/tasks/absent"}, 404, ""},
		{"POST record", request{method: "POST", path: "/v1/records/tasks/k", body: "1"}, 405, "DELETE, GET, PUT"},
		{"PUT namespace", request{method: "PUT", path: "/v1/records/tasks", body: "1"}, 405, "GET"},
		{"POST status", request{method: "POST", path: "/v1/status"}, 405, "GET"},
		{"DELETE healthz", request{method: "DELETE", path: "/healthz", auth: "-"}, 405, "GET"},
		{"malformed cursor", request{method: "GET", path: "/v1/changes?since=abc"}, 400, ""},
		{"negative cursor", request{method: "GET", path: "/v1/changes?since=-1"}, 400, ""},
		{"cursor overflow", request{method: "GET", path: "/v1/changes?since=18446744073709551616"}, 400, ""},
		{"zero limit", request{method: "GET", path: "/v1/changes?limit=0"}, 400, ""},
		{"limit too large", request{method: "GET", path: "/v1/changes?limit=1001"}, 400, ""},
		{"list limit not a number", request{method: "GET", path: "/v1/records/tasks?limit=ten"}, 400, ""},
		{"malformed wait", request{method: "GET", path: "/v1/changes?wait=forever"}, 400, ""},
		{"negative wait", request{method: "GET", path: "/v1/changes?wait=-1s"}, 400, ""},
		{"changes bad ns", request{method: "GET", path: "/v1/changes?ns=a%20b"}, 400, ""},
		{"watch malformed cursor", request{method: "GET", path: "/v1/watch?since=x"}, 400, ""},
		{"watch malformed Last-Event-ID", request{method: "GET", path: "/v1/watch", header: map[string]string{"Last-Event-ID": "x"}}, 400, ""},
		{"watch bad ns", request{method: "GET", path: "/v1/watch?ns=a/%2E%2E"}, 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := do(t, ts, c.req).want(t, c.code)
			if got := res.header.Get("Allow"); got != c.allow {
				t.Errorf("Allow %q, want %q", got, c.allow)
			}
			if c.code == 401 && !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", res.header.Get("WWW-Authenticate"))
			}
		})
	}

	// Nothing bad was written, and the server still serves.
	res := decode[api.ListResponse](t, do(t, ts, request{method: "GET", path: "/v1/records/tasks"}).want(t, 200))
	if keysOf(res.Records) != "keep" {
		t.Fatalf("tasks holds %q after bad input, want only keep", keysOf(res.Records))
	}
	put(t, ts, "/v1/records/tasks/after", `true`)
	if r := get(t, ts, "/v1/records/tasks/keep"); string(r.Value) != `"kept"` {
		t.Fatalf("keep = %s", r.Value)
	}
}

func TestHealthzStatusPeersMetrics(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("syncnode_records 3\n"))
	})
	ts, b := newServer(t, func(c *api.Config) { c.Metrics = metrics })

	if r := do(t, ts, request{method: "GET", path: "/healthz", auth: "-"}).want(t, 200); string(r.body) != `{"ok":true}`+"\n" {
		t.Fatalf("healthz body %s", r.body)
	}
	if r := do(t, ts, request{method: "GET", path: "/metrics"}); r.code != 200 || string(r.body) != "syncnode_records 3\n" {
		t.Fatalf("metrics: %d %s", r.code, r.body)
	}

	b.SetStatus(api.Status{ID: "n1", Version: "v1.2.3", Records: 3, RejectedTotal: 2, Rejected: map[string]uint64{"skew": 2}, Vector: map[string]uint64{"n1": 3}})
	st := decode[api.Status](t, do(t, ts, request{method: "GET", path: "/v1/status"}).want(t, 200))
	if st.ID != "n1" || st.Version != "v1.2.3" || st.Records != 3 || st.Rejected["skew"] != 2 || st.Vector["n1"] != 3 {
		t.Fatalf("status %+v", st)
	}
	if r := do(t, ts, request{method: "GET", path: "/v1/status"}); !strings.Contains(string(r.body), `"rejected_total":2`) {
		t.Fatalf("status body lacks rejected_total: %s", r.body)
	}

	if r := do(t, ts, request{method: "GET", path: "/v1/peers"}).want(t, 200); string(r.body) != `{"peers":[]}`+"\n" {
		t.Fatalf("no peers body %s", r.body)
	}
	b.SetPeers([]api.Peer{{ID: "p1", Source: "mdns", Connected: true, InSync: true, Digest: "ab"}})
	r := do(t, ts, request{method: "GET", path: "/v1/peers"}).want(t, 200)
	for _, field := range []string{`"id":"p1"`, `"source":"mdns"`, `"in_sync":true`, `"connected":true`} {
		if !strings.Contains(string(r.body), field) {
			t.Fatalf("peers body %s lacks %s", r.body, field)
		}
	}
	if strings.Contains(string(r.body), "last_sync") {
		t.Fatalf("peers body %s shows a last sync that never happened", r.body)
	}
}

func TestNoMetricsHandler(t *testing.T) {
	ts, _ := newServer(t)
	do(t, ts, request{method: "GET", path: "/metrics"}).want(t, 404)
}

func TestLoopbackHostNames(t *testing.T) {
	ts, _ := newServer(t)
	_, port, _ := strings.Cut(ts.Addr, ":")
	for _, host := range []string{ts.Addr, "localhost:" + port, "[::1]:" + port} {
		do(t, ts, request{method: "GET", path: "/v1/status", host: host}).want(t, 200)
	}
	for _, host := range []string{"localhost:1", "evil.localhost:" + port, "127.0.0.1"} {
		do(t, ts, request{method: "GET", path: "/v1/status", host: host}).want(t, 403)
	}
}

func TestNewRequiresConfig(t *testing.T) {
	b := struct{ api.Backend }{}
	for _, cfg := range []api.Config{
		{Token: "t", Addr: "127.0.0.1:1"},
		{Backend: b, Addr: "127.0.0.1:1"},
		{Backend: b, Token: "t"},
		{Backend: b, Token: "t", Addr: "no-port"},
	} {
		if _, err := api.New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

// failingBackend fails writes as a closing store does and reads as a
// broken disk does.
type failingBackend struct{ *apitest.Backend }

func (failingBackend) Put(context.Context, string, string, []byte) (crdt.Version, error) {
	return crdt.Version{}, fmt.Errorf("store put: %w", store.ErrClosed)
}

func (failingBackend) Delete(context.Context, string, string) (crdt.Version, error) {
	return crdt.Version{}, context.DeadlineExceeded
}

func (failingBackend) Get(string, string) (crdt.Record, error) {
	return crdt.Record{}, errors.New("disk on fire")
}

func TestBackendFailures(t *testing.T) {
	ts := apitest.NewServer(t, api.Config{Backend: failingBackend{apitest.NewBackend(t, "")}})
	do(t, ts, request{method: "PUT", path: "/v1/records/tasks/k", body: "1"}).want(t, 503)
	do(t, ts, request{method: "DELETE", path: "/v1/records/tasks/k"}).want(t, 503)
	do(t, ts, request{method: "GET", path: "/v1/records/tasks/k"}).want(t, 500)
	do(t, ts, request{method: "GET", path: "/healthz"}).want(t, 200)
}
