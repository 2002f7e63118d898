package registry

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syncnode/syncnode/crdt"
)

func TestAckReplacesAndStampsLastSeen(t *testing.T) {
	r := openTest(t)
	r.mustCreate(t, "laptop")
	if err := r.Ack("laptop", crdt.Vector{"a": 5, "b": 3, "z": 0}, 40); err != nil {
		t.Fatal(err)
	}
	seen := r.clock.Now()
	r.clock.Advance(time.Minute)
	d := r.List()[0]
	if !maps.Equal(d.Ack, crdt.Vector{"a": 5, "b": 3}) || d.Cursor != 40 || !d.LastSeen.Equal(seen) {
		t.Fatalf("after Ack: Ack %v, Cursor %d, LastSeen %v", d.Ack, d.Cursor, d.LastSeen)
	}
	if err := r.Ack("laptop", crdt.Vector{"a": 2}, 7); err != nil {
		t.Fatal(err)
	}
	d = r.List()[0]
	if !maps.Equal(d.Ack, crdt.Vector{"a": 2}) || d.Cursor != 7 || !d.LastSeen.Equal(r.clock.Now()) {
		t.Fatalf("a second Ack did not replace the first: Ack %v, Cursor %d", d.Ack, d.Cursor)
	}
}

func TestAckRejects(t *testing.T) {
	r := openTest(t)
	r.mustCreate(t, "laptop")
	r.mustCreate(t, "gone")
	if _, err := r.Revoke("gone"); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		name string
		v    crdt.Vector
		want error
	}{
		"unknown":     {"nobody", crdt.Vector{"a": 1}, ErrUnknown},
		"revoked":     {"gone", crdt.Vector{"a": 1}, ErrRevoked},
		"empty orig":  {"laptop", crdt.Vector{"": 1}, ErrBadAck},
		"long origin": {"laptop", crdt.Vector{crdt.NodeID(strings.Repeat("o", crdt.MaxOriginLen+1)): 1}, ErrBadAck},
	}
	for name, tc := range cases {
		if err := r.Ack(tc.name, tc.v, 1); !errors.Is(err, tc.want) {
			t.Errorf("%s: error = %v, want %v", name, err, tc.want)
		}
	}
	if d := r.List()[1]; !d.LastSeen.IsZero() || len(d.Ack) != 0 {
		t.Fatalf("a rejected Ack changed the device: %+v", d)
	}
}

func TestQuorum(t *testing.T) {
	r := openTest(t)
	const horizon = 24 * time.Hour
	for _, n := range []string{"stale", "never", "b", "a", "revoked", "http"} {
		r.mustCreate(t, n)
	}
	mustAck := func(name string, v crdt.Vector, cursor uint64) {
		t.Helper()
		if err := r.Ack(name, v, cursor); err != nil {
			t.Fatal(err)
		}
	}

	if q, c, exp := r.Quorum(horizon); len(q) != 0 || c != 0 || len(exp) != 6 {
		t.Fatalf("no device ever acked: Quorum = %v, %d, %v; want empty, 0, all six", q, c, exp)
	}

	mustAck("stale", crdt.Vector{"x": 1}, 1)
	r.clock.Advance(horizon + time.Hour)
	mustAck("revoked", crdt.Vector{"x": 1}, 0)
	if _, err := r.Revoke("revoked"); err != nil {
		t.Fatal(err)
	}
	mustAck("a", crdt.Vector{"x": 5, "y": 3, "w": 9}, 10)
	r.clock.Advance(time.Hour)
	mustAck("b", crdt.Vector{"x": 7, "y": 8, "w": 2}, 4)
	mustAck("http", crdt.Vector{"x": 6, "w": 4}, 12)
	r.clock.Advance(time.Hour)

	q, minCursor, expired := r.Quorum(horizon)
	if want := (crdt.Vector{"x": 5, "w": 2}); !maps.Equal(q, want) {
		t.Errorf("q = %v, want %v (per-origin minimum; y is missing from http)", q, want)
	}
	if minCursor != 4 {
		t.Errorf("minCursor = %d, want 4", minCursor)
	}
	if want := []string{"never", "stale"}; !slices.Equal(expired, want) {
		t.Errorf("expired = %v, want %v", expired, want)
	}

	// "a" acked 2h ago: at exactly the horizon it is still active, past it
	// it expires.
	r.clock.Advance(horizon - 2*time.Hour)
	if _, _, expired := r.Quorum(horizon); slices.Contains(expired, "a") {
		t.Errorf("a device seen exactly one horizon ago expired")
	}
	r.clock.Advance(time.Nanosecond)
	q, minCursor, expired = r.Quorum(horizon)
	if want := (crdt.Vector{"x": 6, "w": 2}); !maps.Equal(q, want) || minCursor != 4 {
		t.Errorf("after a expired: q = %v, minCursor %d; want %v, 4", q, minCursor, want)
	}
	if want := []string{"a", "never", "stale"}; !slices.Equal(expired, want) {
		t.Errorf("expired = %v, want %v", expired, want)
	}

	q["x"] = 1000
	if q2, _, _ := r.Quorum(horizon); q2["x"] != 6 {
		t.Error("the returned vector aliases registry state")
	}
}

func TestMarkAndClearResync(t *testing.T) {
	r := openTest(t)
	r.mustCreate(t, "a")
	r.mustCreate(t, "b")
	if err := r.MarkResync([]string{"a", "nobody"}); !errors.Is(err, ErrUnknown) {
		t.Fatalf("MarkResync with an unknown name: error = %v, want ErrUnknown", err)
	}
	if r.List()[0].Resync {
		t.Fatal("a failed MarkResync marked a device")
	}
	if err := r.MarkResync([]string{"a", "b", "a"}); err != nil {
		t.Fatal(err)
	}
	if l := r.List(); !l[0].Resync || !l[1].Resync {
		t.Fatalf("MarkResync: %+v", l)
	}
	if err := r.ClearResync("a"); err != nil {
		t.Fatal(err)
	}
	if l := r.List(); l[0].Resync || !l[1].Resync {
		t.Fatalf("ClearResync(a): %+v", l)
	}
	if err := r.ClearResync("nobody"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("ClearResync(unknown) error = %v, want ErrUnknown", err)
	}
}
