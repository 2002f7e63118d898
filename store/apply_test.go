package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/syncnode/syncnode/crdt"
)

func testApplyLastWriterWins(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	r1 := remote("t", "k", `1`, stamp(0), "p1", 1)
	r2 := remote("t", "k", `2`, stamp(0), "p2", 1)   // same HLC, greater origin
	r0 := remote("t", "k", `0`, stamp(0), "p0", 1)   // same HLC, smaller origin
	old := remote("t", "k", `9`, stamp(-1), "zz", 1) // older HLC, greatest origin
	tomb := remote("t", "k", ``, stamp(1), "p1", 2)  // newer tombstone
	late := remote("t", "k", `3`, stamp(1), "p0", 2) // ties the tombstone, loses on origin
	month := remote("t", "old", `1`, stamp(-30*24*3600*1000), "p3", 1)
	steps := []struct {
		name    string
		rec     crdt.Record
		applied bool
		holds   crdt.Record // what Get must return afterwards
	}{
		{"first write", r1, true, r1},
		{"tie broken by greater origin", r2, true, r2},
		{"tie lost by smaller origin", r0, false, r2},
		{"older stamp", old, false, r2},
		{"newer tombstone", tomb, true, tomb},
		{"write tied with the tombstone loses on origin", late, false, tomb},
		{"duplicate", tomb, false, tomb},
		{"month-old stamp is accepted", month, true, month},
	}
	for _, st := range steps {
		before := s.Digest()
		res := mustApply(t, s.Store, st.rec)
		if len(res.Rejected) != 0 {
			t.Fatalf("%s: rejected %v", st.name, res.Rejected[0].Err)
		}
		if st.applied != (len(res.Applied) == 1) || st.applied == (res.Stale == 1) {
			t.Fatalf("%s: applied %d stale %d, want applied=%v", st.name, len(res.Applied), res.Stale, st.applied)
		}
		got := mustGet(t, s.Store, st.holds.NS, st.holds.Key)
		if !recordsEqual([]crdt.Record{got}, []crdt.Record{st.holds}) {
			t.Fatalf("%s: holds %s, want %s", st.name, describe([]crdt.Record{got}), describe([]crdt.Record{st.holds}))
		}
		if !st.applied && s.Digest() != before {
			t.Fatalf("%s: stale record changed the digest", st.name)
		}
	}
	// Superseded and stale writes still count as seen.
	want := crdt.Vector{"p0": 2, "p1": 2, "p2": 1, "p3": 1, "zz": 1}
	if got := s.Vector(); !maps.Equal(got, want) {
		t.Fatalf("vector = %v, want %v", got, want)
	}
	checkConsistent(t, s.Store)
}

func testApplyRejects(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	good := remote("t", "good", `1`, stamp(0), "p1", 1)
	bad := []crdt.Record{
		remote("bad ns", "k", `1`, stamp(0), "p1", 2),
		remote("t", "", `1`, stamp(0), "p1", 3),
		remote("t", "nul\x00", `1`, stamp(0), "p1", 4),
		remote("t", "noorigin", `1`, stamp(0), "", 1),
		remote("t", "longorigin", `1`, stamp(0), crdt.NodeID(strings.Repeat("o", crdt.MaxOriginLen+1)), 1),
		remote("t", "zeroseq", `1`, stamp(0), "p1", 0),
		remote("t", "zerohlc", `1`, 0, "p1", 5),
		remote("t", "notjson", `{`, stamp(0), "p1", 6),
		{NS: "t", Key: "tombvalue", Deleted: true, Value: []byte(`1`), Version: crdt.Version{HLC: stamp(0), Origin: "p1", Seq: 7}},
		{NS: "t", Key: "novalue", Version: crdt.Version{HLC: stamp(0), Origin: "p1", Seq: 8}},
	}
	good2 := remote("t", "good2", `2`, stamp(0), "p2", 1)
	res := mustApply(t, s.Store, append(append([]crdt.Record{good}, bad...), good2)...)
	if len(res.Applied) != 2 || res.Stale != 0 {
		t.Fatalf("applied %d stale %d, want 2 applied", len(res.Applied), res.Stale)
	}
	if len(res.Rejected) != len(bad) {
		t.Fatalf("rejected %d records, want %d", len(res.Rejected), len(bad))
	}
	for i, rej := range res.Rejected {
		if !errors.Is(rej.Err, crdt.ErrInvalid) {
			t.Errorf("rejection of %q: %v, want crdt.ErrInvalid", rej.Record.Key, rej.Err)
		}
		if rej.Record.Key != bad[i].Key || rej.Record.NS != bad[i].NS {
			t.Errorf("rejection %d names %s/%q, want %s/%q", i, rej.Record.NS, rej.Record.Key, bad[i].NS, bad[i].Key)
		}
	}
	recs := allRecords(t, s.Store)
	if got := keysOf(recs); len(got) != 2 || got[0] != "good" || got[1] != "good2" {
		t.Fatalf("store holds %v, want only the valid records", got)
	}
	// Rejected writes are not counted as seen.
	if want := (crdt.Vector{"p1": 1, "p2": 1}); !maps.Equal(s.Vector(), want) {
		t.Fatalf("vector = %v, want %v", s.Vector(), want)
	}
	checkConsistent(t, s.Store)
}

