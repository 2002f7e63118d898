package api

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/syncnode/syncnode/crdt"
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
		return s.b.Head(), nil
	}
	pos, err := strconv.ParseUint(v, 10, 64)
	// The largest position is refused: nothing can follow it.
	if err != nil || pos == math.MaxUint64 {
		return 0, badRequest("malformed cursor %q", v)
	}
	return pos, nil
}

// nsFilter reads an optional ?ns= filter: empty means every namespace.
func nsFilter(ns string) (string, error) {
	if ns == "" {
		return "", nil
	}
	if err := crdt.ValidateNamespace(ns); err != nil {
		return "", err
	}
	return ns, nil
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
