package crdt_test

import (
	"testing"

	"github.com/syncnode/syncnode/crdt"
	"pgregory.net/rapid"
)

func TestMergeCommutative(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := genRecord().Draw(t, "a"), genRecord().Draw(t, "b")
		requireSameRecord(t, "Merge(a,b) vs Merge(b,a)", crdt.Merge(a, b), crdt.Merge(b, a))
	})
}

func TestMergeAssociative(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b, c := genRecord().Draw(t, "a"), genRecord().Draw(t, "b"), genRecord().Draw(t, "c")
		requireSameRecord(t, "Merge(Merge(a,b),c) vs Merge(a,Merge(b,c))",
			crdt.Merge(crdt.Merge(a, b), c), crdt.Merge(a, crdt.Merge(b, c)))
	})
}

func TestMergeIdempotent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b := genRecord().Draw(t, "a"), genRecord().Draw(t, "b")
		requireSameRecord(t, "Merge(a,a)", crdt.Merge(a, a), a)
		ab := crdt.Merge(a, b)
		requireSameRecord(t, "Merge(Merge(a,b),b)", crdt.Merge(ab, b), ab)
	})
}

func TestMergeAnyPermutationSameWinner(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rs := rapid.SliceOfN(genRecord(), 1, 10).Draw(t, "records")
		perm := rapid.Permutation(rs).Draw(t, "permutation")
		requireSameRecord(t, "winner of permutation", mergeAll(perm), mergeAll(rs))
	})
}

func TestMergeWinnerIsMaxByHLCThenOrigin(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rs := rapid.SliceOfN(genRecord(), 1, 10).Draw(t, "records")
		w := mergeAll(rs)
		found := false
		for _, r := range rs {
			found = found || sameRecord(w, r)
			if w.Version.HLC < r.Version.HLC ||
				w.Version.HLC == r.Version.HLC && w.Version.Origin < r.Version.Origin {
				t.Fatalf("winner %v loses to input %v by (HLC, origin)", w.Version, r.Version)
			}
		}
		if !found {
			t.Fatalf("winner %+v is not one of the inputs", w)
		}
	})
}

func TestSupersedesAgreesWithMerge(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in, cur := genRecord().Draw(t, "incoming"), genRecord().Draw(t, "current")
		want := !sameRecord(in, cur) && sameRecord(crdt.Merge(in, cur), in)
		if got := crdt.Supersedes(in, cur); got != want {
			t.Fatalf("Supersedes = %v, want %v", got, want)
		}
		if crdt.Supersedes(in, cur) && crdt.Supersedes(cur, in) {
			t.Fatal("each record supersedes the other")
		}
	})
}

func TestMergeExamples(t *testing.T) {
	at := func(wall int64, origin crdt.NodeID, seq uint64) crdt.Version {
		return crdt.Version{HLC: crdt.NewTimestamp(wall, 0), Origin: origin, Seq: seq}
	}
	live := func(v crdt.Version, value string) crdt.Record {
		return crdt.Record{NS: "tasks", Key: "k", Value: []byte(value), Version: v}
	}
	tomb := func(v crdt.Version) crdt.Record {
		return crdt.Record{NS: "tasks", Key: "k", Deleted: true, Version: v}
	}
	tests := []struct {
		name string
		a, b crdt.Record
		want crdt.Record
	}{
		{
			name: "later write wins",
			a:    live(at(10, "a", 1), `1`), b: live(at(11, "a", 2), `2`),
			want: live(at(11, "a", 2), `2`),
		},
		{
			name: "later tombstone deletes",
			a:    live(at(10, "a", 1), `1`), b: tomb(at(11, "b", 1)),
			want: tomb(at(11, "b", 1)),
		},
		{
			name: "later write resurrects after tombstone",
			a:    tomb(at(10, "a", 5)), b: live(at(11, "b", 1), `1`),
			want: live(at(11, "b", 1), `1`),
		},
		{
			name: "equal HLC broken by greater origin",
			a:    live(at(10, "b", 1), `"b"`), b: live(at(10, "a", 9), `"a"`),
			want: live(at(10, "b", 1), `"b"`),
		},
		{
			name: "seq plays no part when (HLC, origin) differ",
			a:    live(at(10, "a", 100), `1`), b: live(at(10, "b", 1), `2`),
			want: live(at(10, "b", 1), `2`),
		},
		{
			name: "logical counter orders writes in one millisecond",
			a:    live(crdt.Version{HLC: crdt.NewTimestamp(10, 2), Origin: "a", Seq: 1}, `1`),
			b:    live(crdt.Version{HLC: crdt.NewTimestamp(10, 1), Origin: "z", Seq: 2}, `2`),
			want: live(crdt.Version{HLC: crdt.NewTimestamp(10, 2), Origin: "a", Seq: 1}, `1`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireSameRecord(t, "Merge(a,b)", crdt.Merge(tt.a, tt.b), tt.want)
			requireSameRecord(t, "Merge(b,a)", crdt.Merge(tt.b, tt.a), tt.want)
		})
	}
}
