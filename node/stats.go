package node

import (
	"sync/atomic"

	"github.com/syncnode/syncnode/node/antientropy"
	"github.com/syncnode/syncnode/node/gossip"
)

// Stats counts what the node has sent and received, for testnet reports and
// metrics.
type Stats struct {
	Gossip      gossip.Stats
	AntiEntropy AntiEntropyStats
	Rejected    uint64
}

// AntiEntropyStats sums the pulls this node has initiated.
type AntiEntropyStats struct {
	Rounds          uint64
	Failures        uint64
	RecordsReceived uint64
	RecordsApplied  uint64
	BytesReceived   uint64
	BytesSent       uint64
}

type aeCounters struct {
	rounds, failures, received, applied, bytesIn, bytesOut atomic.Uint64
}

func (c *aeCounters) add(res antientropy.Result, err error) {
	c.rounds.Add(1)
	if err != nil {
		c.failures.Add(1)
	}
	c.received.Add(uint64(res.RecordsReceived))
	c.applied.Add(uint64(res.RecordsApplied))
	c.bytesIn.Add(uint64(res.BytesReceived))
	c.bytesOut.Add(uint64(res.BytesSent))
}

func (c *aeCounters) snapshot() AntiEntropyStats {
	return AntiEntropyStats{
		Rounds:          c.rounds.Load(),
		Failures:        c.failures.Load(),
		RecordsReceived: c.received.Load(),
		RecordsApplied:  c.applied.Load(),
		BytesReceived:   c.bytesIn.Load(),
		BytesSent:       c.bytesOut.Load(),
	}
}

// Stats returns the node's traffic counters.
func (n *Node) Stats() Stats {
	_, rejected := n.rejects.total()
	return Stats{
		Gossip:      n.gossip.Stats(),
		AntiEntropy: n.aeStats.snapshot(),
		Rejected:    rejected,
	}
}
