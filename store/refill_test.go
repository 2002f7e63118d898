package store

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/syncnode/syncnode/crdt"
)

// testDropAndRefill is the revoked-writer case: a replica took mallory's
// late write, which replaced alice's record; dropping it leaves a hole that
// a peer's answer fills with alice's record, although its version is one
// this replica has seen, while a key dropped the plain way stays empty.
func testDropAndRefill(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	ctx := context.Background()
	alice := remote("t", "k", `"alice"`, stamp(0), "alice", 1)
	mallory := remote("t", "k", `"mallory"`, stamp(1), "mallory", 1)
	other := remote("t", "solo", `"mallory alone"`, stamp(1), "mallory", 2)
	mustApply(t, s.Store, alice, mallory, other)
	byMallory := func(r crdt.Record) bool { return r.Version.Origin == "mallory" }
	if n, err := s.DropAndRefill(ctx, byMallory); err != nil || n != 2 {
		t.Fatalf("DropAndRefill = %d, %v; want 2 records", n, err)
	}
	want := []Key{{"t", "k"}, {"t", "solo"}}
	if got := s.Holes(); !slices.Equal(holeKeys(got), want) || got[0].Dropped != mallory.Version {
		t.Fatalf("holes %v, want %v, the first left by %v", got, want, mallory.Version)
	}

	// Alice's record comes back only through Refill: Apply counts it stale.
	if res := mustApply(t, s.Store, alice); len(res.Applied) != 0 {
		t.Fatalf("Apply reinstalled a seen version: %+v", res)
	}
	res, err := s.Refill(ctx, want, []crdt.Record{alice})
	if err != nil || len(res.Applied) != 1 {
		t.Fatalf("Refill = %+v, %v; want alice's record applied", res, err)
	}
	if got := mustGet(t, s.Store, "t", "k"); string(got.Value) != `"alice"` {
		t.Fatalf("t/k = %s after refill, want alice's", got.Value)
	}
	if _, err := s.Get("t", "solo"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("t/solo, which the peer lacks, = %v; want it empty", err)
	}
	if got := s.Holes(); len(got) != 0 {
		t.Fatalf("holes after refill: %v", got)
	}
	// A refill for a key that is no longer a hole changes nothing.
	newer := remote("t", "k", `"old answer"`, stamp(-5), "bob", 1)
	if res, err := s.Refill(ctx, want, []crdt.Record{newer}); err != nil || len(res.Applied) != 0 {
		t.Fatalf("Refill of filled keys = %+v, %v; want nothing applied", res, err)
	}
	checkConsistent(t, s.Store)

	// A key written after the drop is no longer a hole; a plain Drop, such
	// as tombstone collection, leaves none.
	mustApply(t, s.Store, remote("t", "w", `1`, stamp(2), "mallory", 3))
	if _, err := s.DropAndRefill(ctx, byMallory); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s.Store, "t", "w", `"rewritten"`)
	mustDelete(t, s.Store, "t", "gone")
	if _, err := s.Collect(ctx, s.Vector()); err != nil {
		t.Fatal(err)
	}
	if got := s.Holes(); len(got) != 0 {
		t.Fatalf("holes %v, want none: the write filled one, and Collect makes none", got)
	}
	checkConsistentAfterDrop(t, s.Store)
}

// TestHolesSurviveReopen: a hole is remembered on disk until filled.
func TestHolesSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, Origin: "self", Logger: discardLogger()}
	s := mustOpen(t, opts)
	mustApply(t, s, remote("t", "k", `1`, stamp(0), "mallory", 1))
	if _, err := s.DropAndRefill(context.Background(), func(crdt.Record) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, opts)
	if got := s.Holes(); !slices.Equal(holeKeys(got), []Key{{"t", "k"}}) || got[0].Dropped.Origin != "mallory" {
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
