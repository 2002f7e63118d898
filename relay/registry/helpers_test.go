package registry

import (
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/node/clocktest"
)

// cheapParams make tests fast; TestDefaultParams covers the real ones.
var cheapParams = kdfParams{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32}

func newManualClock() *clocktest.Manual {
	return clocktest.New(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
}

// testRegistry is a registry with cheap hashing, a manual clock and a count
// of hash runs.
type testRegistry struct {
	*Registry
	path   string
	clock  *clocktest.Manual
	hashes atomic.Int64
}

// openTest opens a fresh registry in a temporary directory.
func openTest(tb testing.TB) *testRegistry {
	tb.Helper()
	return reopen(tb, filepath.Join(tb.TempDir(), "devices.json"), newManualClock())
}

// reopen opens the registry file at path, as a restarted relay would.
func reopen(tb testing.TB, path string, clock *clocktest.Manual) *testRegistry {
	tb.Helper()
	r, err := Open(path, clock.Now)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tr := &testRegistry{Registry: r, path: path, clock: clock}
	r.params = cheapParams
	r.hash = func(secret, salt []byte, p kdfParams) []byte {
		tr.hashes.Add(1)
		return argon2ID(secret, salt, p)
	}
	return tr
}

// mustCreate creates a device and returns its token.
func (tr *testRegistry) mustCreate(tb testing.TB, name string) string {
	tb.Helper()
	tok, err := tr.Create(name)
	if err != nil {
		tb.Fatalf("Create(%q): %v", name, err)
	}
	return tok
}

// hashesDuring returns how many hash runs fn caused.
func (tr *testRegistry) hashesDuring(fn func()) int64 {
	before := tr.hashes.Load()
	fn()
	return tr.hashes.Load() - before
}

// testPeer returns a deterministic peer ID for seed.
func testPeer(tb testing.TB, seed uint64) peer.ID {
	tb.Helper()
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	sk, _, err := crypto.GenerateEd25519Key(rand.NewChaCha8(s))
	if err != nil {
		tb.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(sk)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}
