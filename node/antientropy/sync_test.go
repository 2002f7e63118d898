package antientropy

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/store"
)

// assertConverged fails t unless a and b hold the same records, digest and
// vector.
func assertConverged(t *testing.T, a, b *node) {
	t.Helper()
	if da, db := a.st.Digest(), b.st.Digest(); da != db {
		t.Errorf("digests differ: %s vs %s", da, db)
	}
	if va, vb := a.st.Vector(), b.st.Vector(); !reflect.DeepEqual(va, vb) {
		t.Errorf("vectors differ: %v vs %v", va, vb)
	}
	if ca, cb := contents(t, a.st), contents(t, b.st); !reflect.DeepEqual(ca, cb) {
		t.Errorf("contents differ: %d vs %d records", len(ca), len(cb))
	}
}

func TestCatchUpFromEmpty(t *testing.T) {
	full, empty := mustPair(t)
	mustPut(t, full.st, rand.New(rand.NewPCG(1, 1)), 300, "k")
	want := len(contents(t, full.st))

	res := mustSync(t, empty, full.h.ID())
	if res.RecordsReceived != want || res.RecordsApplied != want || res.RecordsRejected != 0 {
		t.Errorf("received %d applied %d rejected %d, want %d, %d, 0",
			res.RecordsReceived, res.RecordsApplied, res.RecordsRejected, want, want)
	}
	if !reflect.DeepEqual(res.PeerVector, full.st.Vector()) {
		t.Errorf("peer vector %v, want %v", res.PeerVector, full.st.Vector())
	}
	assertConverged(t, full, empty)

	back := mustSync(t, full, empty.h.ID())
	if back.RecordsReceived != 0 {
		t.Errorf("reverse sync received %d records, want 0", back.RecordsReceived)
	}
	if len(full.rej.list())+len(empty.rej.list()) != 0 {
		t.Errorf("unexpected rejects: %v %v", full.rej.list(), empty.rej.list())
	}
}

func TestDisjointWritesConverge(t *testing.T) {
	a, b := mustPair(t)
	rng := rand.New(rand.NewPCG(2, 2))
	// Overlapping key ranges make some keys conflict; LWW settles them.
	mustPut(t, a.st, rng, 200, "k")
	mustPut(t, b.st, rng, 200, "k")
	mustPut(t, b.st, rng, 50, "b-only")
	if a.st.Digest() == b.st.Digest() {
		t.Fatal("replicas start equal")
	}

	mustSync(t, a, b.h.ID())
	mustSync(t, b, a.h.ID())
	assertConverged(t, a, b)

	for _, n := range []*node{a, b} {
		if res := mustSync(t, n, map[*node]*node{a: b, b: a}[n].h.ID()); res.RecordsReceived != 0 {
			t.Errorf("converged sync received %d records", res.RecordsReceived)
		}
	}
}

func TestInSyncCostIsIndependentOfSize(t *testing.T) {
	bytes := map[int]int64{}
	for _, n := range []int{100, 5000} {
		a, b := mustPair(t)
		recs := append(genRecords("origin-one", 1, n/2, 16), genRecords("origin-two", 1, n-n/2, 16)...)
		mustApply(t, a.st, recs)
		mustApply(t, b.st, recs)

		res := mustSync(t, a, b.h.ID())
		if res.RecordsReceived != 0 || res.Batches != 0 {
			t.Errorf("n=%d: in-sync round received %d records in %d batches", n, res.RecordsReceived, res.Batches)
		}
		bytes[n] = res.BytesSent + res.BytesReceived
		t.Logf("n=%d: %d bytes sent, %d received", n, res.BytesSent, res.BytesReceived)
	}
	// Only the seq varints grow (one byte per origin, both ways).
	if bytes[100] > 128 || bytes[5000]-bytes[100] > 4 {
		t.Errorf("in-sync bytes %d at 100 records, %d at 5000; want small and flat", bytes[100], bytes[5000])
	}
}

