package testnet

import (
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/syncnode/syncnode/node/group"
	"github.com/syncnode/syncnode/node/p2p"
)

// loopback is where TCP hosts listen: never a real interface.
var loopback = ma.StringCast("/ip4/127.0.0.1/tcp/0")

// tcpFabric runs the node's own host (node/p2p) on loopback TCP, in the
// group's private network. A partition is a connection gater that refuses
// peers outside the node's side, asking Net which pairs may connect.
type tcpFabric struct {
	secret    group.Secret
	reachable func(a, b peer.ID) bool
}

var _ fabric = (*tcpFabric)(nil)

func (f *tcpFabric) host(_ int, key crypto.PrivKey) (host.Host, error) {
	self, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return p2p.New(p2p.Config{
		PrivKey:     key,
		PSK:         f.secret.PSK(),
		ListenAddrs: []ma.Multiaddr{loopback},
		Gater:       partitionGater{self: self, reachable: f.reachable},
	})
}

// link and unlink have nothing to do: the gater asks Net on every dial and
// handshake.
func (f *tcpFabric) link(peer.ID, peer.ID) error   { return nil }
func (f *tcpFabric) unlink(peer.ID, peer.ID) error { return nil }
func (f *tcpFabric) close() error                  { return nil }

// partitionGater refuses connections, both ways, with peers that Net has
// put on the other side of a partition.
type partitionGater struct {
	self      peer.ID
	reachable func(a, b peer.ID) bool
}

func (g partitionGater) InterceptPeerDial(p peer.ID) bool { return g.reachable(g.self, p) }

func (g partitionGater) InterceptAddrDial(p peer.ID, _ ma.Multiaddr) bool {
	return g.reachable(g.self, p)
}

// InterceptAccept cannot tell the peer yet; InterceptSecured decides.
func (partitionGater) InterceptAccept(network.ConnMultiaddrs) bool { return true }

func (g partitionGater) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return g.reachable(g.self, p)
}

func (partitionGater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) {
	return true, 0
}