func testApplyClockSkew(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	maxSkew := crdt.DefaultMaxSkew.Milliseconds()
	ahead := remote("t", "future", `1`, stamp(maxSkew+1), "p1", 1)
	edge := remote("t", "edge", `1`, stamp(maxSkew), "p2", 1)
	res := mustApply(t, s.Store, ahead, edge)
	if len(res.Rejected) != 1 || len(res.Applied) != 1 {
		t.Fatalf("applied %d rejected %d, want 1 and 1", len(res.Applied), len(res.Rejected))
	}
	rej := res.Rejected[0]
	var skew *crdt.SkewError
	if rej.Record.Key != "future" || !errors.Is(rej.Err, crdt.ErrClockSkew) || !errors.As(rej.Err, &skew) {
		t.Fatalf("rejection = %s: %v, want future: clock skew", rej.Record.Key, rej.Err)
	}
	if skew.Remote != ahead.Version.HLC || skew.WallMS != baseMS {
		t.Fatalf("skew error %+v does not describe the stamp", skew)
	}
	if _, err := s.Get("t", "future"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("skewed record visible: err = %v", err)
	}
	// The rejected stamp was not adopted; the accepted one was.
	v := mustPut(t, s.Store, "t", "local", `1`)
	if v.HLC <= edge.Version.HLC || v.HLC >= ahead.Version.HLC {
		t.Fatalf("local stamp %v, want above accepted %v and below rejected %v", v.HLC, edge.Version.HLC, ahead.Version.HLC)
	}
	// Once the wall clock catches up, the same record is accepted.
	s.clk.Advance(2)
	if res := mustApply(t, s.Store, ahead); len(res.Applied) != 1 {
		t.Fatalf("after the clock caught up: applied %d rejected %v", len(res.Applied), res.Rejected)
	}
	checkConsistent(t, s.Store)
}

func testApplyGap(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	rec := func(seq uint64) crdt.Record {
		return remote("t", fmt.Sprintf("k%d", seq), `1`, stamp(int64(seq)), "p", seq)
	}
	steps := []struct {
		seq    uint64
		gap    bool
		vector uint64
	}{
		{1, false, 1},
		{3, true, 1},
		{5, true, 1},
		{2, true, 3}, // 4 is still missing
		{4, false, 5},
		{6, false, 6},
	}
	merged := map[uint64]bool{}
	for _, st := range steps {
		res := mustApply(t, s.Store, rec(st.seq))
		merged[st.seq] = true
		if res.Gap != st.gap {
			t.Fatalf("after seq %d: gap = %v, want %v", st.seq, res.Gap, st.gap)
		}
		if got := s.Vector().Get("p"); got != st.vector {
			t.Fatalf("after seq %d: vector = %d, want %d", st.seq, got, st.vector)
		}
		// Seen covers writes held beyond the gap too, not the missing ones.
		for seq := uint64(1); seq <= 7; seq++ {
			if got := s.Seen(crdt.Version{Origin: "p", Seq: seq}); got != merged[seq] {
				t.Fatalf("after seq %d: Seen(p, %d) = %v, want %v", st.seq, seq, got, merged[seq])
			}
		}
	}
	checkConsistent(t, s.Store)
}

// testApplyManySmallRecords applies more tiny records in one call than one
// Badger transaction can hold.
func testApplyManySmallRecords(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	const n = 6000
	recs := make([]crdt.Record, n)
	for i := range recs {
		recs[i] = remote("t", fmt.Sprintf("k%05d", i), `1`, stamp(0), "p", uint64(i+1))
	}
	res := mustApply(t, s.Store, recs...)
	if len(res.Applied) != n || res.Gap {
		t.Fatalf("applied %d gap %v, want %d and no gap", len(res.Applied), res.Gap, n)
	}
	if got := s.Vector().Get("p"); got != n {
		t.Fatalf("vector = %d, want %d", got, n)
	}
	if st := s.Stats(); st.Live != n {
		t.Fatalf("live = %d, want %d", st.Live, n)
	}
	checkConsistent(t, s.Store)
}

