package node

import (
	"errors"
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

// RequestSync starts an anti-entropy pull from p in the background, as a
// new connection does; a relay calls it once p has paired.
func (n *Node) RequestSync(p peer.ID) { n.requestSync(p, "requested") }

// requestSync starts an anti-entropy pull from p in the background. The
// anti-entropy service runs at most one session per peer, so bursts of
// requests (a gap seen in many messages) collapse into one.
func (n *Node) requestSync(p peer.ID, why string) {
	if n.syncsWith(p) {
		n.bg.Go(func() { n.pull(p, why) })
	}
}

// requestSyncWhenQuiet is requestSync once gossip has paused (see
// maxGapWait), for a routine pull that gossip in flight may make moot. One
// such pull waits per peer at most: requests while it waits join it.
func (n *Node) requestSyncWhenQuiet(p peer.ID, why string) {
	if !n.syncsWith(p) || !n.quietPulls.add(p) {
		return
	}
	if !n.bg.Go(func() {
		defer n.quietPulls.remove(p)
		if n.awaitGossipQuiet() {
			n.pull(p, why)
		}
	}) {
		n.quietPulls.remove(p)
	}
}

// syncsWith reports whether p is another node this one may pull from.
func (n *Node) syncsWith(p peer.ID) bool {
	return p != n.host.ID() && n.admit.AdmitPeer(p)
}

// pull runs one anti-entropy pull from p and records its outcome.
func (n *Node) pull(p peer.ID, why string) {
	res, err := n.syncRetryingBusy(p)
	n.synced(p, err)
	if err != nil {
		if n.ctx.Err() == nil {
			n.log.Debug("anti-entropy failed", "peer", p, "why", why, "err", err)
		}
		return
	}
	if res.RecordsApplied > 0 {
		n.log.Info("anti-entropy caught up", "peer", p, "why", why, "applied", res.RecordsApplied)
	}
}

// busyRetries and busyBackoff bound the retries of a pull that a busy peer
// refused: when many devices ask a relay at once (all of them finishing
// the same burst), the ones turned away come back within a few seconds,
// spread out, rather than at their next timed round.
const (
	busyRetries = 5
	busyBackoff = 250 * time.Millisecond
)

// syncRetryingBusy pulls from p, retrying after a jittered, doubling pause
// while p answers that it is busy.
func (n *Node) syncRetryingBusy(p peer.ID) (antientropy.Result, error) {
	wait := busyBackoff
	for try := 0; ; try++ {
		res, err := n.ae.Sync(n.ctx, p)
		if !errors.Is(err, antientropy.ErrBusy) || try == busyRetries {
			return res, err
		}
		select {
		case <-n.ctx.Done():
			return res, err
		case <-time.After(wait/2 + rand.N(wait)):
		}
		wait *= 2
	}
}

// synced records the outcome of one pull from p in the peer table.
// After a restore from backup, the first completed pull lifts the hold on
// local writes: the node has then merged back whatever newer writes of its
// own that peer held, so its seq counter is past them.
func (n *Node) synced(p peer.ID, err error) {
	n.peers.synced(p, time.Now(), err)
	if err == nil && n.store.Restored() {
		if err := n.store.ClearRestored(n.ctx); err != nil {
			n.log.Error("could not lift the post-restore write hold", "err", err)
			return
		}
		n.log.Info("synced after a restore: local writes are open again", "peer", p)
	}
}

// gapGrace is how long a gap in an origin's seqs may stay open, with no
// gossip arriving, before it costs a pull. Writes committed concurrently are
// published in whatever order their writers return, and a burst is applied
// behind a queue, so most gaps close by themselves; a pull at once would
// resend everything above the gap.
const gapGrace = 250 * time.Millisecond

// maxGapWait bounds how long steady gossip can defer a pull for a gap, or
// after a relay exchange. A busy stream, such as a relay passing on many
// devices' writes, is often seconds behind the writes; a pull in the
// middle of it resends everything still queued, twice the work for a
// device already short of CPU. So the pull waits for a lull, up to the
// timed round's period, which a lost message could wait anyway.
const maxGapWait = DefaultSyncInterval

// onGap schedules a pull from the peer whose gossip showed a gap, once
// gossip has been quiet for gapGrace (or maxGapWait has passed) and the
// store still has a gap. One check is pending at most: every forwarder of
// a burst reports the same gap, and one pull fills it.
func (n *Node) onGap(from peer.ID) {
	if !n.gapPending.CompareAndSwap(false, true) {
		return
	}
	if !n.bg.Go(func() {
		defer n.gapPending.Store(false)
		if n.awaitGossipQuiet() && n.store.Gaps() {
			_, err := n.ae.Sync(n.ctx, from)
			n.synced(from, err)
		}
	}) {
		n.gapPending.Store(false)
	}
}

// awaitGossipQuiet waits until no gossip message arrived for gapGrace, or
// maxGapWait passed. It reports false if the node is closing.
func (n *Node) awaitGossipQuiet() bool {
	t := time.NewTicker(gapGrace)
	defer t.Stop()
	deadline := time.Now().Add(maxGapWait)
	seen := n.gossip.Stats().ReceivedMessages
	for {
		select {
		case <-n.ctx.Done():
			return false
		case <-t.C:
		}
		now := n.gossip.Stats().ReceivedMessages
		if now == seen || time.Now().After(deadline) {
			return true
		}
		seen = now
	}
}

// syncLoop pulls from connected peers that differ, on a jittered timer so
// peers started together do not sync in lockstep.
func (n *Node) syncLoop(interval time.Duration) {
	for {
		jittered := interval/2 + rand.N(interval)
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(jittered):
		}
		// A pull mid-burst resends everything above our contiguous
		// vector, most of it already queued in gossip: wait for a lull.
		if !n.awaitGossipQuiet() {
			return
		}
		n.pullDiffering()
	}
}

