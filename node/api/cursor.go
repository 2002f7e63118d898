package api

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// cursorNow asks for the feed's current head: only later changes.
const cursorNow = "now"

// parseCursor reads a since parameter: a decimal feed position, or "now".
// An empty value means dflt.
func (s *Server) parseCursor(v, dflt string) (uint64, error) {
	if v == "" {
		v = dflt
	}
	if v == cursorNow {
		return s.head()
	}
	pos, err := strconv.ParseUint(v, 10, 64)
	// The largest position is refused: nothing can follow it.
	if err != nil || pos == math.MaxUint64 {
		return 0, badRequest("malformed cursor %q", v)
	}
	return pos, nil
}

// head returns the position of the latest change in the feed. The Backend
// has no accessor for it, but the feed always holds an entry at the head,
// so Changes(s) is empty exactly when s >= head. An exponential then binary
// search finds it in about 2·log2(head) one-entry reads.
func (s *Server) head() (uint64, error) {
	empty := func(since uint64) (bool, error) {
		page, _, err := s.b.Changes(since, "", 1)
		if err != nil {
			return false, fmt.Errorf("find feed head: %w", err)
		}
		return len(page) == 0, nil
	}
	// Invariant: every position below lo is followed by a change.
	lo, hi := uint64(0), uint64(0)
	for {
		done, err := empty(hi)
		if err != nil {
			return 0, err
		}
		if done {
			break
		}
		if hi >= math.MaxUint64/2 {
			return 0, fmt.Errorf("find feed head: position beyond %d", hi)
		}
		lo, hi = hi+1, 2*hi+1
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		done, err := empty(mid)
		if err != nil {
			return 0, err
		}
		if done {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

// parseLimit reads a page size: DefaultListLimit when absent, else 1 to
// MaxListLimit.
func parseLimit(v string) (int, error) {
	if v == "" {
		return DefaultListLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxListLimit {
		return 0, badRequest("limit %q must be an integer from 1 to %d", v, MaxListLimit)
	}
	return n, nil
}

// parseWait reads a long-poll wait: a Go duration ("30s") or whole seconds
// ("30"); absent means no wait.
func parseWait(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(secs) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, badRequest("wait %q must be a duration such as 30s", v)
	}
	return d, nil
}

// extendWriteDeadline lets a long-lived response outlast a server-wide
// WriteTimeout while still dropping a client that stops reading.
func extendWriteDeadline(rc *http.ResponseController, d time.Duration) {
	// Writers that cannot set deadlines (test recorders) have no timeout
	// to outlast either.
	_ = rc.SetWriteDeadline(time.Now().Add(d))
}
