package crdt_test

import (
	"slices"
	"testing"

	"github.com/syncnode/syncnode/crdt"
	"pgregory.net/rapid"
)

type observation struct {
	origin crdt.NodeID
	seq    uint64
}

// genObservations draws the writes a replica might receive: for each origin
// some of seqs 1..n (so gaps are common), with duplicates.
func genObservations() *rapid.Generator[[]observation] {
	return rapid.Custom(func(t *rapid.T) []observation {
		var obs []observation
		for _, id := range testOrigins {
			n := rapid.Uint64Range(0, 30).Draw(t, "n")
			for seq := uint64(1); seq <= n; seq++ {
				copies := rapid.IntRange(0, 2).Draw(t, "copies")
				for range copies {
					obs = append(obs, observation{id, seq})
				}
			}
		}
		return obs
	})
}

// contiguous is the reference model: the highest seq s with every seq in
// 1..s observed.
func contiguous(obs []observation) crdt.Vector {
	seen := map[observation]bool{}
	for _, o := range obs {
		seen[o] = true
	}
	v := crdt.Vector{}
	for _, id := range testOrigins {
		for seen[observation{id, v[id] + 1}] {
			v[id]++
		}
	}
	return v
}

func observeAll(f *crdt.Frontier, obs []observation) {
	for _, o := range obs {
		f.Observe(o.origin, o.seq)
	}
}

func TestFrontierOrderIndependent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sorted := genObservations().Draw(t, "observations")
		shuffled := rapid.Permutation(sorted).Draw(t, "order")

		inOrder := crdt.NewFrontier(nil)
		observeAll(inOrder, sorted)
		anyOrder := crdt.NewFrontier(nil)
		observeAll(anyOrder, shuffled)

		want := contiguous(sorted)
		requireSameVector(t, "sorted order", inOrder.Vector(), want)
		requireSameVector(t, "shuffled order", anyOrder.Vector(), want)
		wantGaps := slices.ContainsFunc(sorted, func(o observation) bool { return o.seq > want[o.origin] })
		if inOrder.Gaps() != wantGaps || anyOrder.Gaps() != wantGaps {
			t.Fatalf("Gaps() = %v (sorted), %v (shuffled); want %v", inOrder.Gaps(), anyOrder.Gaps(), wantGaps)
		}
	})
}

func TestFrontierObserveResults(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		obs := rapid.Permutation(genObservations().Draw(t, "observations")).Draw(t, "order")
		f := crdt.NewFrontier(nil)
		for _, o := range obs {
			before := f.Get(o.origin)
			advanced, gap := f.Observe(o.origin, o.seq)
			if want := f.Get(o.origin) > before; advanced != want {
				t.Fatalf("Observe(%s, %d) at %d: advanced = %v, want %v", o.origin, o.seq, before, advanced, want)
			}
			if want := o.seq > before+1; gap != want {
				t.Fatalf("Observe(%s, %d) at %d: gap = %v, want %v", o.origin, o.seq, before, gap, want)
			}
		}
	})
}

// TestFrontierSeen checks Seen against the set of observed writes, in any
// order: a seq is seen once it was observed or the vector covers it. Held,
// what a peer is told it need not resend, is exactly what is seen above the
// vector.
func TestFrontierSeen(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		obs := genObservations().Draw(t, "observations")
		f := crdt.NewFrontier(nil)
		observeAll(f, rapid.Permutation(obs).Draw(t, "order"))
		seen := map[observation]bool{}
		for _, o := range obs {
			seen[o] = true
		}
		v := f.Vector()
		held := f.Held(1 << 20)
		for _, id := range testOrigins {
			for seq := uint64(1); seq <= 32; seq++ {
				want := seen[observation{id, seq}] || seq <= v[id]
				if got := f.Seen(id, seq); got != want {
					t.Fatalf("Seen(%s, %d) = %v, want %v (vector %v)", id, seq, got, want, v)
				}
				if got := held.Has(id, seq); got != (want && seq > v[id]) {
					t.Fatalf("Held.Has(%s, %d) = %v, vector %v, seen %v", id, seq, got, v, want)
				}
			}
		}
		if (held == nil) == f.Gaps() {
			t.Fatalf("Held() = %v with Gaps() = %v", held, f.Gaps())
		}
	})
}

