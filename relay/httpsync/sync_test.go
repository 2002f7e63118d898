package httpsync_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/syncnode/syncnode/relay/httpsync"
)

func TestPushThenPull(t *testing.T) {
	r := newRelay(t)
	res := r.syncRaw(t, tokenA, `{"since": 0, "changes": [
		{"ns": "tasks", "key": "t1", "value": {"title": "milk", "done": false}},
		{"ns": "tasks", "key": "t2", "value": [1, 2, 3]},
		{"ns": "work/notes", "key": "n/1", "value": "hello"}]}`)
	if len(res.Rejected) != 0 || res.More {
		t.Fatalf("rejected %v, more %v", res.Rejected, res.More)
	}
	if res.ServerSeq != r.head() || res.ServerSeq != 3 {
		t.Fatalf("server_seq %d, head %d; want 3", res.ServerSeq, r.head())
	}
	// The client sees the canonical result of its own writes: compacted
	// values, stamped by the relay, in feed order.
	got := byKey(t, res.Changes)
	want := map[string]string{"tasks/t1": `{"title":"milk","done":false}`, "tasks/t2": `[1,2,3]`, "work/notes/n/1": `"hello"`}
	if len(got) != len(want) {
		t.Fatalf("got %d changes, want %d", len(got), len(want))
	}
	for k, v := range want {
		c := got[k]
		if string(c.Value) != v || c.Deleted || c.Version.Origin != string(relayOrigin) || c.Version.HLC == "" || c.ServerSeq == 0 {
			t.Errorf("%s: %+v, want value %s from %s", k, c, v, relayOrigin)
		}
	}
	for i := 1; i < len(res.Changes); i++ {
		if res.Changes[i].ServerSeq <= res.Changes[i-1].ServerSeq {
			t.Fatalf("changes not in feed order: %+v", res.Changes)
		}
	}
	rec, err := r.store.Get("tasks", "t1")
	if err != nil || string(rec.Value) != want["tasks/t1"] {
		t.Fatalf("store holds %+v, %v", rec, err)
	}

	// Nothing new after server_seq; everything again from 0.
	if again := r.sync(t, tokenA, httpsync.SyncRequest{Since: res.ServerSeq}); len(again.Changes) != 0 || again.ServerSeq != res.ServerSeq {
		t.Fatalf("pull after server_seq: %+v", again)
	}
	if all := r.sync(t, tokenA, httpsync.SyncRequest{}); len(all.Changes) != 3 {
		t.Fatalf("pull from 0 returned %d changes, want 3", len(all.Changes))
	}
}

func TestTwoClientsExchangeRecords(t *testing.T) {
	r := newRelay(t)
	a := r.sync(t, tokenA, httpsync.SyncRequest{Changes: []httpsync.Push{
		put("tasks", "t1", `"from a"`), put("tasks", "t2", `"also a"`),
	}})
	b := r.sync(t, tokenB, httpsync.SyncRequest{})
	if got := byKey(t, b.Changes); string(got["tasks/t1"].Value) != `"from a"` || string(got["tasks/t2"].Value) != `"also a"` {
		t.Fatalf("b pulled %+v", b.Changes)
	}

	b = r.sync(t, tokenB, httpsync.SyncRequest{Since: b.ServerSeq, Changes: []httpsync.Push{
		put("tasks", "t1", `"edited by b"`), {NS: "tasks", Key: "t2", Deleted: true},
	}})
	if len(b.Rejected) != 0 || len(b.Changes) != 2 {
		t.Fatalf("b's push: %+v", b)
	}

	a = r.sync(t, tokenA, httpsync.SyncRequest{Since: a.ServerSeq})
	got := byKey(t, a.Changes)
	if len(got) != 2 || string(got["tasks/t1"].Value) != `"edited by b"` {
		t.Fatalf("a pulled %+v", a.Changes)
	}
	if del := got["tasks/t2"]; !del.Deleted || del.Value != nil {
		t.Fatalf("a pulled t2 as %+v, want a tombstone without value", del)
	}
	if a.ServerSeq != b.ServerSeq {
		t.Fatalf("a and b end at server_seq %d and %d", a.ServerSeq, b.ServerSeq)
	}
}

