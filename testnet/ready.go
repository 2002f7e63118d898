package testnet

import (
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// gossipView follows, from one node's GossipSub, which peers it can gossip
// with: those it has an outbound stream to and that have announced a
// subscription to the group topic. A write published before then reaches
// the peer only through anti-entropy, so Net waits for it after connecting
// nodes, to measure sync rather than mesh start-up. After cutting a
// connection Net waits for GossipSub to drop the peer, so that a later
// reconnection starts clean, as it would after a real outage.
type gossipView struct {
	topic string

	mu    sync.Mutex
	peers map[peer.ID]peerView
}

type peerView struct{ stream, subscribed bool }

var _ pubsub.RawTracer = (*gossipView)(nil)

func newGossipView(topic string) *gossipView {
	return &gossipView{topic: topic, peers: map[peer.ID]peerView{}}
}

// ready reports whether this node gossips with p.
func (v *gossipView) ready(p peer.ID) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	pv := v.peers[p]
	return pv.stream && pv.subscribed
}

// gone reports whether GossipSub has no stream to p, which it drops when
// it declares p dead. (A last RPC from p may still be read after that, so
// a recorded subscription alone does not count.)
func (v *gossipView) gone(p peer.ID) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return !v.peers[p].stream
}

func (v *gossipView) update(p peer.ID, f func(*peerView)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	pv := v.peers[p]
	f(&pv)
	v.peers[p] = pv
}

// OnNewOutboundStream is called once GossipSub can send to p.
func (v *gossipView) OnNewOutboundStream(p peer.ID, _ protocol.ID) {
	v.update(p, func(pv *peerView) { pv.stream = true })
}

// OnClosedOutboundStream is called when GossipSub declares p dead and
// forgets its subscriptions.
func (v *gossipView) OnClosedOutboundStream(p peer.ID) {
	v.mu.Lock()
	delete(v.peers, p)
	v.mu.Unlock()
}

// RecvRPC sees every RPC a peer sends, including the subscriptions it
// announces when a connection opens.
func (v *gossipView) RecvRPC(rpc *pubsub.RPC) {
	for _, sub := range rpc.GetSubscriptions() {
		if sub.GetTopicid() == v.topic {
			v.update(rpc.From(), func(pv *peerView) { pv.subscribed = sub.GetSubscribe() })
		}
	}
}

// The remaining RawTracer events are of no interest.

func (*gossipView) Join(string)                                          {}
func (*gossipView) Leave(string)                                         {}
func (*gossipView) Graft(peer.ID, string)                                {}
func (*gossipView) Prune(peer.ID, string)                                {}
func (*gossipView) ValidateMessage(*pubsub.Message)                      {}
func (*gossipView) DeliverMessage(*pubsub.Message)                       {}
func (*gossipView) RejectMessage(*pubsub.Message, string)                {}
func (*gossipView) DuplicateMessage(*pubsub.Message)                     {}
func (*gossipView) ThrottlePeer(peer.ID)                                 {}
func (*gossipView) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (*gossipView) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (*gossipView) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (*gossipView) UndeliverableMessage(*pubsub.Message)                 {}
