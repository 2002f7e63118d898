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

func mustWriteAll(tb testing.TB, s *Store, ws ...Write) []WriteResult {
	tb.Helper()
	res, err := s.WriteAll(context.Background(), ws)
	if err != nil {
		tb.Fatalf("write all: %v", err)
	}
	if len(res) != len(ws) {
		tb.Fatalf("write all: %d results for %d writes", len(res), len(ws))
	}
	return res
}

func testWriteAllStamps(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	changed := s.Changed()
	res := mustWriteAll(t, s.Store,
		Write{NS: "t", Key: "a", Value: []byte(`1`)},
		Write{NS: "t", Key: "b", Deleted: true, Value: []byte(`ignored`)},
		Write{NS: "t", Key: "a", Value: []byte(`2`)},
	)
	for i, r := range res {
		if !r.Applied || r.Err != nil || r.Version.Origin != "self" || r.Version.Seq != uint64(i+1) {
			t.Fatalf("result %d = %+v, want applied as self seq %d", i, r, i+1)
		}
	}
	if res[2].Version.HLC <= res[0].Version.HLC {
		t.Fatalf("second write to a has stamp %v, not above %v", res[2].Version, res[0].Version)
	}
	select {
	case <-changed:
	default:
		t.Fatal("WriteAll did not signal Changed")
	}
	if got := mustGet(t, s.Store, "t", "a"); string(got.Value) != `2` || got.Version != res[2].Version {
		t.Fatalf("a = %s", describe([]crdt.Record{got}))
	}
	if got := mustGet(t, s.Store, "t", "b"); !got.Deleted || got.Value != nil || got.Version != res[1].Version {
		t.Fatalf("b = %s, want tombstone", describe([]crdt.Record{got}))
	}
	// Later Put continues the same seq counter.
	if v := mustPut(t, s.Store, "t", "c", `3`); v.Seq != 4 {
		t.Fatalf("put after WriteAll got seq %d, want 4", v.Seq)
	}
	if want := (crdt.Vector{"self": 4}); !maps.Equal(s.Vector(), want) {
		t.Fatalf("vector = %v, want %v", s.Vector(), want)
	}
	checkConsistent(t, s.Store)
}

func testWriteAllIdempotent(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	ws := []Write{
		{NS: "t", Key: "a", Value: []byte(`{"x":1}`), HLC: stamp(-10)},
		{NS: "t", Key: "gone", Deleted: true},
	}
	first := mustWriteAll(t, s.Store, ws...)
	digest, vec := s.Digest(), s.Vector()
	s.clk.Advance(1000)
	// A retry, even with a different stamp, changes nothing.
	ws[0].HLC = stamp(20)
	again := mustWriteAll(t, s.Store, ws...)
	for i := range ws {
		if again[i].Applied || again[i].Err != nil || again[i].Version != first[i].Version {
			t.Fatalf("retry %d = %+v, want no-op at %v", i, again[i], first[i].Version)
		}
	}
	if s.Digest() != digest || !maps.Equal(s.Vector(), vec) {
		t.Fatal("a retried write changed the store")
	}
	// A different value is a new write.
	res := mustWriteAll(t, s.Store, Write{NS: "t", Key: "a", Value: []byte(`{"x": 1}`)})
	if !res[0].Applied || res[0].Version.Seq != 3 {
		t.Fatalf("changed value = %+v, want applied at seq 3", res[0])
	}
	checkConsistent(t, s.Store)
}

