package node

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Source says how a peer became known.
type Source string

// Peer sources, as shown by status.
const (
	SourceStatic  Source = "static"
	SourceMDNS    Source = "mdns"
	SourceRelay   Source = "relay"
	SourceInbound Source = "inbound"
)

// peerInfo is what the node remembers about one group peer.
type peerInfo struct {
	source   Source
	lastSync time.Time
	syncErr  string
	rejected uint64
}

// peerTable tracks group peers for status and reconnection. It is safe for
// concurrent use.
type peerTable struct {
	mu    sync.Mutex
	peers map[peer.ID]*peerInfo
}

func newPeerTable() *peerTable { return &peerTable{peers: map[peer.ID]*peerInfo{}} }

// saw records that p became known through src. A peer keeps the first
// non-inbound source it was found by, since that is how it will be redialled.
func (t *peerTable) saw(p peer.ID, src Source) {
	t.mu.Lock()
	defer t.mu.Unlock()
	pi, ok := t.peers[p]
	if !ok {
		t.peers[p] = &peerInfo{source: src}
		return
	}
	if pi.source == SourceInbound && src != SourceInbound {
		pi.source = src
	}
}

func (t *peerTable) synced(p peer.ID, at time.Time, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	pi := t.peers[p]
	if pi == nil {
		pi = &peerInfo{source: SourceInbound}
		t.peers[p] = pi
	}
	if err != nil {
		pi.syncErr = err.Error()
		return
	}
	pi.lastSync, pi.syncErr = at, ""
}

// reject counts one refusal from p and returns p's total. Only connected
// group members can send anything, so p gets an entry if it has none.
func (t *peerTable) reject(p peer.ID) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	pi := t.peers[p]
	if pi == nil {
		pi = &peerInfo{source: SourceInbound}
		t.peers[p] = pi
	}
	pi.rejected++
	return pi.rejected
}

// snapshot returns a copy of the table.
func (t *peerTable) snapshot() map[peer.ID]peerInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[peer.ID]peerInfo, len(t.peers))
	for id, pi := range t.peers {
		out[id] = *pi
	}
	return out
}
