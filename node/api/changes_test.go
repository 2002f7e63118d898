package api_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/node/api/apitest"
	"github.com/syncnode/syncnode/store"
)

func changes(t *testing.T, ts *apitest.Server, query string) api.ChangesResponse {
	t.Helper()
	return decode[api.ChangesResponse](t, do(t, ts, request{method: "GET", path: "/v1/changes" + query}).want(t, 200))
}

func summary(cs []api.Change) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		op := "put"
		if c.Deleted {
			op = "del"
		}
		parts[i] = op + " " + c.NS + "/" + c.Key
	}
	return strings.Join(parts, ", ")
}

func TestChangesFeed(t *testing.T) {
	ts, b := newServer(t)
	if r := do(t, ts, request{method: "GET", path: "/v1/changes"}).want(t, 200); string(r.body) != `{"changes":[],"cursor":"0"}`+"\n" {
		t.Fatalf("empty feed body %s", r.body)
	}
	if r := changes(t, ts, "?since=now"); r.Cursor != "0" {
		t.Fatalf("since=now on an empty feed: cursor %q", r.Cursor)
	}
	put(t, ts, "/v1/records/a/1", `1`)
	put(t, ts, "/v1/records/b/1", `2`)
	put(t, ts, "/v1/records/a/2", `3`)
	del(t, ts, "/v1/records/a/1")

	all := changes(t, ts, "")
	if got := summary(all.Changes); got != "put b/1, put a/2, del a/1" {
		t.Fatalf("feed %q", got)
	}
	if c := all.Changes[2]; c.Value != nil || c.Version.Seq != 4 {
		t.Fatalf("tombstone change %+v", c)
	}
	if all.Cursor != all.Changes[2].Cursor {
		t.Fatalf("cursor %q, want the last change's %q", all.Cursor, all.Changes[2].Cursor)
	}

	// Paging with limit and cursor visits the same changes.
	var paged []api.Change
	for cursor := ""; ; {
		r := changes(t, ts, "?limit=1&since="+cursor)
		if len(r.Changes) == 0 {
			break
		}
		paged = append(paged, r.Changes...)
		cursor = r.Cursor
	}
	if summary(paged) != summary(all.Changes) {
		t.Fatalf("paged feed %q", summary(paged))
	}

	if r := changes(t, ts, "?ns=a"); summary(r.Changes) != "put a/2, del a/1" {
		t.Fatalf("ns=a feed %q", summary(r.Changes))
	}
	// A resumed read sees only what follows.
	if r := changes(t, ts, "?since="+all.Changes[0].Cursor); summary(r.Changes) != "put a/2, del a/1" {
		t.Fatalf("after first change %q", summary(r.Changes))
	}

	// since=now starts at the head, found without any head accessor, for
	// feeds of many lengths and with overwritten entries.
	for i := range 40 {
		put(t, ts, "/v1/records/h/"+strconv.Itoa(i%7), `0`)
		r := changes(t, ts, "?since=now")
		if want := strconv.FormatUint(b.Stats().FeedHead, 10); r.Cursor != want || len(r.Changes) != 0 {
			t.Fatalf("since=now after %d writes: cursor %q, %d changes; head is %s", i+1, r.Cursor, len(r.Changes), want)
		}
	}
}

// idleBackend reports each feed read that found nothing, so a test knows a
// long poll is waiting before it writes.
type idleBackend struct {
	*apitest.Backend
	idle chan struct{}
}

func (b *idleBackend) Changes(since uint64, ns string, limit int) ([]store.Change, uint64, error) {
	page, next, err := b.Backend.Changes(since, ns, limit)
	if err == nil && len(page) == 0 {
		select {
		case b.idle <- struct{}{}:
		default:
		}
	}
	return page, next, err
}

func TestLongPollWakesOnWrite(t *testing.T) {
	b := &idleBackend{Backend: apitest.NewBackend(t, ""), idle: make(chan struct{}, 1)}
	ts := apitest.NewServer(t, api.Config{Backend: b})
	put(t, ts, "/v1/records/other/x", `0`)
	start := changes(t, ts, "")

	got := make(chan response, 1)
	go func() {
		// The wait far exceeds the test's own timeout: answering by
		// timeout fails the test.
		res, err := fetch(ts, request{method: "GET", path: "/v1/changes?ns=tasks&wait=60s&since=" + start.Cursor})
		if err != nil {
			res.body = []byte(err.Error())
		}
		got <- res
	}()
	select {
	case <-b.idle:
	case <-time.After(testTimeout):
		t.Fatal("long poll never waited")
	}
	put(t, ts, "/v1/records/other/y", `1`) // filtered out: keeps waiting
	put(t, ts, "/v1/records/tasks/t", `2`)
	select {
	case res := <-got:
		r := decode[api.ChangesResponse](t, res.want(t, 200))
		if summary(r.Changes) != "put tasks/t" || r.Cursor != r.Changes[0].Cursor {
			t.Fatalf("long poll answered %q cursor %q", summary(r.Changes), r.Cursor)
		}
	case <-time.After(testTimeout):
		t.Fatal("long poll did not return after a write")
	}
}

func TestLongPollTimesOut(t *testing.T) {
	ts, _ := newServer(t, func(c *api.Config) { c.MaxLongPoll = 20 * time.Millisecond })
	put(t, ts, "/v1/records/a/1", `1`)
	head := changes(t, ts, "").Cursor
	// The hour asked for is capped by MaxLongPoll.
	r := changes(t, ts, "?wait=1h&since="+head)
	if len(r.Changes) != 0 || r.Cursor != head {
		t.Fatalf("timed-out poll: %q cursor %q, want none at %q", summary(r.Changes), r.Cursor, head)
	}
	if r := changes(t, ts, "?wait=30&since="+head); r.Cursor != head {
		t.Fatalf("wait in seconds: cursor %q", r.Cursor)
	}
}

func TestLongPollEndsWithClient(t *testing.T) {
	b := &idleBackend{Backend: apitest.NewBackend(t, ""), idle: make(chan struct{}, 1)}
	ts := apitest.NewServer(t, api.Config{Backend: b})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	req, err := newRequest(ctx, ts, request{method: "GET", path: "/v1/changes?wait=60s"})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		res, err := ts.Client().Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	<-b.idle
	cancel()
	if err := <-done; err == nil {
		t.Fatal("cancelled long poll got a response")
	}
	// The server goes on serving.
	put(t, ts, "/v1/records/a/1", `1`)
	if r := changes(t, ts, ""); summary(r.Changes) != "put a/1" {
		t.Fatalf("feed after cancelled poll %q", summary(r.Changes))
	}
}