func TestLargeBacklogArrivesInBatches(t *testing.T) {
	src, dst := mustPair(t)
	const n = 20_000
	mustApply(t, src.st, genRecords("origin-bulk", 1, n, 24))

	res := mustSync(t, dst, src.h.ID())
	if res.RecordsApplied != n {
		t.Errorf("applied %d, want %d", res.RecordsApplied, n)
	}
	if min := n / DefaultMaxBatchRecords; res.Batches < min {
		t.Errorf("%d batches, want at least %d", res.Batches, min)
	}
	assertConverged(t, src, dst)
}

func TestBatchBytesBound(t *testing.T) {
	hs := mustHosts(t, 2)
	src := mustNode(t, hs[0], func(c *Config) { c.MaxBatchBytes = 4 << 10 })
	dst := mustNode(t, hs[1], nil)
	// Records of about 1 KiB: four to a 4 KiB batch; one larger than the
	// bound still travels alone.
	recs := genRecords("origin-kb", 1, 40, 1000)
	recs = append(recs, genRecords("origin-big", 1, 1, 64<<10)...)
	mustApply(t, src.st, recs)

	res := mustSync(t, dst, src.h.ID())
	if res.RecordsApplied != len(recs) || res.Batches < 11 {
		t.Errorf("applied %d in %d batches, want %d in at least 11", res.RecordsApplied, res.Batches, len(recs))
	}
	assertConverged(t, src, dst)
}

// gatedNode starts a node whose responder holds every session at its
// snapshot until the returned store's gate opens.
func gatedNode(t *testing.T, h host.Host, tweak func(*Config)) (*node, *gatedStore) {
	t.Helper()
	var g *gatedStore
	n := mustNode(t, h, func(c *Config) {
		g = newGatedStore(c.Store.(*store.Store))
		c.Store = g
		if tweak != nil {
			tweak(c)
		}
	})
	return n, g
}

type syncOutcome struct {
	res Result
	err error
}

// syncAsync starts n.svc.Sync(ctx, p) and delivers its outcome on the
// returned channel.
func syncAsync(ctx context.Context, n *node, p peer.ID) <-chan syncOutcome {
	out := make(chan syncOutcome, 1)
	go func() {
		res, err := n.svc.Sync(ctx, p)
		out <- syncOutcome{res, err}
	}()
	return out
}

func TestConcurrentSyncsAreDeduplicated(t *testing.T) {
	hs := mustHosts(t, 2)
	src, gate := gatedNode(t, hs[0], nil)
	defer gate.open()
	dst := mustNode(t, hs[1], nil)
	mustApply(t, src.st, genRecords("origin-d", 1, 50, 16))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	first := syncAsync(ctx, dst, src.h.ID())
	waitFor(t, "responder session", func() bool { return gate.snapshots.Load() == 1 })
	second := syncAsync(ctx, dst, src.h.ID())
	waitFor(t, "second caller to join", func() bool { return dst.svc.waiters(src.h.ID()) == 2 })
	gate.open()

	r1, r2 := <-first, <-second
	if r1.err != nil || r2.err != nil {
		t.Fatalf("sync errors: %v, %v", r1.err, r2.err)
	}
	if r1.res.RecordsApplied != 50 || !reflect.DeepEqual(r1.res, r2.res) {
		t.Errorf("results differ or incomplete: %+v vs %+v", r1.res, r2.res)
	}
	if n := gate.snapshots.Load(); n != 1 {
		t.Errorf("responder served %d sessions, want 1", n)
	}
	// A shared session is counted once, whatever the number of callers.
	if st := dst.svc.Stats(); st.Sessions != 1 || st.RecordsReceived != 50 || st.RecordsApplied != 50 || st.BytesReceived == 0 {
		t.Errorf("stats after one shared session: %+v", st)
	}
}

