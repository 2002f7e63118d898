package antientropy

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/store"
)

// dropLate makes the replica of n take mallory's late write over alice's
// record and drop it again, as a node does when it learns mallory was
// revoked before that write: the key is left a hole.
func dropLate(t *testing.T, n *node, alice, late crdt.Record) {
	t.Helper()
	mustApply(t, n.st, []crdt.Record{alice, late})
	if _, err := n.st.DropAndRefill(context.Background(), func(r crdt.Record) bool {
		return r.Version.Origin == late.Version.Origin
	}); err != nil {
		t.Fatal(err)
	}
	if len(n.st.Holes()) != 1 {
		t.Fatalf("holes %v, want one", n.st.Holes())
	}
}

// TestPullRefillsHoles: after a pull from a peer that has seen everything
// this replica has, the key a dropped write emptied holds what the peer
// holds, so the two agree again; a pull from a peer that is behind leaves
// the hole for later.
func TestPullRefillsHoles(t *testing.T) {
	hs := mustHosts(t, 3)
	carol, bob, behind := mustNode(t, hs[0], nil), mustNode(t, hs[1], nil), mustNode(t, hs[2], nil)
	alice := genRecords("alice", 1, 1, 16)[0]
	late := alice
	late.Value, late.Version = []byte(`"late"`), crdt.Version{HLC: alice.Version.HLC + 1, Origin: "mallory", Seq: 1}
	mustApply(t, bob.st, []crdt.Record{alice})
	dropLate(t, carol, alice, late)

	// behind has never seen alice's write: its answer cannot be trusted.
	mustSync(t, carol, behind.h.ID())
	if len(carol.st.Holes()) != 1 {
		t.Fatalf("a peer that lacks alice's write refilled the hole")
	}

	res := mustSync(t, carol, bob.h.ID())
	if res.RecordsApplied != 1 {
		t.Errorf("applied %d records, want the refill", res.RecordsApplied)
	}
	got, err := carol.st.Get(alice.NS, alice.Key)
	if err != nil || string(got.Value) != string(alice.Value) {
		t.Fatalf("refilled key = %s, %v; want alice's record", got.Value, err)
	}
	if holes := carol.st.Holes(); len(holes) != 0 {
		t.Errorf("holes left: %v", holes)
	}
	if carol.st.Digest() != bob.st.Digest() {
		t.Errorf("carol and bob still disagree after the refill")
	}
}

// TestRefillAnswerIsBounded: a responder that answers a refill with more
// records than keys asked is refused, and the hole stays.
func TestRefillAnswerIsBounded(t *testing.T) {
	keys := []store.Key{{NS: "tasks", Key: "a"}, {NS: "notes/work", Key: "b"}}
	got, err := decodeKeys(appendKeys(nil, keys))
	if err != nil || !slices.Equal(got, keys) {
		t.Fatalf("keys round trip: %v, %v", got, err)
	}
	for name, payload := range map[string][]byte{
		"no keys":        appendKeys(nil, nil),
		"bad namespace":  appendKeys(nil, []store.Key{{NS: "bad ns!", Key: "k"}}),
		"empty key":      appendKeys(nil, []store.Key{{NS: "tasks", Key: ""}}),
		"truncated":      appendKeys(nil, keys)[:5],
		"trailing bytes": append(appendKeys(nil, keys), 0),
		"count too big":  {0xff, 0xff, 0x03},
	} {
		if _, err := decodeKeys(payload); !errors.Is(err, crdt.ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}