// testApplyLargeRecords applies more value bytes in one call than one
// transaction holds.
func testApplyLargeRecords(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	value := `"` + strings.Repeat("v", 500<<10) + `"`
	var recs []crdt.Record
	for i := range 6 {
		recs = append(recs, remote("t", fmt.Sprintf("big%d", i), value, stamp(0), "p", uint64(i+1)))
	}
	res := mustApply(t, s.Store, recs...)
	if len(res.Applied) != len(recs) {
		t.Fatalf("applied %d of %d", len(res.Applied), len(recs))
	}
	for _, r := range recs {
		if got := mustGet(t, s.Store, r.NS, r.Key); string(got.Value) != value {
			t.Fatalf("%s holds %d bytes, want %d", r.Key, len(got.Value), len(value))
		}
	}
	checkConsistent(t, s.Store)
}

func testLocalWriteAfterRemote(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	// A peer whose clock runs a minute ahead, within the allowed skew.
	r := remote("t", "k", `"remote"`, stamp(time.Minute.Milliseconds()), "p", 1)
	mustApply(t, s.Store, r)
	v := mustPut(t, s.Store, "t", "k", `"local"`)
	if v.HLC <= r.Version.HLC {
		t.Fatalf("local stamp %v not above accepted remote %v", v.HLC, r.Version.HLC)
	}
	if got := mustGet(t, s.Store, "t", "k"); string(got.Value) != `"local"` || got.Version != v {
		t.Fatalf("holds %+v, want the local write", got)
	}
	// Replaying the older remote write does not undo the local one.
	if res := mustApply(t, s.Store, r); res.Stale != 1 {
		t.Fatalf("replayed remote: %+v, want stale", res)
	}
	checkConsistent(t, s.Store)
}

func testJoin(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	ctx := context.Background()
	if err := s.Join(ctx, nil); err != nil {
		t.Fatalf("join nil: %v", err)
	}
	mustApply(t, s.Store, remote("t", "k7", `1`, stamp(0), "p", 7))
	if err := s.Join(ctx, crdt.Vector{"p": 6, "q": 4}); err != nil {
		t.Fatal(err)
	}
	// Joining up to 6 fills the gap below the held seq 7.
	if want := (crdt.Vector{"p": 7, "q": 4}); !maps.Equal(s.Vector(), want) {
		t.Fatalf("vector = %v, want %v", s.Vector(), want)
	}
	if err := s.Join(ctx, crdt.Vector{"p": 2}); err != nil {
		t.Fatal(err)
	}
	if got := s.Vector().Get("p"); got != 7 {
		t.Fatalf("a lower join moved p to %d", got)
	}
	// Joining our own origin above what we wrote (a peer held writes we
	// lost) makes new local writes continue above it.
	if err := s.Join(ctx, crdt.Vector{"self": 10}); err != nil {
		t.Fatal(err)
	}
	if v := mustPut(t, s.Store, "t", "mine", `1`); v.Seq != 11 {
		t.Fatalf("local write after join has seq %d, want 11", v.Seq)
	}
	checkConsistent(t, s.Store)
}

// testApplyRefusesReusedSeq: a device that issues a second, different write
// under a seq it already used gets nowhere, whether the copy stamps the same
// key later or another key: a version is merged once.
func testApplyRefusesReusedSeq(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	first := remote("t", "k", `1`, stamp(0), "dev", 1)
	mustApply(t, s.Store, first)
	for name, forged := range map[string]crdt.Record{
		"same key, later stamp": remote("t", "k", `"forged"`, stamp(10), "dev", 1),
		"another key":           remote("t", "other", `"forged"`, stamp(10), "dev", 1),
	} {
		res := mustApply(t, s.Store, forged)
		if len(res.Applied) != 0 || res.Stale != 1 {
			t.Errorf("%s: applied %d, stale %d; want the copy stale", name, len(res.Applied), res.Stale)
		}
	}
	if got := mustGet(t, s.Store, "t", "k"); string(got.Value) != `1` {
		t.Errorf("k holds %s, want the first write", got.Value)
	}
	if _, err := s.Get("t", "other"); !errors.Is(err, ErrNotFound) {
		t.Errorf("other: %v, want not found", err)
	}
}

// testJoinLargeVector: a vector with more origins than one transaction
// holds is joined in parts, not refused.
func testJoinLargeVector(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	v := crdt.Vector{}
	for i := range 20_000 {
		v[crdt.NodeID(fmt.Sprintf("origin-%05d", i))] = uint64(i + 1)
	}
	if err := s.Join(context.Background(), v); err != nil {
		t.Fatalf("join of %d origins: %v", len(v), err)
	}
	if got := s.Vector(); !got.Dominates(v) {
		t.Fatalf("vector after join holds %d origins, want all %d", len(got), len(v))
	}
}
