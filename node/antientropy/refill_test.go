package antientropy

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/store"
)

// dropLate makes the replica of n take mallory's late write over alice's
// record and drop it again, as a node does when it learns mallory was
// revoked before that write: the key is left a hole.
func dropLate(t *testing.T, n *node, alice, late crdt.Record) {
	t.Helper()
	mustApply(t, n.st, []crdt.Record{alice, late})
	if _, err := n.st.DropAfter(context.Background(), late.Version.Origin, late.Version.Seq-1); err != nil {
		t.Fatal(err)
	}
	if len(n.st.Holes()) != 1 {
		t.Fatalf("holes %v, want one", n.st.Holes())
	}
}

// TestPullRefillsHoles: after a pull from a peer that has seen everything
// this replica has, the key a dropped write emptied holds what the peer
// holds, so the two agree again. A pull from a peer that is behind, or
// that has the same hole, leaves the hole for later; a covering peer that
// holds nothing for a key empties it for good.
func TestPullRefillsHoles(t *testing.T) {
	hs := mustHosts(t, 4)
	carol, bob, behind, dave := mustNode(t, hs[0], nil), mustNode(t, hs[1], nil), mustNode(t, hs[2], nil), mustNode(t, hs[3], nil)
	alice := genRecords("alice", 1, 1, 16)[0]
	late := alice
	late.Value, late.Version = []byte(`"late"`), crdt.Version{HLC: alice.Version.HLC + 1, Origin: "mallory", Seq: 1}
	mustApply(t, bob.st, []crdt.Record{alice})
	dropLate(t, carol, alice, late)
	dropLate(t, dave, alice, late)

	// behind has never seen alice's write: its answer cannot be trusted.
	if res := mustSync(t, carol, behind.h.ID()); res.HolesAsked != 1 {
		t.Fatalf("the pull asked about %d holes, want 1", res.HolesAsked)
	}
	// dave covers carol, but has the same hole: it cannot answer.
	mustSync(t, carol, dave.h.ID())
	if len(carol.st.Holes()) != 1 {
		t.Fatalf("a peer that lacks alice's write, or has the same hole, filled the hole")
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

	// Bob collected alice's record (a tombstone, say): dave's hole is
	// emptied for good by a pull from him.
	if _, err := bob.st.Drop(context.Background(), func(crdt.Record) bool { return true }); err != nil {
		t.Fatal(err)
	}
	mustSync(t, dave, bob.h.ID())
	if holes := dave.st.Holes(); len(holes) != 0 {
		t.Errorf("dave's hole stayed although bob holds nothing for the key: %v", holes)
	}
	if _, err := dave.st.Get(alice.NS, alice.Key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("dave's emptied key = %v, want empty", err)
	}
}

// TestPullAsksOldRespondersWithoutHoles: a responder from before refills
// refuses a request naming holes as a bad request; the pull asks again
// without them and succeeds.
func TestPullAsksOldRespondersWithoutHoles(t *testing.T) {
	hs := mustHosts(t, 2)
	carol := mustNode(t, hs[0], nil)
	alice := genRecords("alice", 1, 1, 16)[0]
	late := alice
	late.Value, late.Version = []byte(`"late"`), crdt.Version{HLC: alice.Version.HLC + 1, Origin: "mallory", Seq: 1}
	dropLate(t, carol, alice, late)
	hs[1].SetStreamHandler(ProtocolID, func(str network.Stream) {
		defer str.Close()
		c := newConn(str, time.Second)
		for {
			t, _, err := c.read()
			if err != nil {
				break
			}
			if t == frameHoles {
				_ = c.write(frameError, appendError(nil, codeBadRequest, "unexpected type-6 frame"))
				return
			}
		}
		_ = c.write(frameDone, appendVector(nil, crdt.Vector{}))
	})
	if _, err := carol.svc.Sync(context.Background(), hs[1].ID()); err != nil {
		t.Fatalf("pull from an old responder: %v", err)
	}
}

// TestHoleKeysDecodeStrictly: the key lists of holes and absent frames
// round-trip, and malformed ones are refused as corrupt.
func TestHoleKeysDecodeStrictly(t *testing.T) {
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

// TestAnswerKeepsOnlyWhatWasAsked: a responder's answer is held to the
// keys asked, one record each and maxRefillBytes in all; a key whose
// record did not fit is neither filled nor taken as absent.
func TestAnswerKeepsOnlyWhatWasAsked(t *testing.T) {
	rec := func(key string, size int) crdt.Record {
		return crdt.Record{NS: "tasks", Key: key, Value: bytesOf(size), Version: crdt.Version{HLC: 1, Origin: "o", Seq: 1}}
	}
	holes := []store.Hole{{Key: store.Key{NS: "tasks", Key: "a"}}, {Key: store.Key{NS: "tasks", Key: "b"}}, {Key: store.Key{NS: "tasks", Key: "c"}}}
	a := newAnswer(holes)
	a.records([]crdt.Record{rec("a", 10), rec("a", 20), rec("unasked", 10)})
	a.records([]crdt.Record{rec("b", maxRefillBytes)})
	a.absentKeys([]store.Key{{NS: "tasks", Key: "a"}, {NS: "tasks", Key: "b"}, {NS: "tasks", Key: "c"}, {NS: "tasks", Key: "unasked"}})
	if len(a.recs) != 1 || a.recs[0].Key != "a" || len(a.recs[0].Value) != 10 {
		t.Errorf("kept %v, want only the first answer for a", a.recs)
	}
	// b's record was too big to keep, and b was answered with a record, so
	// b is not absent either: it stays a hole for a later pull.
	if want := []store.Key{{NS: "tasks", Key: "c"}}; !slices.Equal(a.absent, want) {
		t.Errorf("absent %v, want %v", a.absent, want)
	}
}

func bytesOf(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = '1'
	}
	return b
}

// TestRefillAnswerOutOfOrderIsRefused: an answer must come as batches,
// refills, at most one absent frame, then done; anything else is corrupt,
// and the hole stays.
func TestRefillAnswerOutOfOrderIsRefused(t *testing.T) {
	alice := genRecords("alice", 1, 1, 16)[0]
	late := alice
	late.Value, late.Version = []byte(`"late"`), crdt.Version{HLC: alice.Version.HLC + 1, Origin: "mallory", Seq: 1}
	key := []store.Key{{NS: alice.NS, Key: alice.Key}}
	everything := appendVector(nil, crdt.Vector{"alice": 1, "mallory": 1})
	for name, script := range map[string][][]byte{
		"two absent frames":     {frame(frameAbsent, appendKeys(nil, key)), frame(frameAbsent, appendKeys(nil, key))},
		"refill after absent":   {frame(frameAbsent, appendKeys(nil, key)), batchFrameOf(frameRefill, alice)},
		"batch after a refill":  {batchFrameOf(frameRefill, alice), batchFrameOf(frameBatch, alice)},
		"malformed absent keys": {frame(frameAbsent, []byte{1, 0})},
	} {
		t.Run(name, func(t *testing.T) {
			hs := mustHosts(t, 2)
			carol := mustNode(t, hs[0], nil)
			dropLate(t, carol, alice, late)
			hs[1].SetStreamHandler(ProtocolID, func(str network.Stream) {
				defer str.Close()
				c := newConn(str, time.Second)
				for {
					if _, _, err := c.read(); err != nil {
						break
					}
				}
				for _, f := range script {
					_, _ = str.Write(f)
				}
				_ = c.write(frameDone, everything)
			})
			_, err := carol.svc.Sync(context.Background(), hs[1].ID())
			if !errors.Is(err, crdt.ErrCorrupt) {
				t.Fatalf("sync: %v, want ErrCorrupt", err)
			}
			if len(carol.st.Holes()) != 1 {
				t.Fatalf("an answer out of order filled the hole")
			}
		})
	}
}

// batchFrameOf encodes recs as one frame of type t (a batch or refill).
func batchFrameOf(t frameType, recs ...crdt.Record) []byte {
	body := appendBatchCount(nil, len(recs))
	for _, r := range recs {
		body = crdt.AppendRecord(body, r)
	}
	return frame(t, body)
}
