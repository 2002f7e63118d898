package antientropy

import (
	"errors"
	"fmt"
)

// Sentinel errors.
var (
	// ErrClosed is returned by Sync once the service is closed.
	ErrClosed = errors.New("antientropy: service closed")
	// ErrRemote is wrapped by every error a responder reports in an error
	// frame.
	ErrRemote = errors.New("peer reported an error")
	// ErrBusy means the responder is already serving as many sessions as it
	// allows; retry later.
	ErrBusy = errors.New("peer busy")
	// ErrRefused means the responder does not admit this peer: a relay
	// syncs only with paired devices.
	ErrRefused = errors.New("peer refused to sync with us")
)

// Error codes carried by an error frame.
const (
	codeInternal   byte = 1
	codeBadRequest byte = 2
	codeBusy       byte = 3
	codeRefused    byte = 4
)

// RemoteError is an error frame received from a responder.
type RemoteError struct {
	Code byte
	Msg  string
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("%v (code %d): %q", ErrRemote, e.Code, e.Msg)
}

// Unwrap makes errors.Is hold for ErrRemote, and for ErrBusy when the
// responder was at its session limit.
func (e *RemoteError) Unwrap() []error {
	switch e.Code {
	case codeBusy:
		return []error{ErrRemote, ErrBusy}
	case codeRefused:
		return []error{ErrRemote, ErrRefused}
	}
	return []error{ErrRemote}
}