func TestFrontierJoinFillsGap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		obs := genObservations().Draw(t, "observations")
		peer := genVector().Draw(t, "peer")
		f := crdt.NewFrontier(nil)
		observeAll(f, rapid.Permutation(obs).Draw(t, "order"))
		f.Join(peer)

		// The peer's vector stands for every seq up to its entry.
		all := slices.Clone(obs)
		for id, seq := range peer {
			for s := uint64(1); s <= seq; s++ {
				all = append(all, observation{id, s})
			}
		}
		requireSameVector(t, "after join", f.Vector(), contiguous(all))
	})
}

func TestFrontierStartsFromPersistedVector(t *testing.T) {
	persisted := crdt.Vector{"node-a": 5}
	f := crdt.NewFrontier(persisted)
	if advanced, gap := f.Observe("node-a", 3); advanced || gap {
		t.Errorf("Observe(covered seq) = (%v, %v), want (false, false)", advanced, gap)
	}
	if advanced, gap := f.Observe("node-a", 6); !advanced || gap {
		t.Errorf("Observe(next seq) = (%v, %v), want (true, false)", advanced, gap)
	}
	if persisted.Get("node-a") != 5 {
		t.Errorf("frontier mutated the vector it started from: %v", persisted)
	}
	v := f.Vector()
	v["node-a"] = 100
	if f.Get("node-a") != 6 {
		t.Errorf("mutating Vector() changed the frontier: Get = %d", f.Get("node-a"))
	}
}

// TestFrontierHoldsLongRuns: a burst reordered by the network arrives as
// long runs beyond a gap; all of it is held, however long, and absorbed
// when the gap fills.
func TestFrontierHoldsLongRuns(t *testing.T) {
	const flood = 100_000
	f := crdt.NewFrontier(nil)
	for seq := uint64(3); seq <= flood; seq++ {
		f.Observe("node-a", seq)
	}
	f.Observe("node-a", 1)
	if f.Get("node-a") != 1 || !f.Gaps() {
		t.Fatalf("Get = %d, Gaps = %v; want 1 and a gap at 2", f.Get("node-a"), f.Gaps())
	}
	if advanced, _ := f.Observe("node-a", 2); !advanced || f.Get("node-a") != flood || f.Gaps() {
		t.Fatalf("after filling the gap Get = %d, Gaps = %v; want %d, false", f.Get("node-a"), f.Gaps(), flood)
	}
}

// TestFrontierBoundsHeldRuns checks that a flood of scattered writes beyond
// a gap is held only up to a bound of runs, and that what is dropped is
// never counted as seen: anti-entropy re-delivers it.
func TestFrontierBoundsHeldRuns(t *testing.T) {
	const flood = 10_000
	f := crdt.NewFrontier(nil)
	for seq := uint64(2); seq <= 2*flood; seq += 2 { // 2, 4, 6, ...: one run each
		f.Observe("node-a", seq)
	}
	for seq := uint64(1); seq < 2*flood; seq += 2 {
		f.Observe("node-a", seq)
	}
	got := f.Get("node-a")
	if got <= 1 || got >= 2*flood {
		t.Fatalf("after filling the odd seqs Get = %d, want some held runs absorbed but not all %d", got, 2*flood)
	}
	for seq := got + 1; seq <= 2*flood; seq++ {
		f.Observe("node-a", seq)
	}
	if f.Get("node-a") != 2*flood || f.Gaps() {
		t.Fatalf("after re-delivery Get = %d, Gaps = %v; want %d, false", f.Get("node-a"), f.Gaps(), 2*flood)
	}
}
