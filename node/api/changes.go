package api

import (
	"fmt"
	"net/http"
	"time"
)

// writeGrace is how long a client gets to take a response once it is
// being written.
const writeGrace = 30 * time.Second

// changes serves GET /v1/changes: the feed after since, oldest first. When
// nothing follows since and the request asks to wait, it waits for a commit,
// up to the wait or MaxLongPoll, and then answers with no changes and a
// cursor that is still valid.
func (s *Server) changes(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ns, err := nsFilter(q.Get("ns"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	limit, err := parseLimit(q.Get("limit"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	wait, err := parseWait(q.Get("wait"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	since, err := s.parseCursor(q.Get("since"), "0")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	wait = min(wait, s.maxLongPoll)
	extendWriteDeadline(http.NewResponseController(w), wait+writeGrace)
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		// Take the channel before reading, so a commit between the read
		// and the wait still wakes us.
		changed := s.b.Changed()
		page, next, err := s.b.Changes(since, ns, limit)
		if err != nil {
			s.fail(w, r, fmt.Errorf("changes: %w", err))
			return
		}
		since = next
		if len(page) > 0 || timeout == nil {
			res := ChangesResponse{Changes: make([]Change, len(page)), Cursor: FormatCursor(since)}
			for i, c := range page {
				res.Changes[i] = FromChange(c)
			}
			WriteJSON(w, http.StatusOK, res)
			return
		}
		select {
		case <-changed:
		case <-timeout:
			timeout = nil
		case <-r.Context().Done():
			s.fail(w, r, fmt.Errorf("changes: %w", r.Context().Err()))
			return
		}
	}
}
