package gossip

import pubsub "github.com/libp2p/go-libp2p-pubsub"

// hubDegree is the mesh size a hub keeps: more devices than one group
// plausibly has, so that in practice every subscribed peer is in the mesh.
const hubDegree = 1024

// hubOutboundQueueLen is a hub's per-peer send queue, in messages. A hub
// forwards every device's writes to every device, so a device that falls
// behind (asleep, on a slow link) backs up a queue that many senders
// fill. Messages that find it full are dropped and cost that device a
// pull. The queues hold pointers to shared messages: about 150 bytes per
// entry, so a few MiB per device behind by this much.
const hubOutboundQueueLen = 16 << 10

// hubParams are GossipSub's defaults with a mesh of every peer (see
// Config.Hub). A device caps its own mesh at the default Dhi, but scores
// its relay above other peers (Config.Relay), so when it prunes it keeps
// the hub.
func hubParams() pubsub.GossipSubParams {
	p := pubsub.DefaultGossipSubParams()
	p.D, p.Dlo, p.Dhi = hubDegree, hubDegree, hubDegree
	return p
}
