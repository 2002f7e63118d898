package node

import (
	"context"
	"sort"
	"sync"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/syncnode/syncnode/node/api"
)

// Status reports the node's replica, its peers and what it refused.
func (n *Node) Status(ctx context.Context) (api.Status, error) {
	st := n.store.Stats()
	peers, err := n.Peers(ctx)
	if err != nil {
		return api.Status{}, err
	}
	byReason, total := n.rejects.total()
	vec := make(map[string]uint64, len(st.Vector))
	for o, s := range st.Vector {
		vec[string(o)] = s
	}
	return api.Status{
		ID:            n.host.ID().String(),
		Version:       n.cfg.Version,
		Started:       n.started,
		Addrs:         n.addrs(),
		API:           n.APIAddr(),
		Records:       n.userRecords(st.Live),
		Tombstones:    uint64(st.Tombstones),
		Digest:        st.Digest.String(),
		Vector:        vec,
		Peers:         peers,
		Rejected:      byReason,
		RejectedTotal: total,
		Clock:         n.store.Clock().Last().String(),
		ServerSeq:     st.FeedHead,
		Refilling:     n.store.HoleCount(),
		Relay:         n.relayStatus(),
	}, nil
}

// relayStatus reports the relay link, nil without one.
func (n *Node) relayStatus() *api.RelayLink {
	if n.cfg.Relay == nil {
		return nil
	}
	p := n.cfg.Relay.Peer.ID
	s := &n.relay
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &api.RelayLink{
		ID:        p.String(),
		Connected: n.host.Network().Connectedness(p) == network.Connected,
		Device:    s.device,
		ServerSeq: s.serverSeq,
	}
	if !s.lastOK.IsZero() {
		t := s.lastOK
		out.LastOK = &t
	}
	if err := s.lastError(); err != nil {
		out.Error = err.Error()
	}
	return out
}

// Peers lists every group peer the node knows, connected or not. For each
// connected peer it asks for the peer's digest, so in_sync says whether the
// two replicas hold exactly the same records right now.
func (n *Node) Peers(ctx context.Context) ([]api.Peer, error) {
	known := n.peers.snapshot()
	for _, p := range n.host.Network().Peers() {
		if _, ok := known[p]; !ok {
			known[p] = peerInfo{source: SourceInbound}
		}
	}
	ours := n.store.Digest()
	out := make([]api.Peer, 0, len(known))
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for id, pi := range known {
		ap := api.Peer{
			ID:            id.String(),
			Addrs:         n.peerAddrs(id),
			Source:        string(pi.source),
			Connected:     n.host.Network().Connectedness(id) == network.Connected,
			LastSyncError: pi.syncErr,
			Rejected:      pi.rejected,
			Revoked:       n.members.RevokedPeer(id),
		}
		if !pi.lastSync.IsZero() {
			at := pi.lastSync
			ap.LastSync = &at
		}
		if !ap.Connected {
			mu.Lock()
			out = append(out, ap)
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := fetchDigest(ctx, n.host, id)
			if err == nil {
				ap.Digest = d.String()
				ap.InSync = d == ours
			}
			mu.Lock()
			out = append(out, ap)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// InSyncWith reports whether p's digest equals ours now.
func (n *Node) InSyncWith(ctx context.Context, p peer.ID) (bool, error) {
	d, err := fetchDigest(ctx, n.host, p)
	if err != nil {
		return false, err
	}
	return d == n.store.Digest(), nil
}

// addrs returns the node's own multiaddrs with its peer ID appended, the
// form other nodes dial.
func (n *Node) addrs() []string {
	return p2pAddrs(n.host.ID(), n.host.Addrs())
}

func (n *Node) peerAddrs(p peer.ID) []string {
	return p2pAddrs(p, n.host.Peerstore().Addrs(p))
}

func p2pAddrs(id peer.ID, addrs []ma.Multiaddr) []string {
	out := make([]string, 0, len(addrs))
	full, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: id, Addrs: addrs})
	if err != nil {
		return out
	}
	for _, a := range full {
		out = append(out, a.String())
	}
	sort.Strings(out)
	return out
}

// userRecords is the live record count without the group's membership
// records, which syncnode writes itself: a user who wrote nine records
// sees nine.
func (n *Node) userRecords(live int64) uint64 {
	return uint64(max(live-int64(n.members.Records()), 0))
}
