package relay

import (
	"sync"
	"time"

	"github.com/syncnode/syncnode/crdt"
)

// checkpointEvery is the period of feed checkpoints.
const checkpointEvery = 5 * time.Second

// checkpoints translate a thin client's cursor into a version vector. A
// checkpoint pairs the relay's vector with a feed head read after it, so
// every write the vector counts lies at or below that head: a client that
// has pulled up to the head has seen all of them. A thin client's
// acknowledged vector is then the newest checkpoint at or below its cursor,
// which lets collection treat thin clients like devices.
type checkpoints struct {
	mu   sync.Mutex
	ring []checkpoint
	next int
}

type checkpoint struct {
	head uint64
	vec  crdt.Vector
}

func newCheckpoints(n int) *checkpoints { return &checkpoints{ring: make([]checkpoint, 0, n)} }

// add records a checkpoint; vec must have been read before head.
func (c *checkpoints) add(head uint64, vec crdt.Vector) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := checkpoint{head: head, vec: vec}
	if len(c.ring) < cap(c.ring) {
		c.ring = append(c.ring, cp)
		return
	}
	c.ring[c.next] = cp
	c.next = (c.next + 1) % len(c.ring)
}

// at returns the vector of the newest checkpoint whose head is at most
// cursor, and false if there is none.
func (c *checkpoints) at(cursor uint64) (crdt.Vector, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var best *checkpoint
	for i := range c.ring {
		cp := &c.ring[i]
		if cp.head <= cursor && (best == nil || cp.head > best.head) {
			best = cp
		}
	}
	if best == nil {
		return nil, false
	}
	return best.vec.Clone(), true
}

func (r *Relay) checkpoint() {
	st := r.node.Store()
	vec := st.Vector()
	r.marks.add(st.Stats().FeedHead, vec)
}

// dropRefused closes the connections of devices whose token has expired
// since they connected (revocation closes them at once by itself).
func (r *Relay) dropRefused() {
	net := r.node.Host().Network()
	for _, p := range net.Peers() {
		if r.reg.Refused(p) {
			r.log.Info("device token expired", "peer", p)
			_ = net.ClosePeer(p)
		}
	}
}

// checkpointLoop also enforces token expiry, on the same period.
func (r *Relay) checkpointLoop() {
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		r.checkpoint()
		r.dropRefused()
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		}
	}
}
