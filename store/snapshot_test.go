package store

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/syncnode/syncnode/crdt"
)

// mixedFixture holds local writes, deletions, remote records (some
// superseded) and a joined vector.
func mixedFixture(t *testing.T, b backend) fixture {
	s := b.fixture(t, "self")
	for i := range 5 {
		mustPut(t, s.Store, "t", fmt.Sprintf("own%d", i), fmt.Sprintf(`%d`, i))
	}
	mustDelete(t, s.Store, "t", "own1")
	mustPut(t, s.Store, "u", "own3", `"other ns"`)
	mustApply(t, s.Store,
		remote("t", "p1a", `1`, stamp(1), "p1", 1),
		remote("t", "p1b", `1`, stamp(2), "p1", 2),
		remote("t", "p1a", ``, stamp(3), "p1", 3), // supersedes p1/1
		remote("t", "own0", `"theirs"`, stamp(-1), "p2", 1),
		remote("t", "p2b", `1`, stamp(4), "p2", 2),
		remote("u", "p2c", `1`, stamp(5), "p2", 4), // beyond a gap
	)
	return s
}

func testSummariesConsistent(t *testing.T, b backend) {
	s := mixedFixture(t, b)
	checkConsistent(t, s.Store)
	st := s.Stats()
	if want := (crdt.Vector{"self": 7, "p1": 3, "p2": 2}); !maps.Equal(st.Vector, want) {
		t.Fatalf("vector = %v, want %v", st.Vector, want)
	}
	if st.Live+st.Tombstones != int64(len(allRecords(t, s.Store))) {
		t.Fatalf("live %d + tombstones %d != record count", st.Live, st.Tombstones)
	}

	// Two replicas holding the same records have the same digest, whatever
	// the order their writes arrived in.
	other := b.fixture(t, "other")
	recs := allRecords(t, s.Store)
	for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
		recs[i], recs[j] = recs[j], recs[i]
	}
	mustApply(t, other.Store, recs...)
	if other.Digest() != s.Digest() {
		t.Fatalf("replica digest %v, want %v", other.Digest(), s.Digest())
	}
	// One more write on either side tells them apart.
	mustPut(t, other.Store, "t", "extra", `1`)
	if other.Digest() == s.Digest() {
		t.Fatal("digests equal after a write on one side only")
	}
	checkConsistent(t, other.Store)
}

// above collects what a snapshot streams above have.
func above(t *testing.T, sn *Snapshot, have crdt.Vector) []crdt.Record {
	t.Helper()
	var got []crdt.Record
	last := map[crdt.NodeID]uint64{}
	err := sn.Above(have, func(r crdt.Record) error {
		if r.Version.Seq <= last[r.Version.Origin] {
			t.Errorf("%s seq %d streamed after seq %d", r.Version.Origin, r.Version.Seq, last[r.Version.Origin])
		}
		last[r.Version.Origin] = r.Version.Seq
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatalf("above %v: %v", have, err)
	}
	sortRecords(got)
	return got
}

func testSnapshotAbove(t *testing.T, b backend) {
	s := mixedFixture(t, b)
	recs := allRecords(t, s.Store)
	sn := s.Snapshot()
	defer sn.Close()
	vec, err := sn.Vector()
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(vec, s.Vector()) {
		t.Fatalf("snapshot vector %v, store vector %v", vec, s.Vector())
	}
	haves := []crdt.Vector{
		{},
		{"self": 3},
		{"self": 3, "p1": 1, "p2": 9},
		{"p1": 2, "unknown": 5},
		vec,
		{"self": 100, "p1": 100, "p2": 100},
	}
	for _, have := range haves {
		var want []crdt.Record
		for _, r := range recs {
			if !have.Covers(r.Version.Origin, r.Version.Seq) {
				want = append(want, r)
			}
		}
		if got := above(t, sn, have); !recordsEqual(got, want) {
			t.Errorf("above %v:%s\nwant:%s", have, describe(got), describe(want))
		}
	}

	stop := errors.New("stop")
	calls := 0
	err = sn.Above(nil, func(crdt.Record) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("above with failing fn: err %v after %d calls, want stop after 1", err, calls)
	}
}

func testSnapshotIsolation(t *testing.T, b backend) {
	s := mixedFixture(t, b)
	before := allRecords(t, s.Store)
	vecBefore := s.Vector()
	sn := s.Snapshot()
	defer sn.Close()

	mustPut(t, s.Store, "t", "own0", `"after"`)
	mustPut(t, s.Store, "t", "new", `1`)
	mustApply(t, s.Store, remote("t", "p3", `1`, stamp(9), "p3", 1))

	vec, err := sn.Vector()
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(vec, vecBefore) {
		t.Fatalf("snapshot vector moved to %v, want %v", vec, vecBefore)
	}
	if got := above(t, sn, nil); !recordsEqual(got, before) {
		t.Fatalf("snapshot sees later writes:%s\nwant:%s", describe(got), describe(before))
	}
	// A new snapshot sees them, and the record held beyond p2's gap.
	sn2 := s.Snapshot()
	defer sn2.Close()
	got := keysOf(above(t, sn2, vecBefore))
	if want := []string{"new", "own0", "p3", "p2c"}; !slices.Equal(got, want) {
		t.Fatalf("new snapshot above the old vector: %v, want %v", got, want)
	}
}
