package httpsync

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/store"
)

// requestError refuses a whole request, with the status to answer.
// Nothing of the request has been applied.
type requestError struct {
	status     int
	msg        string
	retryAfter time.Duration // sent as Retry-After when positive
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, a ...any) error {
	return &requestError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, a...)}
}

func unauthorized() error {
	return &requestError{status: http.StatusUnauthorized, msg: ErrUnauthorized.Error()}
}

func rateLimited(wait time.Duration) error {
	return &requestError{status: http.StatusTooManyRequests, msg: ErrRateLimited.Error(), retryAfter: wait}
}

func gone(format string, a ...any) error {
	return &requestError{status: http.StatusGone, msg: fmt.Sprintf(format, a...)}
}

// fail answers err as {"error": ...}. A store that is closing or waits for
// its first sync after a restore, or a client that left, is a 503; anything unforeseen is a 500 whose details stay in the
// log, since the relay faces the internet.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var re *requestError
	switch {
	case errors.As(err, &re):
		if re.retryAfter > 0 {
			secs := int(math.Ceil(re.retryAfter.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
		}
		if re.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="syncnode"`)
		}
		api.WriteJSON(w, re.status, api.Error{Error: re.msg})
	case errors.Is(err, store.ErrClosed), errors.Is(err, store.ErrRestored),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), r.Context().Err() != nil:
		api.WriteJSON(w, http.StatusServiceUnavailable, api.Error{Error: "relay unavailable, retry later: " + err.Error()})
	default:
		h.log.Error("sync request failed", "path", r.URL.Path, "remote", source(r), "err", err)
		api.WriteJSON(w, http.StatusInternalServerError, api.Error{Error: "internal error; the relay's log has the details"})
	}
}

// notAllowed answers 405 with the methods the path takes.
func notAllowed(w http.ResponseWriter, r *http.Request, allow ...string) {
	w.Header().Set("Allow", strings.Join(allow, ", "))
	api.WriteJSON(w, http.StatusMethodNotAllowed, api.Error{Error: fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path)})
}
