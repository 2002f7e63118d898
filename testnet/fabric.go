package testnet

import (
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// fabric is the network a Net's nodes share: it builds their hosts and
// decides which pairs can reach each other. Net calls it without holding its
// own lock, and only from one goroutine at a time.
type fabric interface {
	// host starts a libp2p host with identity key, for node i.
	host(i int, key crypto.PrivKey) (host.Host, error)
	// link lets the running hosts a and b connect to each other. It does
	// not connect them.
	link(a, b peer.ID) error
	// unlink stops a and b from connecting again; Net closes the
	// connections they already have. a or b may have stopped.
	unlink(a, b peer.ID) error
	// close releases the fabric once every host has been closed.
	close() error
}
