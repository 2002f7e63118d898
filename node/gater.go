package node

import (
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/syncnode/syncnode/node/membership"
)

// memberGater refuses revoked devices' connections, in either direction,
// as soon as their identity is known, and then asks the next gater (a
// relay's, which admits paired devices only), if any.
type memberGater struct {
	members *membership.List
	next    connmgr.ConnectionGater // nil: nothing more to check
}

var _ connmgr.ConnectionGater = memberGater{}

func (g memberGater) revoked(p peer.ID) bool { return g.members.RevokedPeer(p) }

func (g memberGater) InterceptPeerDial(p peer.ID) bool {
	return !g.revoked(p) && (g.next == nil || g.next.InterceptPeerDial(p))
}

func (g memberGater) InterceptAddrDial(p peer.ID, a ma.Multiaddr) bool {
	return !g.revoked(p) && (g.next == nil || g.next.InterceptAddrDial(p, a))
}

func (g memberGater) InterceptAccept(addrs network.ConnMultiaddrs) bool {
	return g.next == nil || g.next.InterceptAccept(addrs)
}

func (g memberGater) InterceptSecured(dir network.Direction, p peer.ID, addrs network.ConnMultiaddrs) bool {
	return !g.revoked(p) && (g.next == nil || g.next.InterceptSecured(dir, p, addrs))
}

func (g memberGater) InterceptUpgraded(c network.Conn) (bool, control.DisconnectReason) {
	if g.next == nil {
		return true, 0
	}
	return g.next.InterceptUpgraded(c)
}