func TestPaginationDrainsTheFeed(t *testing.T) {
	r := newRelay(t)
	const n = 25
	var ps []httpsync.Push
	for i := range n {
		ps = append(ps, put("tasks", fmt.Sprintf("k%02d", i), fmt.Sprint(i)))
	}
	// A push whose own results overflow the limit pages them too.
	first := r.sync(t, tokenA, httpsync.SyncRequest{Limit: 10, Changes: ps})
	if !first.More || len(first.Changes) != 10 || first.ServerSeq != first.Changes[9].ServerSeq {
		t.Fatalf("first page: more %v, %d changes, server_seq %d", first.More, len(first.Changes), first.ServerSeq)
	}

	var sizes []int
	since := uint64(0)
	var all []httpsync.Change
	for {
		page := r.sync(t, tokenB, httpsync.SyncRequest{Since: since, Limit: 10})
		sizes = append(sizes, len(page.Changes))
		all = append(all, page.Changes...)
		if page.More && page.ServerSeq != page.Changes[len(page.Changes)-1].ServerSeq {
			t.Fatalf("page with more ends at %d, not its last change", page.ServerSeq)
		}
		since = page.ServerSeq
		if !page.More {
			break
		}
	}
	if !slices.Equal(sizes, []int{10, 10, 5}) {
		t.Fatalf("page sizes %v, want [10 10 5]", sizes)
	}
	if got := byKey(t, all); len(got) != n {
		t.Fatalf("drained %d distinct keys, want %d", len(got), n)
	}
	if since != r.head() {
		t.Fatalf("final server_seq %d, head %d", since, r.head())
	}
}

func TestRetryIsIdempotent(t *testing.T) {
	r := newRelay(t)
	r.sync(t, tokenB, httpsync.SyncRequest{Changes: []httpsync.Push{put("tasks", "gone", `1`)}})
	body := fmt.Sprintf(`{"since": 1, "changes": [
		{"ns": "tasks", "key": "a", "value": {"x": 1}},
		{"ns": "tasks", "key": "b", "value": 2, "hlc": %q},
		{"ns": "tasks", "key": "gone", "deleted": true}]}`, stamp(-1000, 0))
	first := r.syncRaw(t, tokenA, body)
	head := r.head()
	vector := r.store.Stats().Vector
	// The retry differs in whitespace only, as a re-encoding client's may.
	retry := r.syncRaw(t, tokenA, strings.ReplaceAll(body, `{"x": 1}`, `{ "x" : 1 }`))
	if len(first.Rejected) != 0 || len(retry.Rejected) != 0 {
		t.Fatalf("rejected %v then %v", first.Rejected, retry.Rejected)
	}
	if retry.ServerSeq != first.ServerSeq || r.head() != head {
		t.Fatalf("retry moved server_seq %d -> %d (head %d -> %d)", first.ServerSeq, retry.ServerSeq, head, r.head())
	}
	if v := r.store.Stats().Vector; v.Get(relayOrigin) != vector.Get(relayOrigin) {
		t.Fatalf("retry wrote new versions: seq %d -> %d", vector.Get(relayOrigin), v.Get(relayOrigin))
	}
	firstJSON, _ := json.Marshal(first.Changes)
	retryJSON, _ := json.Marshal(retry.Changes)
	if string(firstJSON) != string(retryJSON) {
		t.Fatalf("retry returned other changes:\n%s\n%s", firstJSON, retryJSON)
	}
}

