package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/node/api/apitest"
	"github.com/syncnode/syncnode/node/client"
)

const testTimeout = 10 * time.Second

func setup(t *testing.T, opts ...func(*api.Config)) (*client.Client, *apitest.Backend, context.Context) {
	t.Helper()
	c, b, ctx, _ := setupServer(t, opts...)
	return c, b, ctx
}

func setupServer(t *testing.T, opts ...func(*api.Config)) (*client.Client, *apitest.Backend, context.Context, *apitest.Server) {
	t.Helper()
	b := apitest.NewBackend(t, "")
	cfg := api.Config{Backend: b}
	for _, o := range opts {
		o(&cfg)
	}
	ts := apitest.NewServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return client.New(ts.Addr, apitest.Token), b, ctx, ts
}

func TestRecords(t *testing.T) {
	c, _, ctx := setup(t)
	v, err := c.Put(ctx, "tasks", "a", json.RawMessage(`{ "done": false }`))
	if err != nil || v.Seq != 1 || v.Origin != apitest.Origin {
		t.Fatalf("put: %+v, %v", v, err)
	}
	rec, err := c.Get(ctx, "tasks", "a")
	if err != nil || string(rec.Value) != `{"done":false}` || rec.Version != v {
		t.Fatalf("get: %+v (%s), %v", rec, rec.Value, err)
	}
	dv, err := c.Delete(ctx, "tasks", "a")
	if err != nil || dv.Seq != 2 {
		t.Fatalf("delete: %+v, %v", dv, err)
	}
	_, err = c.Get(ctx, "tasks", "a")
	var e *client.Error
	if !errors.Is(err, client.ErrNotFound) || !errors.As(err, &e) || e.Status != 404 || !strings.Contains(e.Message, "deleted") {
		t.Fatalf("get deleted: %v", err)
	}
	if errors.Is(err, client.ErrUnauthorized) {
		t.Fatal("404 matches ErrUnauthorized")
	}
}

// TestEscaping round-trips names that need escaping in a URL path.
func TestEscaping(t *testing.T) {
	c, _, ctx := setup(t)
	keys := []string{"a/b", "/lead", "trail/", ".", "..", "sp ace", "q?x#y&z=1", "100%", "ünï/cödé", "+plus", "%2F"}
	for _, ns := range []string{"work/tasks", "a.b/c-d/e_f"} {
		for i, key := range keys {
			value := json.RawMessage(`[` + strings.Repeat("0,", i) + `0]`)
			if _, err := c.Put(ctx, ns, key, value); err != nil {
				t.Fatalf("put %s %q: %v", ns, key, err)
			}
			rec, err := c.Get(ctx, ns, key)
			if err != nil || rec.NS != ns || rec.Key != key || string(rec.Value) != string(value) {
				t.Fatalf("get %s %q: %s %q %s, %v", ns, key, rec.NS, rec.Key, rec.Value, err)
			}
		}
		page, err := c.List(ctx, ns, client.ListOptions{})
		if err != nil || len(page.Records) != len(keys) {
			t.Fatalf("list %s: %d records, %v", ns, len(page.Records), err)
		}
	}
	if _, err := c.Delete(ctx, "work/tasks", "a/b"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "work/tasks", "a/b"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("deleted a/b: %v", err)
	}
	if _, err := c.Get(ctx, "work/tasks", "a"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("a/b was stored as a: %v", err)
	}
}

