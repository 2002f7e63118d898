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

// maxDials bounds concurrent background dials, whatever mDNS reports.
const maxDials = 8

// dialAsync dials ai in the background unless a dial to it is already under
// way or maxDials are; the next browse or redial round tries again.
func (n *Node) dialAsync(ai peer.AddrInfo, src Source) {
	if !n.dials.start(ai.ID) {
		return
	}
	if !n.bg.spawn(func() {
		defer n.dials.done(ai.ID)
		if err := n.dial(n.ctx, ai, src); err != nil && n.ctx.Err() == nil {
			n.log.Debug("dial failed", "peer", ai.ID, "source", src, "err", err)
		}
	}) {
		n.dials.done(ai.ID)
	}
}

// dialSet tracks dials under way.
type dialSet struct {
	mu  sync.Mutex
	set map[peer.ID]struct{}
}

func (d *dialSet) start(p peer.ID) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, busy := d.set[p]; busy || len(d.set) >= maxDials {
		return false
	}
	if d.set == nil {
		d.set = map[peer.ID]struct{}{}
	}
	d.set[p] = struct{}{}
	return true
}

func (d *dialSet) done(p peer.ID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.set, p)
}