func TestBusyResponderRefuses(t *testing.T) {
	hs := mustHosts(t, 3)
	src, gate := gatedNode(t, hs[0], func(c *Config) { c.MaxInbound = 1 })
	defer gate.open()
	a, b := mustNode(t, hs[1], nil), mustNode(t, hs[2], nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	held := syncAsync(ctx, a, src.h.ID())
	waitFor(t, "responder session", func() bool { return gate.snapshots.Load() == 1 })
	_, err := b.svc.Sync(ctx, src.h.ID())
	if !errors.Is(err, ErrBusy) || !errors.Is(err, ErrRemote) {
		t.Errorf("second peer got %v, want ErrBusy", err)
	}
	gate.open()
	if out := <-held; out.err != nil {
		t.Errorf("held sync: %v", out.err)
	}
	if len(b.rej.list()) != 0 {
		t.Errorf("a busy peer is not misbehaving, got rejects %v", b.rej.list())
	}
	// The responder frees the slot once the held session's stream is torn
	// down, which may trail the initiator's result a little.
	waitFor(t, "the responder to serve again", func() bool {
		_, err := b.svc.Sync(ctx, src.h.ID())
		if err != nil && !errors.Is(err, ErrBusy) {
			t.Fatalf("sync after the busy session ended: %v", err)
		}
		return err == nil
	})
}

func TestCloseCancelsInFlightSync(t *testing.T) {
	hs := mustHosts(t, 2)
	src, gate := gatedNode(t, hs[0], nil)
	defer gate.open()
	dst := mustNode(t, hs[1], nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	pending := syncAsync(ctx, dst, src.h.ID())
	waitFor(t, "responder session", func() bool { return gate.snapshots.Load() == 1 })
	dst.svc.Close()
	if out := <-pending; !errors.Is(out.err, ErrClosed) {
		t.Errorf("in-flight sync returned %v, want ErrClosed", out.err)
	}
	if _, err := dst.svc.Sync(ctx, src.h.ID()); !errors.Is(err, ErrClosed) {
		t.Errorf("sync after close returned %v, want ErrClosed", err)
	}
}

func TestCallerCancelStopsSession(t *testing.T) {
	hs := mustHosts(t, 2)
	src, gate := gatedNode(t, hs[0], nil)
	defer gate.open()
	dst := mustNode(t, hs[1], nil)
	mustApply(t, src.st, genRecords("origin-c", 1, 10, 16))
	ctx, cancel := context.WithCancel(context.Background())

	pending := syncAsync(ctx, dst, src.h.ID())
	waitFor(t, "responder session", func() bool { return gate.snapshots.Load() == 1 })
	cancel()
	if out := <-pending; !errors.Is(out.err, context.Canceled) {
		t.Errorf("cancelled sync returned %v, want context.Canceled", out.err)
	}
	waitFor(t, "session to end", func() bool { return dst.svc.waiters(src.h.ID()) == 0 })
	gate.open()
	// A fresh Sync starts a new session rather than sharing the dead one.
	waitFor(t, "responder to release the peer", func() bool {
		res, err := dst.svc.Sync(context.Background(), src.h.ID())
		return err == nil && res.RecordsApplied == 10
	})
}

// TestHeldWritesAreNotResent: a replica that got an origin's later writes
// before its earlier ones (gossip out of order) has a vector stuck below
// the gap. A pull costs only the missing writes, not everything above that
// vector, and closes the gap.
func TestHeldWritesAreNotResent(t *testing.T) {
	src, dst := mustPair(t)
	recs := genRecords("origin-g", 1, 100, 16)
	mustApply(t, src.st, recs)
	// dst holds 1-10, 21-60 and 81-100: two gaps.
	mustApply(t, dst.st, slices.Concat(recs[:10], recs[20:60], recs[80:]))

	res := mustSync(t, dst, src.h.ID())
	if res.RecordsReceived != 30 || res.RecordsApplied != 30 {
		t.Errorf("received %d, applied %d; want only the 30 missing", res.RecordsReceived, res.RecordsApplied)
	}
	if dst.st.Gaps() || dst.st.Vector()["origin-g"] != 100 {
		t.Errorf("after the pull: gaps %v, vector %v", dst.st.Gaps(), dst.st.Vector())
	}
	assertConverged(t, src, dst)
}
