package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/node/api/apitest"
)

// stream is an open watch response read line by line.
type stream struct {
	res *http.Response
	r   *bufio.Reader
}

func openWatch(t *testing.T, ts *apitest.Server, query string, header map[string]string) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	req, err := newRequest(ctx, ts, request{method: "GET", path: "/v1/watch" + query, header: header})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("watch: status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	return &stream{res: res, r: bufio.NewReader(res.Body)}
}

// next reads one event, skipping comments, as a Change built from its id
// and data; event is its event field.
func (s *stream) next(t *testing.T) (c api.Change, event string) {
	t.Helper()
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("read event: %v (so far %q)", err, line)
		}
		line = strings.TrimSuffix(line, "\n")
		field, value, _ := strings.Cut(line, ": ")
		switch {
		case line == "":
			if c.Cursor != "" {
				return c, event
			}
		case strings.HasPrefix(line, ":"):
		case field == "id":
			c.Cursor = value
		case field == "event":
			event = value
		case field == "data":
			if err := json.Unmarshal([]byte(value), &c.Record); err != nil {
				t.Fatalf("event data %q: %v", value, err)
			}
		default:
			t.Fatalf("unexpected line %q", line)
		}
	}
}

// comment reads up to the next comment line.
func (s *stream) comment(t *testing.T) string {
	t.Helper()
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if strings.HasPrefix(line, ":") {
			return strings.TrimSpace(line)
		}
	}
}

func describe(c api.Change) string {
	if c.Deleted {
		return fmt.Sprintf("del %s/%s", c.NS, c.Key)
	}
	return fmt.Sprintf("put %s/%s %s", c.NS, c.Key, c.Value)
}

func TestWatch(t *testing.T) {
	ts, _ := newServer(t)
	put(t, ts, "/v1/records/tasks/old", `0`)

	// The stream starts at the head: the old write is not replayed. Once
	// the headers are in, every later commit is sent.
	s := openWatch(t, ts, "?ns=tasks", nil)
	v := put(t, ts, "/v1/records/tasks/a", `{"x":"<&>"}`)
	// The feed keeps each key's latest change only, so a watcher that
	// falls behind skips a put overwritten since: read it before the delete.
	first, event := s.next(t)
	if event != "change" || describe(first) != `put tasks/a {"x":"<&>"}` || first.Version != v {
		t.Fatalf("first event %q: %s at %+v", event, describe(first), first.Version)
	}
	put(t, ts, "/v1/records/notes/n", `1`)
	dv := del(t, ts, "/v1/records/tasks/a")
	second, _ := s.next(t)
	if describe(second) != "del tasks/a" || second.Version != dv || second.Value != nil {
		t.Fatalf("second event %s %+v", describe(second), second)
	}

	// Resuming from the first event's id replays what followed it.
	resumed := openWatch(t, ts, "?ns=tasks", map[string]string{"Last-Event-ID": first.Cursor})
	if c, _ := resumed.next(t); describe(c) != "del tasks/a" || c.Cursor != second.Cursor {
		t.Fatalf("resumed at %s: %s (cursor %s)", first.Cursor, describe(c), c.Cursor)
	}
	// ?since= does the same, and without ns every namespace comes.
	all := openWatch(t, ts, "?since=0", nil)
	var got []string
	for range 3 {
		c, _ := all.next(t)
		got = append(got, describe(c))
	}
	if strings.Join(got, ", ") != "put tasks/old 0, put notes/n 1, del tasks/a" {
		t.Fatalf("watch since=0: %q", got)
	}
}

func TestWatchHeartbeat(t *testing.T) {
	ts, _ := newServer(t, func(c *api.Config) { c.Heartbeat = time.Millisecond })
	s := openWatch(t, ts, "", nil)
	if c := s.comment(t); c != ": heartbeat" {
		t.Fatalf("comment %q", c)
	}
	// A change still arrives between heartbeats.
	put(t, ts, "/v1/records/a/b", `true`)
	if c, _ := s.next(t); describe(c) != "put a/b true" {
		t.Fatalf("event %s", describe(c))
	}
}

func TestWatchManyChanges(t *testing.T) {
	ts, b := newServer(t)
	s := openWatch(t, ts, "", nil)
	// More than one feed batch, committed in one go.
	const n = 600
	for i := range n {
		if _, err := b.Put(context.Background(), "bulk", fmt.Sprintf("k%04d", i), []byte(`1`)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		c, _ := s.next(t)
		if want := fmt.Sprintf("k%04d", i); c.Key != want {
			t.Fatalf("event %d is %s, want %s", i, c.Key, want)
		}
	}
	// Closing the stream leaves the server serving.
	s.res.Body.Close()
	put(t, ts, "/v1/records/a/b", `1`)
}