// pullDiffering pulls from connected peers one at a time, skipping those
// whose digest already equals ours, and reports whether any differed.
// After the first pull that brings us up to date the rest usually match,
// so a round costs one transfer, not one per peer.
func (n *Node) pullDiffering() (differed bool) {
	for _, p := range n.host.Network().Peers() {
		if !n.admit.AdmitPeer(p) {
			continue
		}
		if same, err := n.InSyncWith(n.ctx, p); err == nil && same {
			n.peers.synced(p, time.Now(), nil)
			continue
		}
		if n.ctx.Err() != nil {
			return differed
		}
		differed = true
		_, err := n.ae.Sync(n.ctx, p)
		n.synced(p, err)
	}
	return differed
}

// onJoin pulls from a peer as soon as it subscribes to the group's topic: a
// (re)connected peer is the one most likely to differ, and whatever it
// wrote before it knew of us reached us by no gossip. Waiting for the
// subscription rather than the connection means the pull's snapshot is
// taken after every such write. A device's relay wants the pairing
// exchange first: its join runs another exchange, which pulls after.
func (n *Node) onJoin(p peer.ID) {
	if p == relayPeer(n.cfg.Relay) {
		n.kickRelay()
		return
	}
	n.requestSync(p, "joined")
}

// connNotifee records each peer as the first connection to it opens, and
// starts the relay exchange when that peer is the relay.
type connNotifee struct{ n *Node }

var _ network.Notifiee = connNotifee{}

func (c connNotifee) Connected(net network.Network, conn network.Conn) {
	p := conn.RemotePeer()
	if c.n.members.RevokedPeer(p) {
		// A host built without memberGater (New's caller chose the host)
		// still drops a revoked device at once.
		go net.ClosePeer(p)
		return
	}
	if len(net.ConnsToPeer(p)) > 1 || conn.Stat().Limited {
		// A limited (relayed) connection carries no sync: the relay
		// itself does, and hole punching may yet open a direct one.
		return
	}
	c.n.peers.saw(p, SourceInbound)
	if p == relayPeer(c.n.cfg.Relay) {
		c.n.kickRelay()
	}
}

// Disconnected wakes the relay link when the last connection to the relay
// closes, so the device redials at once rather than at its next exchange.
func (c connNotifee) Disconnected(net network.Network, conn network.Conn) {
	if p := relayPeer(c.n.cfg.Relay); p != "" && conn.RemotePeer() == p && len(net.ConnsToPeer(p)) == 0 {
		c.n.kickRelay()
	}
}
func (connNotifee) Listen(network.Network, ma.Multiaddr)      {}
func (connNotifee) ListenClose(network.Network, ma.Multiaddr) {}
