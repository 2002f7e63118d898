package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/invite"
	"github.com/syncnode/syncnode/node/membership"
	"github.com/syncnode/syncnode/store"
)

// requestError is a failure whose HTTP status the handler already knows.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, a ...any) error {
	return &requestError{http.StatusBadRequest, fmt.Sprintf(format, a...)}
}

// statusOf maps an error to its HTTP status. Anything unforeseen is a 500.
func statusOf(err error) int {
	var re *requestError
	switch {
	case errors.As(err, &re):
		return re.status
	case errors.Is(err, crdt.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, store.ErrNotFound), errors.Is(err, membership.ErrUnknownDevice):
		return http.StatusNotFound
	case errors.Is(err, membership.ErrAmbiguousDevice):
		return http.StatusConflict
	case errors.Is(err, membership.ErrRevokesItself):
		return http.StatusBadRequest
	case errors.Is(err, membership.ErrSelfRevoked):
		return http.StatusForbidden
	case errors.Is(err, ErrCannotInvite):
		return http.StatusConflict
	case errors.Is(err, invite.ErrTooManyPending):
		return http.StatusTooManyRequests
	case errors.Is(err, invite.ErrTTL):
		return http.StatusBadRequest
	case errors.Is(err, store.ErrClosed), errors.Is(err, store.ErrRestored),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// fail answers r with err as {"error": ...}. Internal errors are logged, and
// their text is still returned: the API is local and its caller is the
// owner.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := statusOf(err)
	if code == http.StatusInternalServerError && r.Context().Err() != nil {
		// The server is stopping, or the client left: whatever the backend
		// said, it is unavailable now rather than broken.
		code = http.StatusServiceUnavailable
	}
	if code == http.StatusInternalServerError {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	WriteJSON(w, code, Error{Error: err.Error()})
}

// writeJSON answers with v as JSON. HTML escaping is off, so values come
// back byte for byte as stored.
// WriteJSON answers with v as JSON and the headers every syncnode API
// response carries. A value that cannot be encoded becomes a 500 error.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only a value that is not JSON (a corrupt stored one) gets here.
		code = http.StatusInternalServerError
		buf.Reset()
		enc.Encode(Error{Error: "encode response: " + err.Error()})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// methods maps the HTTP methods a route accepts to their handlers.
type methods map[string]http.HandlerFunc

func (m methods) serve(w http.ResponseWriter, r *http.Request) {
	if h, ok := m[r.Method]; ok {
		h(w, r)
		return
	}
	allow := make([]string, 0, len(m))
	for name := range m {
		allow = append(allow, name)
	}
	sort.Strings(allow)
	notAllowed(w, r, allow...)
}

// notAllowed answers 405 with the methods the path does take.
func notAllowed(w http.ResponseWriter, r *http.Request, allow ...string) {
	w.Header().Set("Allow", strings.Join(allow, ", "))
	WriteJSON(w, http.StatusMethodNotAllowed, Error{Error: fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path)})
}
