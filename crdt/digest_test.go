package crdt_test

import (
	"encoding/hex"
	"testing"

	"github.com/syncnode/syncnode/crdt"
	"pgregory.net/rapid"
)

func digestOf(rs []crdt.Record) crdt.Digest {
	var d crdt.Digest
	for _, r := range rs {
		d.Add(r)
	}
	return d
}

func TestDigestOrderIndependent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		state := genState().Draw(t, "state")
		perm := rapid.Permutation(state).Draw(t, "order")
		if a, b := digestOf(state), digestOf(perm); a != b {
			t.Fatalf("digest depends on order: %v vs %v", a, b)
		}
	})
}

func TestDigestAddThenRemoveRestores(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		state := genState().Draw(t, "state")
		extra := genStateRecord().Draw(t, "extra")
		base := digestOf(state)
		d := base
		d.Add(extra)
		d.Remove(extra)
		if d != base {
			t.Fatalf("Add then Remove: %v, want %v", d, base)
		}
		for _, r := range rapid.Permutation(state).Draw(t, "removal order") {
			d.Remove(r)
		}
		if d != (crdt.Digest{}) {
			t.Fatalf("removing every record left %v", d)
		}
	})
}

// TestDigestTracksReplacement checks the O(1) update: removing the old record
// and adding the new one gives the digest of the new state, and a state that
// differs by one version has a different digest.
func TestDigestTracksReplacement(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		state := rapid.SliceOfNDistinct(genStateRecord(), 1, 12, func(r crdt.Record) [2]string {
			return [2]string{r.NS, r.Key}
		}).Draw(t, "state")
		i := rapid.IntRange(0, len(state)-1).Draw(t, "replaced")
		old := state[i]
		repl := genRecordFor(old.NS, old.Key).Draw(t, "replacement")

		d := digestOf(state)
		d.Remove(old)
		d.Add(repl)
		state[i] = repl
		if want := digestOf(state); d != want {
			t.Fatalf("incremental %v, recomputed %v", d, want)
		}
		state[i] = old
		sameHashed := old.Version == repl.Version && old.Deleted == repl.Deleted
		if (d == digestOf(state)) != sameHashed {
			t.Fatalf("digest equality = %v for old %+v and new %+v", d == digestOf(state), old, repl)
		}
	})
}

func TestDigestBytesRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := digestOf(genState().Draw(t, "state"))
		b := d.Bytes()
		got, ok := crdt.DigestFromBytes(b)
		if !ok || got != d {
			t.Fatalf("DigestFromBytes(Bytes()) = %v, %v; want %v, true", got, ok, d)
		}
		if want := hex.EncodeToString(b); d.String() != want {
			t.Fatalf("String() = %q, want hex of Bytes %q", d.String(), want)
		}
	})
}

func TestDigestFromBytesRejectsWrongLength(t *testing.T) {
	for _, n := range []int{0, 31, 33, 64} {
		if _, ok := crdt.DigestFromBytes(make([]byte, n)); ok {
			t.Errorf("DigestFromBytes(%d bytes) accepted", n)
		}
	}
}

func TestDigestCoversEveryHashedField(t *testing.T) {
	base := crdt.Record{
		NS: "tasks", Key: "k", Value: []byte(`1`),
		Version: crdt.Version{HLC: crdt.NewTimestamp(10, 0), Origin: "node-a", Seq: 1},
	}
	tests := map[string]func(*crdt.Record){
		"namespace": func(r *crdt.Record) { r.NS = "notes" },
		"key":       func(r *crdt.Record) { r.Key = "k2" },
		"hlc":       func(r *crdt.Record) { r.Version.HLC++ },
		"origin":    func(r *crdt.Record) { r.Version.Origin = "node-b" },
		"seq":       func(r *crdt.Record) { r.Version.Seq++ },
		"deleted":   func(r *crdt.Record) { r.Deleted, r.Value = true, nil },
		// Length prefixes keep field boundaries: ("ab","c") is not ("a","bc").
		"boundary": func(r *crdt.Record) { r.NS, r.Key = "tasksk", "" },
	}
	want := digestOf([]crdt.Record{base})
	for name, mutate := range tests {
		r := base
		mutate(&r)
		if digestOf([]crdt.Record{r}) == want {
			t.Errorf("changing %s left the digest unchanged", name)
		}
	}
}
