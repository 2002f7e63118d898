package relay

import (
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/syncnode/syncnode/node"
)

// devices is the part of the registry that admission reads on every
// connection, message and record.
type devices interface {
	Admitted(p peer.ID) bool
	Refused(p peer.ID) bool
	RevokedPeer(p peer.ID) bool
}

// admission admits paired, non-revoked devices. Records need no check of
// their own here: a revoked device's registry revocation is also written to
// the group as a membership record (see Relay.revoked), which every node,
// this one included, enforces on records.
type admission struct{ reg devices }

var _ node.Admission = admission{}

func (a admission) AdmitPeer(p peer.ID) bool { return a.reg.Admitted(p) }

// gater refuses a revoked or expired device's connections at the handshake. Unpaired
// peers get in, for the pairing exchange only: gossip and anti-entropy
// refuse them, and they are dropped if they do not pair within
// pairingGrace.
type gater struct{ reg devices }

func (gater) InterceptPeerDial(peer.ID) bool               { return true }
func (gater) InterceptAddrDial(peer.ID, ma.Multiaddr) bool { return true }
func (gater) InterceptAccept(network.ConnMultiaddrs) bool  { return true }
func (g gater) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return !g.reg.Refused(p)
}
func (gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }

// circuitACL lets only admitted devices reserve a slot on the circuit relay
// or be connected through it.
type circuitACL struct{ reg devices }

func (a circuitACL) AllowReserve(p peer.ID, _ ma.Multiaddr) bool { return a.reg.Admitted(p) }

func (a circuitACL) AllowConnect(src peer.ID, _ ma.Multiaddr, dest peer.ID) bool {
	return a.reg.Admitted(src) && a.reg.Admitted(dest)
}
