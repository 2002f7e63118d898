package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/syncnode/syncnode/store"
)

// watchBatch is how many feed entries a watch stream reads at a time.
const watchBatch = 256

// watch serves GET /v1/watch as server-sent events: one "change" event per
// feed entry, its id the cursor after it, its data the record as JSON. The
// stream starts after the Last-Event-ID header, else after ?since=, else at
// the current head, and runs until the client leaves or the server stops.
func (s *Server) watch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ns, err := nsFilter(q.Get("ns"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	from := r.Header.Get("Last-Event-ID")
	if from == "" {
		from = q.Get("since")
	}
	since, err := s.parseCursor(from, cursorNow)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// Flushing the headers tells the client the stream is live: every change
	// committed from now on will be sent.
	if err := s.flush(rc, r); err != nil {
		return
	}
	heartbeat := time.NewTicker(s.heartbeat)
	defer heartbeat.Stop()
	var ev bytes.Buffer
	for {
		changed := s.b.Changed()
		page, next, err := s.b.Changes(since, ns, watchBatch)
		if err != nil {
			if r.Context().Err() == nil {
				s.log.Error("watch stream ended", "err", err)
			}
			return
		}
		for _, c := range page {
			ev.Reset()
			if err := appendEvent(&ev, c); err != nil {
				s.log.Error("watch stream ended", "err", err)
				return
			}
			if err := s.send(w, rc, r, ev.Bytes()); err != nil {
				return
			}
		}
		since = next
		if len(page) == watchBatch {
			continue
		}
		select {
		case <-changed:
		case <-heartbeat.C:
			if err := s.send(w, rc, r, []byte(": heartbeat\n\n")); err != nil {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}

// appendEvent writes c as one SSE event. Compact JSON holds no newline, so
// the record fits one data line.
func appendEvent(buf *bytes.Buffer, c store.Change) error {
	fmt.Fprintf(buf, "id: %d\nevent: change\ndata: ", c.Pos)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(FromRecord(c.Record)); err != nil {
		return fmt.Errorf("encode change %d: %w", c.Pos, err)
	}
	buf.WriteByte('\n')
	return nil
}

// send writes and flushes one piece of the stream, giving the client
// writeGrace to take it.
func (s *Server) send(w http.ResponseWriter, rc *http.ResponseController, r *http.Request, b []byte) error {
	extendWriteDeadline(rc, writeGrace)
	if _, err := w.Write(b); err != nil {
		return err
	}
	return s.flush(rc, r)
}

func (s *Server) flush(rc *http.ResponseController, r *http.Request) error {
	if err := rc.Flush(); err != nil {
		if r.Context().Err() == nil {
			s.log.Warn("watch stream cannot flush", "err", err)
		}
		return err
	}
	return nil
}
