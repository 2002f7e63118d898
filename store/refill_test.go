package store

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/syncnode/syncnode/crdt"
)

// testDropAfterAndRefill is the revoked-writer case: a replica took
// mallory's late writes, one of which replaced alice's record; dropping
// them leaves holes. A peer's answer fills one with alice's record,
// although its version is one this replica has seen, and says the other
// key holds nothing; a key the answer leaves out, or whose record is
// refused, stays a hole.
func testDropAfterAndRefill(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	ctx := context.Background()
	alice := remote("t", "k", `"alice"`, stamp(0), "alice", 1)
	early := remote("t", "early", `"before the cut"`, stamp(0), "mallory", 1)
	late := remote("t", "k", `"mallory"`, stamp(1), "mallory", 2)
	solo := remote("t", "solo", `"mallory alone"`, stamp(1), "mallory", 3)
	other := remote("t", "other", `"mallory again"`, stamp(1), "mallory", 4)
	mustApply(t, s.Store, alice, early, late, solo, other)
	if n, err := s.DropAfter(ctx, "mallory", 1); err != nil || n != 3 {
		t.Fatalf("DropAfter = %d, %v; want the 3 records after the cut", n, err)
	}
	if _, err := s.Get("t", "early"); err != nil {
		t.Fatalf("the write before the cut was dropped: %v", err)
	}
	want := []Key{{"t", "k"}, {"t", "other"}, {"t", "solo"}}
	got := s.Holes()
	if !slices.Equal(holeKeys(got), want) || got[0].Origin != "mallory" || got[0].Cut != 1 || s.HoleCount() != 3 {
		t.Fatalf("holes %+v (count %d), want %v left by mallory above 1", got, s.HoleCount(), want)
	}

	// Alice's record comes back only through Refill: Apply counts it stale.
	if res := mustApply(t, s.Store, alice); len(res.Applied) != 0 {
		t.Fatalf("Apply reinstalled a seen version: %+v", res)
	}
	skewed := remote("t", "other", `"from the future"`, stamp(3_600_000), "bob", 1)
	res, err := s.Refill(ctx, got, []crdt.Record{alice, skewed}, []Key{{"t", "solo"}})
	if err != nil || len(res.Applied) != 1 || len(res.Rejected) != 1 {
		t.Fatalf("Refill = %+v, %v; want alice's record applied, the skewed one refused", res, err)
	}
	if got := mustGet(t, s.Store, "t", "k"); string(got.Value) != `"alice"` {
		t.Fatalf("t/k = %s after refill, want alice's", got.Value)
	}
	if _, err := s.Get("t", "solo"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("t/solo, which the peer lacks, = %v; want it empty", err)
	}
	if got := s.Holes(); !slices.Equal(holeKeys(got), []Key{{"t", "other"}}) {
		t.Fatalf("holes after refill: %v; want t/other, whose answer was refused", got)
	}
	// An answer for a key that is no longer a hole changes nothing.
	old := remote("t", "k", `"old answer"`, stamp(-5), "bob", 2)
	if res, err := s.Refill(ctx, got, []crdt.Record{old}, nil); err != nil || len(res.Applied) != 0 {
		t.Fatalf("Refill of a filled key = %+v, %v; want nothing applied", res, err)
	}
	checkConsistentHeadAhead(t, s.Store)

	// A write fills a hole; a plain Drop, such as tombstone collection,
	// leaves none.
	mustPut(t, s.Store, "t", "other", `"rewritten"`)
	mustDelete(t, s.Store, "t", "gone")
	if _, err := s.Collect(ctx, s.Vector()); err != nil {
		t.Fatal(err)
	}
	if got := s.Holes(); len(got) != 0 {
		t.Fatalf("holes %v, want none: the write filled one, and Collect makes none", got)
	}
	checkConsistentHeadAhead(t, s.Store)
}

// testRefillLarge: an answer too big for one Badger transaction (300
// records of 16 KiB) is committed in parts.
func testRefillLarge(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	ctx := context.Background()
	const n = 300
	var mine, answer []crdt.Record
	for i := range n {
		key := "k" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		mine = append(mine, remote("t", key, `"late"`, stamp(1), "mallory", uint64(i+1)))
		answer = append(answer, remote("t", key, `"alice"`, stamp(0), "alice", uint64(i+1)))
	}
	mustApply(t, s.Store, answer...)
	mustApply(t, s.Store, mine...)
	if _, err := s.DropAfter(ctx, "mallory", 0); err != nil {
		t.Fatal(err)
	}
	big := make([]crdt.Record, len(answer))
	for i, r := range answer {
		r.Value = []byte(`"` + string(bytesOf('x', 16<<10)) + `"`)
		big[i] = r
	}
	// The big values differ from what was stored, but the versions are
	// alice's: what matters is that every hole is filled.
	if res, err := s.Refill(ctx, s.Holes(), big, nil); err != nil || len(res.Applied) != n {
		t.Fatalf("Refill = %d applied, %v; want %d", len(res.Applied), err, n)
	}
	if got := s.Holes(); len(got) != 0 {
		t.Fatalf("%d holes left", len(got))
	}
}

func bytesOf(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}

// testRefillAnswersTheHoleAsked: an answer about a hole that was filled
// and made again since it was asked about leaves the new hole alone.
func testRefillAnswersTheHoleAsked(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	ctx := context.Background()
	mustApply(t, s.Store, remote("t", "k", `"alice"`, stamp(0), "alice", 1), remote("t", "k", `"late"`, stamp(1), "mallory", 1))
	if _, err := s.DropAfter(ctx, "mallory", 0); err != nil {
		t.Fatal(err)
	}
	asked := s.Holes()
	// Meanwhile bob writes the key, filling the hole, and eve, revoked
	// in turn, overwrites it and is dropped: a new hole.
	mustApply(t, s.Store, remote("t", "k", `"bob"`, stamp(2), "bob", 1), remote("t", "k", `"eve"`, stamp(3), "eve", 1))
	if _, err := s.DropAfter(ctx, "eve", 0); err != nil {
		t.Fatal(err)
	}
	// The answer, from before bob's write, says the key holds nothing.
	if _, err := s.Refill(ctx, asked, nil, []Key{{"t", "k"}}); err != nil {
		t.Fatal(err)
	}
	if got := s.Holes(); len(got) != 1 || got[0].Origin != "eve" {
		t.Fatalf("holes %v; want eve's, untouched by an answer about mallory's", got)
	}
}

// TestHolesSurviveReopen: a hole is remembered on disk until filled.
func TestHolesSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, Origin: "self", Logger: discardLogger()}
	s := mustOpen(t, opts)
	mustApply(t, s, remote("t", "k", `1`, stamp(0), "mallory", 1))
	if _, err := s.DropAfter(context.Background(), "mallory", 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, opts)
	if got := s.Holes(); !slices.Equal(holeKeys(got), []Key{{"t", "k"}}) || got[0].Origin != "mallory" {
		t.Fatalf("holes after reopen: %v", got)
	}
}

func holeKeys(holes []Hole) []Key {
	keys := make([]Key, len(holes))
	for i, h := range holes {
		keys[i] = h.Key
	}
	return keys
}