func testWriteAllClientStamps(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	peer := mustApply(t, s.Store, remote("t", "k", `"peer"`, stamp(0), "p1", 1))
	if len(peer.Applied) != 1 {
		t.Fatal("peer record not applied")
	}
	maxSkew := crdt.DefaultMaxSkew.Milliseconds()
	res := mustWriteAll(t, s.Store,
		Write{NS: "t", Key: "k", Value: []byte(`"older"`), HLC: stamp(-1)},
		Write{NS: "t", Key: "new", Value: []byte(`"month old"`), HLC: stamp(-30 * 24 * 3600 * 1000)},
		Write{NS: "t", Key: "future", Value: []byte(`1`), HLC: stamp(maxSkew + 1)},
		Write{NS: "t", Key: "k", Value: []byte(`"newer"`), HLC: stamp(1)},
	)
	if r := res[0]; r.Applied || !errors.Is(r.Err, ErrSuperseded) || r.Version != peer.Applied[0].Version {
		t.Fatalf("older client stamp = %+v, want ErrSuperseded at the peer's version", r)
	}
	if r := res[1]; !r.Applied || r.Err != nil || r.Version != (crdt.Version{HLC: stamp(-30 * 24 * 3600 * 1000), Origin: "self", Seq: 1}) {
		t.Fatalf("month-old stamp on a new key = %+v, want applied as self seq 1", r)
	}
	if r := res[2]; r.Applied || !errors.Is(r.Err, crdt.ErrClockSkew) {
		t.Fatalf("future stamp = %+v, want clock skew", r)
	}
	// Neither rejection consumed a seq.
	if r := res[3]; !r.Applied || r.Version != (crdt.Version{HLC: stamp(1), Origin: "self", Seq: 2}) {
		t.Fatalf("newer client stamp = %+v, want applied at its own stamp, seq 2", r)
	}
	if _, err := s.Get("t", "future"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rejected write stored: %v", err)
	}
	// The clock absorbed the client's stamp.
	if v := mustPut(t, s.Store, "t", "after", `1`); v.HLC <= stamp(1) || v.Seq != 3 {
		t.Fatalf("put after client stamps = %v, want above %v at seq 3", v, stamp(1))
	}
	if want := (crdt.Vector{"self": 3, "p1": 1}); !maps.Equal(s.Vector(), want) {
		t.Fatalf("vector = %v, want %v", s.Vector(), want)
	}
	checkConsistent(t, s.Store)
}

func testWriteAllInvalid(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	bad := []Write{
		{NS: "bad ns", Key: "k", Value: []byte(`1`)},
		{NS: "t", Key: "", Value: []byte(`1`)},
		{NS: "t", Key: "nul\x00", Value: []byte(`1`)},
		{NS: "t", Key: "notjson", Value: []byte(`{`)},
		{NS: "t", Key: "novalue"},
		{NS: "t", Key: "huge", Value: []byte(`"` + strings.Repeat("x", crdt.MaxValueSize) + `"`)},
	}
	ws := append([]Write{{NS: "t", Key: "good", Value: []byte(`1`)}}, bad...)
	res := mustWriteAll(t, s.Store, ws...)
	if !res[0].Applied {
		t.Fatalf("valid write beside invalid ones = %+v", res[0])
	}
	for i, r := range res[1:] {
		if r.Applied || !errors.Is(r.Err, crdt.ErrInvalid) {
			t.Errorf("write %q = %+v, want crdt.ErrInvalid", bad[i].Key, r)
		}
	}
	if got := keysOf(allRecords(t, s.Store)); len(got) != 1 || got[0] != "good" {
		t.Fatalf("store holds %v, want only good", got)
	}
	if want := (crdt.Vector{"self": 1}); !maps.Equal(s.Vector(), want) {
		t.Fatalf("vector = %v, want %v", s.Vector(), want)
	}
	checkConsistent(t, s.Store)
}

// testWriteAllMany submits more value bytes than one commit holds.
func testWriteAllMany(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	value := []byte(`"` + strings.Repeat("v", 500<<10) + `"`)
	ws := make([]Write, 6)
	for i := range ws {
		ws[i] = Write{NS: "t", Key: fmt.Sprintf("k%03d", i), Value: value}
	}
	res := mustWriteAll(t, s.Store, ws...)
	for i, r := range res {
		if !r.Applied || r.Version.Seq != uint64(i+1) {
			t.Fatalf("write %d = %+v, want applied at seq %d", i, r, i+1)
		}
	}
	if st := s.Stats(); st.Live != int64(len(ws)) {
		t.Fatalf("live = %d, want %d", st.Live, len(ws))
	}
	checkConsistent(t, s.Store)
}

func testWriteAllClosed(t *testing.T, b backend) {
	s := b.fixture(t, "self")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := s.WriteAll(context.Background(), []Write{{NS: "t", Key: "k", Value: []byte(`1`)}})
	if !errors.Is(err, ErrClosed) || len(res) != 0 {
		t.Fatalf("WriteAll on closed store = %v, %v; want ErrClosed", res, err)
	}
}
