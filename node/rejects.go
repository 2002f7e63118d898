package node

import (
	"errors"
	"sync"

	"github.com/syncnode/syncnode/crdt"
)

// rejectCounter counts refused input by reason, for status and metrics;
// the peer table counts it by sender.
type rejectCounter struct {
	mu       sync.Mutex
	byReason map[string]uint64
}

func newRejectCounter() *rejectCounter {
	return &rejectCounter{byReason: map[string]uint64{}}
}

// reason classifies a rejection for reporting.
func reason(err error) string {
	switch {
	case errors.Is(err, crdt.ErrClockSkew):
		return "clock_skew"
	case errors.Is(err, crdt.ErrInvalid):
		return "invalid"
	case errors.Is(err, crdt.ErrCorrupt):
		return "malformed"
	case errors.Is(err, crdt.ErrRevoked):
		return "revoked"
	default:
		return "other"
	}
}

func (c *rejectCounter) add(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byReason[reason(err)]++
}

func (c *rejectCounter) total() (byReason map[string]uint64, sum uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	byReason = make(map[string]uint64, len(c.byReason))
	for r, v := range c.byReason {
		byReason[r] = v
		sum += v
	}
	return byReason, sum
}
