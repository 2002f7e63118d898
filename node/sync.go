package node

import (
	"math/rand/v2"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/syncnode/syncnode/node/antientropy"
)

// DefaultSyncInterval is the mean period between background anti-entropy
// rounds with every connected peer. Gossip carries changes in milliseconds;
// this timer only bounds how long a lost message can stay missing.
const DefaultSyncInterval = 30 * time.Second

// requestSync starts an anti-entropy pull from p in the background. The
// anti-entropy service runs at most one session per peer, so bursts of
// requests (a gap seen in many messages) collapse into one.
func (n *Node) requestSync(p peer.ID, why string) {
	if p == n.host.ID() {
		return
	}
	n.bg.spawn(func() {
		res, err := n.ae.Sync(n.ctx, p)
		n.synced(p, res, err)
		if err != nil {
			if n.ctx.Err() == nil {
				n.log.Debug("anti-entropy failed", "peer", p, "why", why, "err", err)
			}
			return
		}
		if res.RecordsApplied > 0 {
			n.log.Info("anti-entropy caught up", "peer", p, "why", why, "applied", res.RecordsApplied)
		}
	})
}

// synced records the outcome of one pull from p.
func (n *Node) synced(p peer.ID, res antientropy.Result, err error) {
	n.aeStats.add(res, err)
	n.peers.synced(p, time.Now(), err)
}

// gapGrace is how long a gap in an origin's seqs may stay open before it
// costs a pull. Writes committed concurrently are published in whatever
// order their writers return, so most gaps close by themselves within
// milliseconds; pulling at once would resend everything above the gap.
const gapGrace = 250 * time.Millisecond

// onGap schedules a pull from the peer whose gossip showed a gap, if the
// store still has one after gapGrace. One check per peer is pending at most.
func (n *Node) onGap(from peer.ID) {
	if !n.gaps.add(from) {
		return
	}
	if !n.bg.spawn(func() {
		defer n.gaps.remove(from)
		t := time.NewTimer(gapGrace)
		defer t.Stop()
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		if n.store.Gaps() {
			n.requestSync(from, "gap")
		}
	}) {
		n.gaps.remove(from)
	}
}

// syncLoop pulls from every connected peer on a jittered timer, so peers
// started together do not sync in lockstep.
func (n *Node) syncLoop(interval time.Duration) {
	for {
		jittered := interval/2 + rand.N(interval)
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(jittered):
		}
		for _, p := range n.host.Network().Peers() {
			n.requestSync(p, "timer")
		}
	}
}

// connNotifee pulls from each peer as soon as the first connection to it
// opens: a (re)connected peer is exactly the one most likely to differ.
type connNotifee struct{ n *Node }

var _ network.Notifiee = connNotifee{}

func (c connNotifee) Connected(net network.Network, conn network.Conn) {
	p := conn.RemotePeer()
	if len(net.ConnsToPeer(p)) > 1 {
		return
	}
	c.n.peers.saw(p, SourceInbound)
	c.n.requestSync(p, "connected")
}

func (connNotifee) Disconnected(network.Network, network.Conn) {}
func (connNotifee) Listen(network.Network, ma.Multiaddr)       {}
func (connNotifee) ListenClose(network.Network, ma.Multiaddr)  {}
