package p2p

import (
	"github.com/libp2p/go-libp2p"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
)

// PeerLimit caps what any one peer may hold on this host, whatever the
// machine's size. A sync peer needs a handful of streams (gossip, identify,
// ping, a few anti-entropy sessions); the caps leave ample room for that
// while stopping one misbehaving device from taking the host's share.
// Eight connections match the concurrent dials libp2p may make to a peer.
var PeerLimit = rcmgr.BaseLimit{
	Conns:           8,
	ConnsInbound:    8,
	ConnsOutbound:   8,
	FD:              8,
	Streams:         256,
	StreamsInbound:  128,
	StreamsOutbound: 128,
	Memory:          32 << 20,
}

// DefaultLimits returns the resource limits used when Config.Limits is nil:
// libp2p's defaults, scaled to this machine's memory and file descriptors
// (rcmgr.DefaultLimits.AutoScale(), with libp2p's own service limits), but
// with every peer held to PeerLimit.
func DefaultLimits() rcmgr.ConcreteLimitConfig {
	cfg := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&cfg)
	cfg.PeerBaseLimit = PeerLimit
	cfg.PeerLimitIncrease = rcmgr.BaseLimitIncrease{}
	return cfg.AutoScale()
}
