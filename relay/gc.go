package relay

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/store"
)

// quorum is what collection needs from the registry.
type quorum interface {
	Quorum(horizon time.Duration) (q crdt.Vector, minCursor uint64, expired []string)
	MarkResync(names []string) error
}

// collector collects tombstones every active device has seen. A device is
// active if it acknowledged within the horizon; one away longer does not
// hold collection back, and is marked to resync instead, so it cannot
// bring a collected deletion back.
type collector struct {
	store   *store.Store
	reg     quorum
	horizon time.Duration
	log     *slog.Logger

	mu   sync.Mutex
	last crdt.Vector // the quorum of the last collection, sent to devices
}

// collect runs one collection and returns the tombstones removed.
func (c *collector) collect(ctx context.Context) (int, error) {
	q, _, expired := c.reg.Quorum(c.horizon)
	if len(q) == 0 {
		return 0, nil
	}
	n, err := c.store.Collect(ctx, q)
	if err != nil {
		return n, err
	}
	c.mu.Lock()
	c.last = q
	c.mu.Unlock()
	if n > 0 && len(expired) > 0 {
		if err := c.reg.MarkResync(expired); err != nil {
			return n, err
		}
		c.log.Info("devices away past the horizon must resync", "devices", expired)
	}
	if n > 0 {
		c.log.Info("collected tombstones", "count", n)
	}
	return n, nil
}

// vector is the quorum devices may collect under.
func (c *collector) vector() crdt.Vector {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last.Clone()
}

// Collect runs one tombstone collection now, as the timer does.
func (r *Relay) Collect(ctx context.Context) (int, error) { return r.gc.collect(ctx) }

func (r *Relay) gcLoop() {
	t := time.NewTicker(r.opts.GCInterval)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		}
		r.reconcileRevocations()
		if _, err := r.gc.collect(r.ctx); err != nil && r.ctx.Err() == nil {
			r.log.Error("tombstone collection failed", "err", err)
		}
	}
}
