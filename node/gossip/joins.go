package gossip

import pubsub "github.com/libp2p/go-libp2p-pubsub"

// watchJoins hands every peer that subscribes to the topic to OnJoin until
// Close.
func (g *Gossip) watchJoins() {
	defer g.wg.Done()
	for {
		ev, err := g.joins.NextPeerEvent(g.ctx)
		if err != nil {
			return
		}
		if ev.Type == pubsub.PeerJoin {
			g.cfg.OnJoin(ev.Peer)
		}
	}
}