func TestList(t *testing.T) {
	c, _, ctx := setup(t)
	for _, k := range []string{"a1", "a2", "b1", "b2", "b3"} {
		if _, err := c.Put(ctx, "l", k, json.RawMessage(`1`)); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	opts := client.ListOptions{Prefix: "b", Limit: 2}
	for {
		page, err := c.List(ctx, "l", opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Records {
			got = append(got, r.Key)
		}
		if page.Next == "" {
			break
		}
		opts.After = page.Next
	}
	if strings.Join(got, " ") != "b1 b2 b3" {
		t.Fatalf("paged prefix b: %q", got)
	}
	page, err := c.List(ctx, "empty", client.ListOptions{})
	if err != nil || page.Records == nil || len(page.Records) != 0 {
		t.Fatalf("empty namespace: %#v, %v", page, err)
	}
}

func TestChanges(t *testing.T) {
	c, _, ctx := setup(t, func(cfg *api.Config) { cfg.MaxLongPoll = 10 * time.Millisecond })
	head, err := c.Changes(ctx, "now", "", 0, 0)
	if err != nil || head.Cursor != "0" || len(head.Changes) != 0 {
		t.Fatalf("now on empty feed: %+v, %v", head, err)
	}
	c.Put(ctx, "a", "1", json.RawMessage(`1`))
	c.Put(ctx, "b", "1", json.RawMessage(`2`))
	c.Delete(ctx, "a", "1")

	all, err := c.Changes(ctx, "", "", 0, 0)
	if err != nil || len(all.Changes) != 2 || all.Changes[1].Key != "1" || !all.Changes[1].Deleted {
		t.Fatalf("feed: %+v, %v", all, err)
	}
	first, err := c.Changes(ctx, "", "b", 1, 0)
	if err != nil || len(first.Changes) != 1 || first.Changes[0].NS != "b" {
		t.Fatalf("ns b: %+v, %v", first, err)
	}
	// Nothing follows the end: the poll waits, capped by the server, and
	// hands back a cursor that is still at the end.
	end, err := c.Changes(ctx, all.Cursor, "", 0, time.Hour)
	if err != nil || len(end.Changes) != 0 || end.Cursor != all.Cursor {
		t.Fatalf("poll at the end: %+v, %v", end, err)
	}
	var e *client.Error
	if _, err := c.Changes(ctx, "bogus", "", 0, 0); !errors.As(err, &e) || e.Status != 400 {
		t.Fatalf("bad cursor: %v", err)
	}
}

func TestWatch(t *testing.T) {
	c, _, ctx := setup(t)
	c.Put(ctx, "tasks", "before", json.RawMessage(`0`))
	head, err := c.Changes(ctx, "now", "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}

	errDone := errors.New("seen enough")
	var got []api.Change
	first := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- c.Watch(ctx, "tasks", head.Cursor, func(ch api.Change) error {
			got = append(got, ch)
			if len(got) == 1 {
				close(first)
			}
			if len(got) == 2 {
				return errDone
			}
			return nil
		})
	}()
	c.Put(ctx, "notes", "skip", json.RawMessage(`1`))
	c.Put(ctx, "tasks", "x/y", json.RawMessage(`{"v":"<b>"}`))
	// The feed keeps each key's latest change only, so the delete waits until
	// the stream has delivered the put; otherwise a slow start would see one
	// event.
	select {
	case <-first:
	case err := <-done:
		t.Fatalf("watch ended before the first event: %v", err)
	}
	c.Delete(ctx, "tasks", "x/y")
	if err := <-done; !errors.Is(err, errDone) {
		t.Fatalf("watch returned %v", err)
	}
	if got[0].Key != "x/y" || string(got[0].Value) != `{"v":"<b>"}` || !got[1].Deleted || got[1].Value != nil {
		t.Fatalf("events %+v", got)
	}

	// Resuming after the first event replays only the second.
	var resumed []api.Change
	err = c.Watch(ctx, "tasks", got[0].Cursor, func(ch api.Change) error {
		resumed = append(resumed, ch)
		return errDone
	})
	if !errors.Is(err, errDone) || resumed[0].Cursor != got[1].Cursor || !resumed[0].Deleted {
		t.Fatalf("resumed: %+v, %v", resumed, err)
	}
}

func TestWatchEndsWithContext(t *testing.T) {
	c, _, ctx := setup(t)
	wctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Watch(wctx, "", "", func(api.Change) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled watch: %v", err)
	}
	// A watch cancelled while streaming ends the same way.
	wctx, cancel = context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- c.Watch(wctx, "", "0", func(api.Change) error {
			cancel()
			return nil
		})
	}()
	c.Put(ctx, "a", "b", json.RawMessage(`1`))
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("watch cancelled mid-stream: %v", err)
	}
}

func TestErrors(t *testing.T) {
	c, b, ctx, ts := setupServer(t)
	b.SetStatus(api.Status{ID: "me", Records: 7})
	b.SetPeers([]api.Peer{{ID: "p", Source: "static"}})

	if err := c.Healthz(ctx); err != nil {
		t.Fatalf("healthz: %v", err)
	}
	if st, err := c.Status(ctx); err != nil || st.ID != "me" || st.Records != 7 {
		t.Fatalf("status: %+v, %v", st, err)
	}
	if peers, err := c.Peers(ctx); err != nil || len(peers) != 1 || peers[0].Source != "static" {
		t.Fatalf("peers: %+v, %v", peers, err)
	}

	var e *client.Error
	if _, err := c.Put(ctx, "bad ns", "k", json.RawMessage(`1`)); !errors.As(err, &e) || e.Status != 400 || !strings.Contains(e.Message, "namespace") {
		t.Fatalf("bad namespace: %v", err)
	}
	if _, err := c.Put(ctx, "tasks", "k", json.RawMessage(`{oops`)); !errors.As(err, &e) || e.Status != 400 {
		t.Fatalf("bad JSON: %v", err)
	}
	if err := c.Watch(ctx, "bad ns", "", func(api.Change) error { return nil }); !errors.As(err, &e) || e.Status != 400 {
		t.Fatalf("watch bad namespace: %v", err)
	}
	for _, call := range []func() error{
		func() error { _, err := c.Get(ctx, "tasks", ""); return err },
		func() error { _, err := c.Put(ctx, "", "k", json.RawMessage(`1`)); return err },
		func() error { _, err := c.List(ctx, "", client.ListOptions{}); return err },
	} {
		if err := call(); !errors.Is(err, crdt.ErrInvalid) {
			t.Fatalf("empty name: %v", err)
		}
	}

	wrong := client.New(ts.Addr, "wrong")
	if err := wrong.Healthz(ctx); err != nil {
		t.Fatalf("healthz needs no token: %v", err)
	}
	_, err := wrong.Get(ctx, "tasks", "k")
	if !errors.Is(err, client.ErrUnauthorized) || !errors.As(err, &e) || e.Status != 401 || errors.Is(err, client.ErrNotFound) {
		t.Fatalf("wrong token: %v", err)
	}
	if err := wrong.Watch(ctx, "", "", func(api.Change) error { return nil }); !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("watch with wrong token: %v", err)
	}

	// A caller-supplied HTTP client is used; localhost passes the Host check.
	_, port, _ := strings.Cut(ts.Addr, ":")
	local := client.New("localhost:"+port, apitest.Token)
	local.HTTPClient = ts.Client()
	if st, err := local.Status(ctx); err != nil || st.ID != "me" {
		t.Fatalf("status via localhost: %+v, %v", st, err)
	}
}
