package api_test

import (
	"strings"
	"testing"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/node/api/apitest"
)

func TestRecordRoundTrip(t *testing.T) {
	ts, _ := newServer(t)
	v1 := put(t, ts, "/v1/records/tasks/a", ` {"title": "buy <milk> & eggs", "n": [1, 2]} `)
	if v1.Origin != apitest.Origin || v1.Seq != 1 {
		t.Fatalf("version %+v, want origin %s seq 1", v1, apitest.Origin)
	}
	hlc, err := api.ToVersion(v1)
	if err != nil || hlc.HLC == 0 {
		t.Fatalf("hlc %q does not parse as a non-zero decimal: %v", v1.HLC, err)
	}
	rec := get(t, ts, "/v1/records/tasks/a")
	want := `{"title":"buy <milk> & eggs","n":[1,2]}`
	if rec.NS != "tasks" || rec.Key != "a" || string(rec.Value) != want || rec.Version != v1 || rec.Deleted {
		t.Fatalf("got %+v (value %s), want tasks/a %s at %+v", rec, rec.Value, want, v1)
	}

	v2 := put(t, ts, "/v1/records/tasks/a", `"second"`)
	if v2.Seq != 2 || v2.HLC == v1.HLC {
		t.Fatalf("second write version %+v after %+v", v2, v1)
	}
	if got := get(t, ts, "/v1/records/tasks/a"); string(got.Value) != `"second"` {
		t.Fatalf("value after overwrite %s", got.Value)
	}

	v3 := del(t, ts, "/v1/records/tasks/a")
	if v3.Seq != 3 {
		t.Fatalf("delete version %+v", v3)
	}
	do(t, ts, request{method: "GET", path: "/v1/records/tasks/a"}).want(t, 404)
	do(t, ts, request{method: "GET", path: "/v1/records/tasks/never"}).want(t, 404)
	// Deleting what this node never saw still writes a tombstone.
	if v := del(t, ts, "/v1/records/tasks/never"); v.Seq != 4 {
		t.Fatalf("delete of absent key: %+v", v)
	}
}

func TestValueSizeLimit(t *testing.T) {
	// On disk: Badger's in-memory mode cannot hold a value this large.
	ts := apitest.NewServer(t, api.Config{Backend: apitest.NewBackend(t, t.TempDir())})
	// A JSON string of exactly MaxValueSize bytes is accepted.
	exact := `"` + strings.Repeat("x", crdt.MaxValueSize-2) + `"`
	put(t, ts, "/v1/records/big/exact", exact)
	if got := get(t, ts, "/v1/records/big/exact"); len(got.Value) != crdt.MaxValueSize {
		t.Fatalf("stored %d bytes, want %d", len(got.Value), crdt.MaxValueSize)
	}
	over := `"` + strings.Repeat("x", crdt.MaxValueSize-1) + `"`
	do(t, ts, request{method: "PUT", path: "/v1/records/big/over", body: over}).want(t, 413)
	do(t, ts, request{method: "GET", path: "/v1/records/big/over"}).want(t, 404)
}

func TestNestedNamespacesAndEscapedKeys(t *testing.T) {
	ts, _ := newServer(t)
	put(t, ts, "/v1/records/work/tasks/a%2Fb", `1`)
	put(t, ts, "/v1/records/work/tasks/%2E%2E", `2`)
	put(t, ts, "/v1/records/work/tasks/sp%20ace%3F%23", `3`)
	put(t, ts, "/v1/records/work/top", `4`)

	if r := get(t, ts, "/v1/records/work/tasks/a%2Fb"); r.NS != "work/tasks" || r.Key != "a/b" {
		t.Fatalf("got %s/%s, want work/tasks a/b", r.NS, r.Key)
	}
	// An escaped '/' inside a namespace segment is still a separator.
	if r := get(t, ts, "/v1/records/work%2Ftasks/.."); r.NS != "work/tasks" || r.Key != ".." {
		t.Fatalf("got %s/%s, want work/tasks ..", r.NS, r.Key)
	}
	do(t, ts, request{method: "GET", path: "/v1/records/work/tasks/a"}).want(t, 404)

	for _, path := range []string{"/v1/records/work/tasks/", "/v1/records/work%2Ftasks/"} {
		res := decode[api.ListResponse](t, do(t, ts, request{method: "GET", path: path}).want(t, 200))
		keys := keysOf(res.Records)
		if keys != ".. a/b sp ace?#" || res.Next != "" {
			t.Fatalf("list %s: keys %q next %q", path, keys, res.Next)
		}
	}
	// "work" is its own namespace: nested ones do not show up in it.
	res := decode[api.ListResponse](t, do(t, ts, request{method: "GET", path: "/v1/records/work"}).want(t, 200))
	if keys := keysOf(res.Records); keys != "top" {
		t.Fatalf("list work: %q", keys)
	}
}

func keysOf(recs []api.Record) string {
	keys := make([]string, len(recs))
	for i, r := range recs {
		keys[i] = r.Key
	}
	return strings.Join(keys, " ")
}

func TestList(t *testing.T) {
	ts, _ := newServer(t)
	if r := do(t, ts, request{method: "GET", path: "/v1/records/empty"}).want(t, 200); string(r.body) != `{"records":[],"next":""}`+"\n" {
		t.Fatalf("empty list body %s", r.body)
	}
	for _, k := range []string{"a1", "a2", "a3", "b1", "b2"} {
		put(t, ts, "/v1/records/l/"+k, `"`+k+`"`)
	}
	put(t, ts, "/v1/records/other/a0", `0`)
	del(t, ts, "/v1/records/l/a2")

	list := func(query string) api.ListResponse {
		return decode[api.ListResponse](t, do(t, ts, request{method: "GET", path: "/v1/records/l" + query}).want(t, 200))
	}
	if r := list(""); keysOf(r.Records) != "a1 a3 b1 b2" || r.Next != "" {
		t.Fatalf("all: %q next %q", keysOf(r.Records), r.Next)
	}
	if r := list("?prefix=a"); keysOf(r.Records) != "a1 a3" || r.Next != "" {
		t.Fatalf("prefix a: %q next %q", keysOf(r.Records), r.Next)
	}
	var pages []string
	for q := "?limit=2"; ; {
		r := list(q)
		pages = append(pages, keysOf(r.Records))
		if r.Next == "" {
			break
		}
		q = "?limit=2&after=" + r.Next
	}
	if got := strings.Join(pages, " | "); got != "a1 a3 | b1 b2" {
		t.Fatalf("pages %q", got)
	}
	if r := list("?prefix=b&after=b1"); keysOf(r.Records) != "b2" {
		t.Fatalf("prefix b after b1: %q", keysOf(r.Records))
	}
	if r := list("?limit=1000"); len(r.Records) != 4 {
		t.Fatalf("limit 1000: %d records", len(r.Records))
	}
	if r := list("?prefix=a"); r.Records[0].Value == nil || r.Records[0].Deleted {
		t.Fatalf("listed record %+v lacks its value", r.Records[0])
	}
}
