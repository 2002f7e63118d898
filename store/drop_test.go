package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/syncnode/syncnode/crdt"
)

func mustDrop(tb testing.TB, s *Store, match func(crdt.Record) bool) int {
	tb.Helper()
	n, err := s.Drop(context.Background(), match)
	if err != nil {
		tb.Fatalf("drop: %v", err)
	}
	return n
}

func mustCollect(tb testing.TB, s *Store, q crdt.Vector) int {
	tb.Helper()
	n, err := s.Collect(context.Background(), q)
	if err != nil {
		tb.Fatalf("collect: %v", err)
	}
	return n
}

// requireSameState checks that a and b hold the same records under the
// same digest.
func requireSameState(tb testing.TB, a, b *Store) {
	tb.Helper()
	ra, rb := allRecords(tb, a), allRecords(tb, b)
	if !recordsEqual(ra, rb) {
		tb.Fatalf("records differ:\nfirst:%s\nsecond:%s", describe(ra), describe(rb))
	}
	if a.Digest() != b.Digest() {
		tb.Fatalf("digest %v != %v for the same records", a.Digest(), b.Digest())
	}
}

func testDrop(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	mustPut(t, s.Store, "keep", "a", `1`)
	mustPut(t, s.Store, "gone", "a", `1`)
	mustPut(t, s.Store, "gone", "b", `2`)
	mustDelete(t, s.Store, "gone", "b")
	mustDelete(t, s.Store, "keep", "tomb")
	mustApply(t, s.Store,
		remote("gone", "c", `3`, stamp(0), "p1", 1),
		remote("keep", "c", `3`, stamp(0), "p1", 2),
	)
	vec := s.Vector()
	changed := s.Changed()

	if n := mustDrop(t, s.Store, func(r crdt.Record) bool { return r.NS == "gone" }); n != 3 {
		t.Fatalf("dropped %d records, want 3", n)
	}
	select {
	case <-changed:
	default:
		t.Fatal("Drop did not signal Changed")
	}
	for _, key := range []string{"a", "b", "c"} {
		if _, err := s.Get("gone", key); !errors.Is(err, ErrNotFound) {
			t.Errorf("gone/%s after drop: %v, want ErrNotFound", key, err)
		}
	}
	if !maps.Equal(s.Vector(), vec) {
		t.Fatalf("drop changed the vector from %v to %v", vec, s.Vector())
	}
	if st := s.Stats(); st.Live != 2 || st.Tombstones != 1 {
		t.Fatalf("stats live/tombstones = %d/%d, want 2/1", st.Live, st.Tombstones)
	}
	checkConsistentHeadAhead(t, s.Store)

	// The state equals that of a store that only ever held what is left.
	other := b.fixture(t, "other")
	mustApply(t, other.Store, allRecords(t, s.Store)...)
	requireSameState(t, s.Store, other.Store)

	// Dropped records do not come back through anti-entropy or gossip.
	snap := s.Snapshot()
	defer snap.Close()
	var above []string
	if err := snap.Above(nil, func(r crdt.Record) error {
		above = append(above, r.NS+"/"+r.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.Join(above, " "), "gone/") {
		t.Fatalf("index still lists dropped records: %v", above)
	}
	if res := mustApply(t, s.Store, remote("gone", "c", `3`, stamp(0), "p1", 1)); res.Stale != 1 {
		t.Fatalf("re-applying a dropped record: %+v, want stale", res)
	}
	// A new write to a dropped key is an ordinary write, at a feed position
	// no reader has seen before.
	head := s.Stats().FeedHead
	mustPut(t, s.Store, "gone", "a", `"again"`)
	if changes, _, err := s.Changes(head, "gone", 10); err != nil || len(changes) != 1 {
		t.Fatalf("changes after feed head %d = %v, %v; want the rewrite", head, changes, err)
	}
	if got := mustGet(t, s.Store, "gone", "a"); string(got.Value) != `"again"` {
		t.Fatalf("gone/a after rewrite = %s", describe([]crdt.Record{got}))
	}
	checkConsistentHeadAhead(t, s.Store)
}

// testDropMany drops from more records than one scan chunk holds.
func testDropMany(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	const n = 2*dropScanChunk + 500
	recs := make([]crdt.Record, n)
	for i := range recs {
		recs[i] = remote("t", fmt.Sprintf("k%05d", i), `1`, stamp(int64(i)), "p1", uint64(i+1))
	}
	mustApply(t, s.Store, recs...)
	odd := func(r crdt.Record) bool { return r.Version.Seq%2 == 1 }
	if got := mustDrop(t, s.Store, odd); got != n/2 {
		t.Fatalf("dropped %d, want %d", got, n/2)
	}
	if got := mustDrop(t, s.Store, odd); got != 0 {
		t.Fatalf("second drop removed %d, want 0", got)
	}
	if st := s.Stats(); st.Live != n/2 {
		t.Fatalf("live = %d, want %d", st.Live, n/2)
	}
	checkConsistentHeadAhead(t, s.Store)
}

// testDropRechecks shows that match is checked again when the record is
// removed: a record that stopped matching since the scan is kept.
func testDropRechecks(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	mustPut(t, s.Store, "t", "a", `1`)
	mustPut(t, s.Store, "t", "b", `1`)
	calls := map[string]int{}
	n := mustDrop(t, s.Store, func(r crdt.Record) bool {
		calls[r.Key]++
		return r.Key == "a" || calls[r.Key] == 1 // b matches only when scanned
	})
	if n != 1 {
		t.Fatalf("dropped %d, want 1", n)
	}
	if _, err := s.Get("t", "b"); err != nil {
		t.Fatalf("b, which no longer matched, was dropped: %v", err)
	}
	checkConsistentHeadAhead(t, s.Store)
}

func testCollect(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	mustPut(t, s.Store, "t", "live", `1`)         // self 1
	mustPut(t, s.Store, "t", "old", `1`)          // self 2
	oldTomb := mustDelete(t, s.Store, "t", "old") // self 3
	newTomb := mustDelete(t, s.Store, "t", "new") // self 4
	mustApply(t, s.Store, remote("t", "peer", ``, stamp(0), "p1", 1))
	q := crdt.Vector{"self": oldTomb.Seq, "p1": 1}
	if n := mustCollect(t, s.Store, q); n != 2 {
		t.Fatalf("collected %d tombstones, want 2", n)
	}
	for _, key := range []string{"old", "peer"} {
		if _, err := s.Get("t", key); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s after collect: %v, want ErrNotFound", key, err)
		}
	}
	if got := mustGet(t, s.Store, "t", "new"); !got.Deleted || got.Version != newTomb {
		t.Fatalf("uncovered tombstone = %s", describe([]crdt.Record{got}))
	}
	if got := mustGet(t, s.Store, "t", "live"); got.Deleted {
		t.Fatal("collect removed a live record")
	}
	if st := s.Stats(); st.Live != 1 || st.Tombstones != 1 {
		t.Fatalf("stats live/tombstones = %d/%d, want 1/1", st.Live, st.Tombstones)
	}
	checkConsistentHeadAhead(t, s.Store)
}

// testCollectNoResurrect: once a tombstone is collected, an old copy of
// the record it deleted, arriving late from a peer, must not bring the key
// back; a write not seen before still applies.
func testCollectNoResurrect(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	put := mustPut(t, s.Store, "t", "k", `"old"`)
	mustDelete(t, s.Store, "t", "k")
	oldPeer := remote("t", "p", `"old"`, stamp(0), "p1", 1)
	mustApply(t, s.Store, oldPeer, remote("t", "p", ``, stamp(1), "p1", 2))
	// A write beyond a gap is seen too.
	held := remote("t", "h", `"held"`, stamp(0), "p2", 3)
	mustApply(t, s.Store, held, remote("t", "h", ``, stamp(1), "p2", 4))

	if n := mustCollect(t, s.Store, crdt.Vector{"self": 2, "p1": 2, "p2": 4}); n != 3 {
		t.Fatalf("collected %d, want 3", n)
	}
	old := crdt.Record{NS: "t", Key: "k", Value: []byte(`"old"`), Version: put}
	res := mustApply(t, s.Store, old, oldPeer, held)
	if len(res.Applied) != 0 || res.Stale != 3 {
		t.Fatalf("re-applying collected keys' old records: applied %d stale %d, want 3 stale", len(res.Applied), res.Stale)
	}
	for _, key := range []string{"k", "p", "h"} {
		if _, err := s.Get("t", key); !errors.Is(err, ErrNotFound) {
			t.Fatalf("t/%s resurrected: %v", key, err)
		}
	}
	fresh := remote("t", "k", `"new"`, stamp(2), "p1", 3)
	if res := mustApply(t, s.Store, fresh); len(res.Applied) != 1 {
		t.Fatalf("a new write to a collected key: %+v, want applied", res)
	}
	checkConsistentHeadAhead(t, s.Store)
}
