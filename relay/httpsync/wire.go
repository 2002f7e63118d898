package httpsync

import (
	"encoding/json"

	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/store"
)

// Request and page limits of POST /v1/sync.
const (
	// DefaultLimit is how many changes a response holds at most when the
	// request names no limit.
	DefaultLimit = 1000
	// MaxLimit is the largest limit a request may name.
	MaxLimit = 5000
	// MaxChanges is the most changes one request may push.
	MaxChanges = 5000
	// DefaultMaxBodyBytes bounds a request body when Config names no bound.
	DefaultMaxBodyBytes = 8 << 20
)

// SyncRequest is the body of POST /v1/sync.
type SyncRequest struct {
	// Since is the last server sequence number the client has seen; 0 pulls
	// from the start.
	Since uint64 `json:"since"`
	// Limit caps the changes returned; 0 means DefaultLimit.
	Limit int `json:"limit,omitempty"`
	// Changes are the client's writes, applied before the pull.
	Changes []Push `json:"changes,omitempty"`
}

// Push is one write a client sends.
type Push struct {
	NS  string `json:"ns"`
	Key string `json:"key"`
	// Value is any JSON value; absent for a deletion.
	Value   json.RawMessage `json:"value,omitempty"`
	Deleted bool            `json:"deleted,omitempty"`
	// HLC is the client's own stamp, a decimal uint64; empty lets the relay
	// stamp the write.
	HLC string `json:"hlc,omitempty"`
}

// SyncResponse answers POST /v1/sync.
type SyncResponse struct {
	// ServerSeq is the since of the client's next request.
	ServerSeq uint64 `json:"server_seq"`
	// Changes are the current records changed after the request's since,
	// oldest first.
	Changes []Change `json:"changes"`
	// Rejected lists the pushed changes that were refused.
	Rejected []Rejection `json:"rejected"`
	// More reports that further changes follow ServerSeq.
	More bool `json:"more"`
}

// Change is a record as the relay holds it and the server sequence number
// at which it last changed.
type Change struct {
	api.Record
	ServerSeq uint64 `json:"server_seq"`
}

// Rejection says why one pushed change was refused.
type Rejection struct {
	// Index is the change's position in the request's changes.
	Index  int    `json:"index"`
	NS     string `json:"ns"`
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

// Health answers GET /healthz.
type Health struct {
	Status string `json:"status"`
}

func fromChange(c store.Change) Change {
	return Change{Record: api.FromRecord(c.Record), ServerSeq: c.Pos}
}
