package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/node/client"
)

// sseServer answers every request with body as an event stream.
func sseServer(t *testing.T, body string) *client.Client {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(ts.Close)
	return client.New(strings.TrimPrefix(ts.URL, "http://"), "t")
}

func collect(c *client.Client) ([]api.Change, error) {
	var got []api.Change
	err := c.Watch(context.Background(), "", "", func(ch api.Change) error {
		got = append(got, ch)
		return nil
	})
	return got, err
}

func TestWatchParsesEventStream(t *testing.T) {
	rec := `{"ns":"a","key":"k","value":1,"version":{"hlc":"5","origin":"o","seq":1},"deleted":false}`
	body := ": hello\r\n\r\n" +
		"id: 7\r\nevent: change\r\ndata: " + rec + "\r\n\r\n" +
		"event: other\ndata: {}\n\n" + // not a change: skipped
		"id:9\nevent:change\ndata:" + rec + "\n\n" + // no space after the colon
		"id: 10\nevent: change\n" // cut off before its data: ignored
	got, err := collect(sseServer(t, body))
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	if len(got) != 2 || got[0].Cursor != "7" || got[1].Cursor != "9" || got[0].Key != "k" || got[0].Version.HLC != "5" {
		t.Fatalf("changes %+v", got)
	}
}

func TestWatchRejectsBadStreams(t *testing.T) {
	huge := "data: " + strings.Repeat("x", crdt.MaxValueSize+128<<10) + "\n\n"
	for name, body := range map[string]string{
		"over-long line": huge,
		"over-long data": strings.Repeat("data: "+strings.Repeat("x", 512<<10)+"\n", 4),
		"bad JSON":       "id: 1\nevent: change\ndata: {nope\n\n",
		"cut mid-line":   "id: 1\nevent: change\ndata: {\"ns\"",
	} {
		if _, err := collect(sseServer(t, body)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A plain JSON answer is not a stream.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, "{}")
	}))
	defer ts.Close()
	if _, err := collect(client.New(strings.TrimPrefix(ts.URL, "http://"), "t")); err == nil || errors.Is(err, client.ErrNotFound) {
		t.Errorf("JSON answer: %v", err)
	}
}
