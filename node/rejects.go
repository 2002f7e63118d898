package node

import (
	"errors"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
)

// rejectCounter counts refused input by reason, and by sending peer, for
// status and metrics.
type rejectCounter struct {
	mu       sync.Mutex
	byReason map[string]uint64
	byPeer   map[peer.ID]uint64
}

func newRejectCounter() *rejectCounter {
	return &rejectCounter{byReason: map[string]uint64{}, byPeer: map[peer.ID]uint64{}}
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
	default:
		return "other"
	}
}

func (c *rejectCounter) add(p peer.ID, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byReason[reason(err)]++
	c.byPeer[p]++
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
