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

// deviceParams are GossipSub's defaults with a smaller mesh (4, between 3
// and 8, instead of 6, between 5 and 12). Every node flood-publishes its
// own writes to every peer it has, so in a group whose devices all reach
// one another (a LAN) what the mesh forwards is duplicates: each one
// encrypted twice (pnet, Noise), decoded and dropped by the receiver.
// Halving the mesh cut a 10,000-write burst to 8 nodes by a fifth, and
// still forwards through partial topologies; anti-entropy repairs the
// rest.
func deviceParams() pubsub.GossipSubParams {
	p := pubsub.DefaultGossipSubParams()
	p.D, p.Dlo, p.Dhi, p.Dscore, p.Dout = 4, 3, 8, 2, 1
	return p
}