func TestOlderStampIsSuperseded(t *testing.T) {
	r := newRelay(t)
	newer := stamp(-1000, 0)
	first := r.sync(t, tokenA, httpsync.SyncRequest{Changes: []httpsync.Push{
		{NS: "tasks", Key: "k", Value: json.RawMessage(`"newer"`), HLC: newer},
	}})
	if len(first.Rejected) != 0 || first.Changes[0].Version.HLC != newer {
		t.Fatalf("client stamp not kept: %+v", first)
	}

	// Another client, offline for a while, pushes an older edit.
	res := r.sync(t, tokenB, httpsync.SyncRequest{Changes: []httpsync.Push{
		{NS: "tasks", Key: "k", Value: json.RawMessage(`"older"`), HLC: stamp(-5000, 0)},
	}})
	if len(res.Rejected) != 1 || res.Rejected[0].Key != "k" || !strings.Contains(res.Rejected[0].Reason, "newer version") {
		t.Fatalf("rejected %+v, want k superseded", res.Rejected)
	}
	if got := byKey(t, res.Changes)["tasks/k"]; string(got.Value) != `"newer"` || got.Version.HLC != newer {
		t.Fatalf("pulled %+v, want the newer current value", got)
	}
	if r.head() != first.ServerSeq {
		t.Fatalf("the superseded write moved the feed: head %d, was %d", r.head(), first.ServerSeq)
	}

	// A newer stamp wins, and a stamp beyond the relay's max skew is refused.
	newest := stamp(-10, 3)
	res = r.sync(t, tokenB, httpsync.SyncRequest{Since: res.ServerSeq, Changes: []httpsync.Push{
		{NS: "tasks", Key: "k", Value: json.RawMessage(`"newest"`), HLC: newest},
		{NS: "tasks", Key: "future", Value: json.RawMessage(`1`), HLC: stamp(10*60*1000, 0)},
	}})
	if len(res.Changes) != 1 || res.Changes[0].Version.HLC != newest || string(res.Changes[0].Value) != `"newest"` {
		t.Fatalf("newer stamp: %+v", res.Changes)
	}
	if len(res.Rejected) != 1 || res.Rejected[0].Index != 1 || !strings.Contains(res.Rejected[0].Reason, "too far ahead") {
		t.Fatalf("rejected %+v, want the future stamp refused", res.Rejected)
	}
	if _, err := r.store.Get("tasks", "future"); !isNotFound(err) {
		t.Fatalf("future write stored: %v", err)
	}
}

func TestBadChangesAreRejectedAlone(t *testing.T) {
	r := newRelay(t)
	big := `"` + strings.Repeat("x", 1<<20) + `"`
	res := r.syncRaw(t, tokenA, `{"changes": [
		{"ns": "tasks", "key": "ok1", "value": 1},
		{"ns": "bad ns", "key": "k", "value": 1},
		{"ns": "_system", "key": "k", "value": 1},
		{"ns": "tasks", "key": "", "value": 1},
		{"ns": "tasks", "key": "big", "value": `+big+`},
		{"ns": "tasks", "key": "both", "value": 1, "deleted": true},
		{"ns": "tasks", "key": "none"},
		{"ns": "tasks", "key": "stamp", "value": 1, "hlc": "yesterday"},
		{"ns": "tasks", "key": "zero", "value": 1, "hlc": "0"},
		{"ns": "tasks", "key": "ok2", "value": null}]}`)
	wantReason := map[int]string{
		1: "not allowed", 2: "reserved", 3: "empty key", 4: "exceeds", 5: "carries no value",
		6: "value is required", 7: "hlc", 8: "hlc",
	}
	if len(res.Rejected) != len(wantReason) {
		t.Fatalf("rejected %+v", res.Rejected)
	}
	for _, rej := range res.Rejected {
		if want, ok := wantReason[rej.Index]; !ok || !strings.Contains(rej.Reason, want) {
			t.Errorf("change %d (%s/%s) rejected with %q, want %q", rej.Index, rej.NS, rej.Key, rej.Reason, want)
		}
	}
	got := byKey(t, res.Changes)
	if len(got) != 2 || string(got["tasks/ok1"].Value) != "1" || string(got["tasks/ok2"].Value) != "null" {
		t.Fatalf("applied %+v, want ok1 and ok2", res.Changes)
	}
}
