package node

import (
	"github.com/syncnode/syncnode/node/antientropy"
	"github.com/syncnode/syncnode/node/gossip"
)

// Stats counts what the node has sent and received, for testnet reports and
// metrics.
type Stats struct {
	Gossip      gossip.Stats
	AntiEntropy antientropy.Stats
	Rejected    uint64
}

// Stats returns the node's traffic counters.
func (n *Node) Stats() Stats {
	_, rejected := n.rejects.total()
	return Stats{
		Gossip:      n.gossip.Stats(),
		AntiEntropy: n.ae.Stats(),
		Rejected:    rejected,
	}
}
