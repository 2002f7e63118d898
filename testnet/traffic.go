package testnet

import "github.com/syncnode/syncnode/node"

// Traffic sums what nodes have sent and received, from their node.Stats.
type Traffic struct {
	// GossipMessages and GossipBytes count published gossip messages and
	// their encoded size. A message is counted once, however many peers it
	// is sent to.
	GossipMessages, GossipBytes uint64
	// GossipRecords counts the records those messages carried.
	GossipRecords uint64
	// GossipDropped counts messages that receivers ignored on purpose
	// (Options.DropRate).
	GossipDropped uint64
	// AntiEntropyRounds counts pulls; AntiEntropyRecords the records they
	// received; AntiEntropyBytes their protocol bytes, both ways.
	AntiEntropyRounds, AntiEntropyRecords, AntiEntropyBytes uint64
}

func trafficOf(nd *node.Node) Traffic {
	s := nd.Stats()
	return Traffic{
		GossipMessages:     s.Gossip.PublishedMessages,
		GossipBytes:        s.Gossip.PublishedBytes,
		GossipRecords:      s.Gossip.PublishedRecords,
		AntiEntropyRounds:  s.AntiEntropy.Sessions,
		AntiEntropyRecords: s.AntiEntropy.RecordsReceived,
		AntiEntropyBytes:   s.AntiEntropy.BytesReceived + s.AntiEntropy.BytesSent,
	}
}

func (t Traffic) add(o Traffic) Traffic {
	return Traffic{
		GossipMessages:     t.GossipMessages + o.GossipMessages,
		GossipBytes:        t.GossipBytes + o.GossipBytes,
		GossipRecords:      t.GossipRecords + o.GossipRecords,
		GossipDropped:      t.GossipDropped + o.GossipDropped,
		AntiEntropyRounds:  t.AntiEntropyRounds + o.AntiEntropyRounds,
		AntiEntropyRecords: t.AntiEntropyRecords + o.AntiEntropyRecords,
		AntiEntropyBytes:   t.AntiEntropyBytes + o.AntiEntropyBytes,
	}
}

// Sub returns the traffic between an earlier reading o and t.
func (t Traffic) Sub(o Traffic) Traffic {
	return Traffic{
		GossipMessages:     t.GossipMessages - o.GossipMessages,
		GossipBytes:        t.GossipBytes - o.GossipBytes,
		GossipRecords:      t.GossipRecords - o.GossipRecords,
		GossipDropped:      t.GossipDropped - o.GossipDropped,
		AntiEntropyRounds:  t.AntiEntropyRounds - o.AntiEntropyRounds,
		AntiEntropyRecords: t.AntiEntropyRecords - o.AntiEntropyRecords,
		AntiEntropyBytes:   t.AntiEntropyBytes - o.AntiEntropyBytes,
	}
}

// Traffic returns what every node of the net has sent since it was created,
// stopped nodes included.
func (n *Net) Traffic() Traffic {
	n.mu.RLock()
	t := n.retired
	nodes := append([]*node.Node(nil), n.nodes...)
	n.mu.RUnlock()
	for _, nd := range nodes {
		if nd != nil {
			t = t.add(trafficOf(nd))
		}
	}
	t.GossipDropped = n.drops.dropped.Load()
	return t
}
