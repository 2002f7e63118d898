package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/syncnode/syncnode/node/api"
)

// Sentinel errors, matched with errors.Is against an *Error.
var (
	// ErrNotFound matches a 404: no such record, a deleted one, or an
	// unknown route.
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized matches a 401: the token is missing or wrong.
	ErrUnauthorized = errors.New("unauthorized")
)

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

// Error is a non-2xx answer from the API.
type Error struct {
	Status  int    // HTTP status code
	Message string // the API's {"error": ...} text
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status)
}

// Is matches ErrNotFound and ErrUnauthorized by status.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	}
	return false
}

// readError turns an error response into an *Error, taking the message from
// an {"error": ...} body if there is one.
func readError(res *http.Response) *Error {
	body, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
	var e api.Error
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	if msg == "" {
		msg = http.StatusText(res.StatusCode)
	}
	return &Error{Status: res.StatusCode, Message: msg}
}
