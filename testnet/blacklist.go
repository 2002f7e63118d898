package testnet

import (
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// cutList is a node's GossipSub blacklist: every peer it cannot reach, on
// the other side of a partition or stopped. It makes a cut hold at the
// gossip layer too. Mocknet resets a closing connection's streams before it
// forgets the connection, and GossipSub, seeing its stream reset while the
// peer still looks connected, opens a new one on the dying connection; that
// stream outlives it, a private pipe across the partition. GossipSub closes
// any stream to a blacklisted peer as soon as it is opened, and ignores
// messages that such a peer sends or wrote.
type cutList struct {
	self      peer.ID
	reachable func(a, b peer.ID) bool
}

var _ pubsub.Blacklist = cutList{}

// Add is for pubsub's own BlacklistPeer, which nodes never call.
func (cutList) Add(peer.ID) bool { return false }

// Contains reports whether p is cut off from this node.
func (c cutList) Contains(p peer.ID) bool { return !c.reachable(c.self, p) }
