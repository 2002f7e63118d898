package discovery

import (
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// testPeerID returns the peer ID of an Ed25519 key drawn from a generator
// seeded with n, so every process of a test derives the same IDs.
func testPeerID(tb testing.TB, n uint64) peer.ID {
	tb.Helper()
	var seed [32]byte
	seed[0] = byte(n)
	seed[1] = byte(n >> 8)
	_, pub, err := crypto.GenerateEd25519Key(rand.NewChaCha8(seed))
	if err != nil {
		tb.Fatalf("generate key: %v", err)
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		tb.Fatalf("peer id: %v", err)
	}
	return id
}

// mustAddr parses s or fails tb.
func mustAddr(tb testing.TB, s string) ma.Multiaddr {
	tb.Helper()
	a, err := ma.NewMultiaddr(s)
	if err != nil {
		tb.Fatalf("parse %q: %v", s, err)
	}
	return a
}

// mustAddrs parses every s or fails tb.
func mustAddrs(tb testing.TB, ss ...string) []ma.Multiaddr {
	tb.Helper()
	out := make([]ma.Multiaddr, len(ss))
	for i, s := range ss {
		out[i] = mustAddr(tb, s)
	}
	return out
}

// addrStrings renders addrs for comparison.
func addrStrings(addrs []ma.Multiaddr) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}

// discardLogger drops everything; tests assert on behaviour, not logs.
func discardLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// recorder is a PeerFunc that remembers every peer it was given.
type recorder struct {
	mu    sync.Mutex
	calls []peer.AddrInfo
}

func (r *recorder) found(ai peer.AddrInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, ai)
}

// ids returns the distinct peer IDs reported so far.
func (r *recorder) ids() []peer.ID {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []peer.ID
	for _, ai := range r.calls {
		if !slices.Contains(out, ai.ID) {
			out = append(out, ai.ID)
		}
	}
	return out
}

// addrsOf returns the addresses last reported for id.
func (r *recorder) addrsOf(id peer.ID) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.calls) - 1; i >= 0; i-- {
		if r.calls[i].ID == id {
			return addrStrings(r.calls[i].Addrs)
		}
	}
	return nil
}
