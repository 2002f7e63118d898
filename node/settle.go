package node

import (
	"context"
	"time"
)

// settleDelay is how long gossip must be quiet, after traffic, before the
// node checks that it agrees with its peers; while it does not, it checks
// again after a pause that doubles up to maxSettleWait.
const (
	settleDelay   = time.Second
	maxSettleWait = 16 * time.Second
)

// settleLoop checks, each time gossip goes quiet after traffic, that the
// node agrees with its peers, and catches up until it does. A gap in an
// origin's seqs shows up only behind a later message: a message lost at
// the very end of a burst (a full queue on a busy peer) shows nothing, and
// would otherwise wait for the next timed round.
func (n *Node) settleLoop() {
	t := time.NewTicker(settleDelay)
	defer t.Stop()
	last, busy := n.gossipActivity(), false
	var unsettled bool
	var retryAt time.Time
	wait := settleDelay
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		if now := n.gossipActivity(); now != last {
			last, busy = now, true
			continue
		}
		if !busy && !(unsettled && time.Now().After(retryAt)) {
			continue
		}
		busy = false
		if unsettled = !n.settle(); unsettled {
			retryAt = time.Now().Add(wait)
			wait = min(2*wait, maxSettleWait)
		} else {
			wait = settleDelay
		}
	}
}

// gossipActivity counts the messages gossip has sent and received.
func (n *Node) gossipActivity() uint64 {
	s := n.gossip.Stats()
	return s.PublishedMessages + s.ReceivedMessages
}

// settle compares the node's state with its peers' after a burst and
// reports whether they agreed. A device with a relay asks the relay only:
// when they differ, an exchange both pulls from the relay and has the
// relay pull what it lacks. A hub leaves it to its devices, each of which
// checks with it. Any other node pulls from every peer that differs.
func (n *Node) settle() bool {
	switch relay := relayPeer(n.cfg.Relay); {
	case relay != "":
		ctx, cancel := context.WithTimeout(n.ctx, dialTimeout)
		defer cancel()
		same, err := n.InSyncWith(ctx, relay)
		if err == nil && !same {
			n.kickRelay()
		}
		return err == nil && same
	case !n.cfg.Hub:
		return !n.pullDiffering()
	}
	return true
}
