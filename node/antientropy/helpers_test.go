package antientropy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/store"
	"github.com/syncnode/syncnode/store/storetest"
)

// baseMS is the fixed wall time of every test clock.
const baseMS = 1_750_000_000_000

func fixedClock() int64 { return baseMS }

// discardLogger drops everything; tests assert on behaviour, not logs.
func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// mustStore opens an in-memory store for origin on the fixed clock.
func mustStore(tb testing.TB, origin crdt.NodeID) *store.Store {
	tb.Helper()
	return storetest.InMemory(tb, origin, fixedClock)
}

// mustHosts returns n mocknet hosts, linked and connected to each other.
func mustHosts(tb testing.TB, n int) []host.Host {
	tb.Helper()
	mn := mocknet.New()
	tb.Cleanup(func() { mn.Close() })
	hosts := make([]host.Host, n)
	for i := range hosts {
		h, err := mn.GenPeer()
		if err != nil {
			tb.Fatalf("gen peer: %v", err)
		}
		hosts[i] = h
	}
	if err := mn.LinkAll(); err != nil {
		tb.Fatalf("link: %v", err)
	}
	if err := mn.ConnectAllButSelf(); err != nil {
		tb.Fatalf("connect: %v", err)
	}
	return hosts
}

// rejects records every OnReject call.
type rejects struct {
	mu   sync.Mutex
	errs []error
}

func (r *rejects) add(_ peer.ID, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *rejects) list() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs)
}

// node is a host with a store and a service.
type node struct {
	h   host.Host
	st  *store.Store
	svc *Service
	rej *rejects
}

// mustNode starts a service on h over a fresh store named after h; tweak
// may adjust the config.
func mustNode(tb testing.TB, h host.Host, tweak func(*Config)) *node {
	tb.Helper()
	n := &node{h: h, st: mustStore(tb, crdt.NodeID(h.ID().String())), rej: &rejects{}}
	cfg := Config{Store: n.st, OnReject: n.rej.add, Logger: discardLogger()}
	if tweak != nil {
		tweak(&cfg)
	}
	n.svc = New(h, cfg)
	tb.Cleanup(n.svc.Close)
	return n
}

// mustPair returns two connected nodes.
func mustPair(tb testing.TB) (*node, *node) {
	tb.Helper()
	hs := mustHosts(tb, 2)
	return mustNode(tb, hs[0], nil), mustNode(tb, hs[1], nil)
}

// genRecords returns n valid records of origin with seqs from firstSeq,
// keys spread over two namespaces, values of about valueSize bytes, stamped
// in the past of every test clock.
func genRecords(origin crdt.NodeID, firstSeq uint64, n, valueSize int) []crdt.Record {
	recs := make([]crdt.Record, n)
	pad := make([]byte, max(valueSize-8, 0))
	for i := range pad {
		pad[i] = 'x'
	}
	for i := range recs {
		seq := firstSeq + uint64(i)
		recs[i] = crdt.Record{
			NS:    []string{"tasks", "notes/work"}[i%2],
			Key:   fmt.Sprintf("%s-%d", origin, seq),
			Value: []byte(`"` + string(pad) + `"`),
			Version: crdt.Version{
				HLC:    crdt.NewTimestamp(baseMS-1_000_000+int64(seq), 0),
				Origin: origin,
				Seq:    seq,
			},
		}
	}
	return recs
}

// mustApply merges recs into st in chunks small enough for one transaction.
func mustApply(tb testing.TB, st Store, recs []crdt.Record) {
	tb.Helper()
	for chunk := range slices.Chunk(recs, 1000) {
		res, err := st.Apply(context.Background(), chunk)
		if err != nil {
			tb.Fatalf("apply: %v", err)
		}
		if len(res.Rejected) > 0 {
			tb.Fatalf("apply rejected %v", res.Rejected[0].Err)
		}
	}
}

// mustPut writes n local records with seeded random keys, deleting some.
func mustPut(tb testing.TB, st *store.Store, rng *rand.Rand, n int, keyPrefix string) {
	tb.Helper()
	ctx := context.Background()
	for i := range n {
		key := fmt.Sprintf("%s-%d", keyPrefix, rng.IntN(n))
		var err error
		if i%7 == 6 {
			_, err = st.Delete(ctx, "tasks", key)
		} else {
			_, err = st.Put(ctx, "tasks", key, fmt.Appendf(nil, `{"n":%d}`, rng.IntN(1000)))
		}
		if err != nil {
			tb.Fatalf("write: %v", err)
		}
	}
}

// contents returns every current record of st, tombstones included, in a
// canonical order.
func contents(tb testing.TB, st *store.Store) []crdt.Record {
	tb.Helper()
	sn := st.Snapshot()
	defer sn.Close()
	var recs []crdt.Record
	if err := sn.Above(crdt.Vector{}, func(r crdt.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		tb.Fatalf("snapshot: %v", err)
	}
	slices.SortFunc(recs, func(a, b crdt.Record) int {
		if c := cmpStrings(a.NS, b.NS); c != 0 {
			return c
		}
		return cmpStrings(a.Key, b.Key)
	})
	return recs
}

func cmpStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// mustSync pulls into n from p and fails tb on error.
func mustSync(tb testing.TB, n *node, p peer.ID) Result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := n.svc.Sync(ctx, p)
	if err != nil {
		tb.Fatalf("sync: %v", err)
	}
	return res
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// gatedStore holds every Snapshot call until the gate opens, so a test can
// keep a responder's session in flight.
type gatedStore struct {
	*store.Store
	snapshots atomic.Int32
	gate      chan struct{}
	once      sync.Once
}

func newGatedStore(st *store.Store) *gatedStore {
	return &gatedStore{Store: st, gate: make(chan struct{})}
}

func (g *gatedStore) Snapshot() *store.Snapshot {
	g.snapshots.Add(1)
	<-g.gate
	return g.Store.Snapshot()
}

// open releases every held and future Snapshot call.
func (g *gatedStore) open() { g.once.Do(func() { close(g.gate) }) }

// waiters reports how many callers wait on the session in flight to p.
func (s *Service) waiters(p peer.ID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.calls[p]; ok {
		return c.waiters
	}
	return 0
}
