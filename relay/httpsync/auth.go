package httpsync

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Sentinel errors an Auth returns, wrapped or not.
var (
	// ErrUnauthorized refuses a missing, wrong or revoked token.
	ErrUnauthorized = errors.New("missing, wrong or revoked bearer token")
	// ErrRateLimited refuses a source that failed too often recently.
	ErrRateLimited = errors.New("too many failed attempts from this address")
)

// DefaultRetryAfter is the wait a 429 suggests when the Auth names none.
const DefaultRetryAfter = 5 * time.Second

// RateLimitedError is an ErrRateLimited that says when to retry.
type RateLimitedError struct {
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("%v: retry in %v", ErrRateLimited, e.RetryAfter)
}

// Unwrap makes errors.Is(err, ErrRateLimited) hold.
func (e *RateLimitedError) Unwrap() error { return ErrRateLimited }

// Auth checks a client's bearer token.
type Auth interface {
	// Authenticate returns the name of the client token belongs to. source
	// is the address the request came from; an implementation limits
	// failed attempts per source before any costly hashing, and then
	// returns an error wrapping ErrRateLimited (a *RateLimitedError to name
	// the wait). A bad, unknown or revoked token returns an error wrapping
	// ErrUnauthorized; any other error is a failure of the Auth itself.
	// It is called concurrently and should not block for long.
	Authenticate(ctx context.Context, token, source string) (client string, err error)
}

// authenticate names the client of r, or returns a *requestError.
func (h *handler) authenticate(r *http.Request) (string, error) {
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		return "", unauthorized()
	}
	client, err := h.auth.Authenticate(r.Context(), token, source(r))
	var rle *RateLimitedError
	switch {
	case err == nil:
		return client, nil
	case errors.As(err, &rle):
		return "", rateLimited(rle.RetryAfter)
	case errors.Is(err, ErrRateLimited):
		return "", rateLimited(DefaultRetryAfter)
	case errors.Is(err, ErrUnauthorized):
		return "", unauthorized()
	default:
		return "", fmt.Errorf("sync auth: %w", err)
	}
}

// bearer extracts the token of an Authorization header.
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// source is the host of the peer that sent r. X-Forwarded-For is ignored:
// anyone can set it, so behind a proxy every client shares the proxy's
// address.
func source(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
