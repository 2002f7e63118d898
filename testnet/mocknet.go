package testnet

import (
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
)

// mockFabric runs hosts on libp2p's mock network, where a pair can reach
// each other only through a link, and a link can delay every write.
type mockFabric struct {
	mn mocknet.Mocknet
}

var _ fabric = (*mockFabric)(nil)

func newMockFabric(latency time.Duration) *mockFabric {
	mn := mocknet.New()
	mn.SetLinkDefaults(mocknet.LinkOptions{Latency: latency})
	return &mockFabric{mn: mn}
}

// host adds a peer with key. Mocknet never dials addresses, but peers
// exchange them, so each node gets a distinct, stable one; a restarted node
// replaces its old peer under the same ID.
func (f *mockFabric) host(i int, key crypto.PrivKey) (host.Host, error) {
	addr, err := ma.NewMultiaddr(fmt.Sprintf("/ip4/10.%d.%d.%d/tcp/4001", i>>16&0xff, i>>8&0xff, i&0xff))
	if err != nil {
		return nil, fmt.Errorf("testnet mocknet address: %w", err)
	}
	h, err := f.mn.AddPeer(key, addr)
	if err != nil {
		return nil, fmt.Errorf("testnet mocknet host: %w", err)
	}
	return h, nil
}

func (f *mockFabric) link(a, b peer.ID) error {
	if len(f.mn.LinksBetweenPeers(a, b)) > 0 {
		return nil
	}
	if _, err := f.mn.LinkPeers(a, b); err != nil {
		return fmt.Errorf("testnet mocknet link: %w", err)
	}
	return nil
}

// unlink removes every link between a and b. Links hold the peers' network
// objects, so a stopped node's links must go before it restarts.
func (f *mockFabric) unlink(a, b peer.ID) error {
	for _, l := range f.mn.LinksBetweenPeers(a, b) {
		if err := f.mn.Unlink(l); err != nil {
			return fmt.Errorf("testnet mocknet unlink: %w", err)
		}
	}
	return nil
}

func (f *mockFabric) close() error { return f.mn.Close() }
