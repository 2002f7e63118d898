package node

import (
	"context"
	"sync"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
)

// dial connects to p, first clearing libp2p's dial backoff: a peer that was
// just rediscovered must reconnect now, not after a backoff of up to minutes
// built while it was unreachable.
func (n *Node) dial(ctx context.Context, ai peer.AddrInfo, src Source) error {
	if ai.ID == n.host.ID() {
		return nil
	}
	// A static peer is listed even while unreachable: the user asked for
	// it. Any other is listed only once the private-network handshake has
	// proved it a group member, so fake mDNS adverts fill no table.
	if src == SourceStatic {
		n.peers.saw(ai.ID, src)
	}
	if n.host.Network().Connectedness(ai.ID) == network.Connected {
		n.peers.saw(ai.ID, src)
		return nil
	}
	if sw, ok := n.host.Network().(*swarm.Swarm); ok {
		sw.Backoff().Clear(ai.ID)
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	if err := n.host.Connect(ctx, ai); err != nil {
		return err
	}
	n.peers.saw(ai.ID, src)
	return nil
}

// maxPending bounds concurrent background dials (and pending gap checks),
// whatever mDNS or gossip reports.
const maxPending = 8

// dialAsync dials ai in the background unless a dial to it is already under
// way or maxPending are; the next browse or redial round tries again.
func (n *Node) dialAsync(ai peer.AddrInfo, src Source) {
	if !n.dials.add(ai.ID) {
		return
	}
	if !n.bg.Go(func() {
		defer n.dials.remove(ai.ID)
		if err := n.dial(n.ctx, ai, src); err != nil && n.ctx.Err() == nil {
			n.log.Debug("dial failed", "peer", ai.ID, "source", src, "err", err)
		}
	}) {
		n.dials.remove(ai.ID)
	}
}

// pendingSet is a set of peers with work under way, bounded in size.
type pendingSet struct {
	mu  sync.Mutex
	set map[peer.ID]struct{}
}

// add reports whether p was added: false if it is already there or the set
// holds maxPending peers.
func (d *pendingSet) add(p peer.ID) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, busy := d.set[p]; busy || len(d.set) >= maxPending {
		return false
	}
	if d.set == nil {
		d.set = map[peer.ID]struct{}{}
	}
	d.set[p] = struct{}{}
	return true
}

func (d *pendingSet) remove(p peer.ID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.set, p)
}
