package store

import (
	"context"
	"fmt"
	"maps"
	"testing"

	"pgregory.net/rapid"

	"github.com/syncnode/syncnode/crdt"
)

// genHistory draws the writes of a few honest origins to a few keys: each
// origin numbers its writes 1, 2, ... and stamps them with increasing HLCs,
// but stamps of different origins collide often, so ties between origins
// and tombstones racing writes are common.
func genHistory() *rapid.Generator[[]crdt.Record] {
	return rapid.Custom(func(t *rapid.T) []crdt.Record {
		var recs []crdt.Record
		for _, origin := range []crdt.NodeID{"a", "b", "c"} {
			n := rapid.IntRange(0, 12).Draw(t, fmt.Sprintf("writes by %s", origin))
			hlc := crdt.Timestamp(0)
			for seq := 1; seq <= n; seq++ {
				hlc += crdt.Timestamp(rapid.IntRange(1, 3).Draw(t, "tick"))
				ns := rapid.SampledFrom([]string{"n", "m"}).Draw(t, "ns")
				key := rapid.SampledFrom([]string{"k0", "k1", "k2", "k3"}).Draw(t, "key")
				value := ""
				if !rapid.Bool().Draw(t, "delete") {
					value = fmt.Sprintf(`{"by":%q,"seq":%d}`, origin, seq)
				}
				recs = append(recs, remote(ns, key, value, stamp(0)+hlc, origin, uint64(seq)))
			}
		}
		return recs
	})
}

// drawBatches splits recs into consecutive batches of random sizes, some
// repeated to exercise idempotence.
func drawBatches(t *rapid.T, label string, recs []crdt.Record) [][]crdt.Record {
	var out [][]crdt.Record
	for len(recs) > 0 {
		n := rapid.IntRange(1, len(recs)).Draw(t, label+" batch size")
		out = append(out, recs[:n])
		if rapid.IntRange(0, 4).Draw(t, label+" repeat") == 0 {
			out = append(out, recs[:n])
		}
		recs = recs[n:]
	}
	return out
}

// propertyStore opens an in-memory store for one check; the caller closes
// it.
func propertyStore(origin crdt.NodeID) (*Store, error) {
	opts := testOptions(origin, newManualClock(baseMS))
	opts.InMemory = true
	return Open(opts)
}

// TestApplyOrderIndependent applies the same records to two stores in
// different orders and batchings: contents, digests, counters and vectors
// come out equal, and the digest equals one computed from the records that
// last-writer-wins picks.
func TestApplyOrderIndependent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		recs := genHistory().Draw(t, "records")
		var stores [2]*Store
		for i := range stores {
			s, err := propertyStore(crdt.NodeID(fmt.Sprintf("replica%d", i)))
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer s.Close()
			stores[i] = s
			order := rapid.Permutation(recs).Draw(t, fmt.Sprintf("order %d", i))
			for _, batch := range drawBatches(t, fmt.Sprintf("replica %d", i), order) {
				res, err := s.Apply(context.Background(), batch)
				if err != nil || len(res.Rejected) > 0 {
					t.Fatalf("apply: %v, rejected %v", err, res.Rejected)
				}
			}
		}

		winners := map[[2]string]crdt.Record{}
		for _, r := range recs {
			id := [2]string{r.NS, r.Key}
			if cur, ok := winners[id]; ok {
				r = crdt.Merge(cur, r)
			}
			winners[id] = r
		}
		var want []crdt.Record
		var digest crdt.Digest
		for _, r := range winners {
			want = append(want, r)
			digest.Add(r)
		}
		sortRecords(want)

		for i, s := range stores {
			got, err := readAll(s)
			if err != nil {
				t.Fatal(err)
			}
			if !recordsEqual(got, want) {
				t.Fatalf("replica %d holds:%s\nwant:%s", i, describe(got), describe(want))
			}
			if s.Digest() != digest {
				t.Fatalf("replica %d digest %v, want %v", i, s.Digest(), digest)
			}
		}
		a, b := stores[0].Stats(), stores[1].Stats()
		if a.Live != b.Live || a.Tombstones != b.Tombstones || !maps.Equal(a.Vector, b.Vector) {
			t.Fatalf("stats differ: %+v vs %+v", a, b)
		}
	})
}
