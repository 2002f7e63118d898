package crdt_test

import (
	"testing"

	"github.com/syncnode/syncnode/crdt"
	"pgregory.net/rapid"
)

func genVector() *rapid.Generator[crdt.Vector] {
	return rapid.Map(
		rapid.MapOfN(rapid.SampledFrom(testOrigins), rapid.Uint64Range(0, 5), 0, len(testOrigins)),
		func(m map[crdt.NodeID]uint64) crdt.Vector { return crdt.Vector(m) },
	)
}

func joined(a, b crdt.Vector) crdt.Vector {
	j := a.Clone()
	j.Join(b)
	return j
}

// sameVector treats an absent origin and a zero entry alike.
func sameVector(a, b crdt.Vector) bool { return a.Dominates(b) && b.Dominates(a) }

func requireSameVector(tb rapid.TB, what string, got, want crdt.Vector) {
	tb.Helper()
	if !sameVector(got, want) {
		tb.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func TestVectorJoinIsLeastUpperBound(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := genVector().Draw(t, "a"), genVector().Draw(t, "b")
		j := joined(a, b)
		if !j.Dominates(a) || !j.Dominates(b) {
			t.Fatalf("join %v does not dominate both %v and %v", j, a, b)
		}
		for _, id := range testOrigins {
			if want := max(a.Get(id), b.Get(id)); j.Get(id) != want {
				t.Fatalf("join[%s] = %d, want max = %d", id, j.Get(id), want)
			}
		}
	})
}

func TestVectorJoinAlgebra(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b, c := genVector().Draw(t, "a"), genVector().Draw(t, "b"), genVector().Draw(t, "c")
		requireSameVector(t, "commutative", joined(a, b), joined(b, a))
		requireSameVector(t, "associative", joined(joined(a, b), c), joined(a, joined(b, c)))
		requireSameVector(t, "idempotent", joined(a, a), a)
	})
}

func TestVectorJoinReportsChange(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := genVector().Draw(t, "a"), genVector().Draw(t, "b")
		before := a.Clone()
		changed := a.Join(b)
		if want := !before.Dominates(b); changed != want {
			t.Fatalf("%v.Join(%v) = %v, want %v", before, b, changed, want)
		}
		if a.Join(b) {
			t.Fatal("second identical Join reported a change")
		}
	})
}

func TestVectorCovers(t *testing.T) {
	v := crdt.Vector{"node-a": 3}
	tests := []struct {
		origin crdt.NodeID
		seq    uint64
		want   bool
	}{
		{"node-a", 1, true},
		{"node-a", 3, true},
		{"node-a", 4, false},
		{"node-b", 1, false},
		{"node-b", 0, true},
	}
	for _, tt := range tests {
		if got := v.Covers(tt.origin, tt.seq); got != tt.want {
			t.Errorf("Covers(%s, %d) = %v, want %v", tt.origin, tt.seq, got, tt.want)
		}
	}
}

func TestVectorCloneIsIndependent(t *testing.T) {
	v := crdt.Vector{"node-a": 1}
	c := v.Clone()
	c["node-a"] = 9
	c["node-b"] = 1
	if v.Get("node-a") != 1 || v.Get("node-b") != 0 {
		t.Fatalf("mutating the clone changed the original: %v", v)
	}
	var empty crdt.Vector
	c = empty.Clone()
	if c == nil {
		t.Fatal("Clone of a nil Vector returned nil")
	}
	c.Join(crdt.Vector{"node-a": 2}) // must not panic on a nil map
	if c.Get("node-a") != 2 {
		t.Fatalf("join into clone of nil: got %v", c)
	}
}
