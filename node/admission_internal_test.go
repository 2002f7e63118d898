package node

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/membership"
	"github.com/syncnode/syncnode/node/signing"
	"github.com/syncnode/syncnode/store"
)

// TestCheckTrustsOnlyTheOriginsOwnMessage: a record is spared its own
// signature check only when the message carrying it was signed by its
// origin, or when those very bytes were accepted before. Relayed by anyone
// else, a bad signature is caught; and even from its origin, a record must
// be signed, for the peers it travels on to.
func TestCheckTrustsOnlyTheOriginsOwnMessage(t *testing.T) {
	alice, _ := testDevice(t, 1)
	mallory, _ := testDevice(t, 2)
	rec := crdt.Record{NS: "tasks", Key: "k", Value: []byte(`1`), Version: crdt.Version{HLC: 1, Origin: alice, Seq: 1}}
	badSig := rec
	badSig.Sig = make([]byte, 64)
	cs, _ := newCheckedStore(t)

	for name, tc := range map[string]struct {
		rec       crdt.Record
		publisher crdt.NodeID
		want      error
	}{
		"relayed by mallory":        {badSig, mallory, signing.ErrForged},
		"pulled, no message":        {badSig, "", signing.ErrForged},
		"unsigned, from its origin": {rec, alice, signing.ErrUnsigned},
	} {
		if err := cs.check(tc.rec, tc.publisher); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}

	if err := cs.check(badSig, alice); err != nil {
		t.Errorf("alice's record in alice's signed message: %v", err)
	}
	if err := cs.check(badSig, ""); err != nil {
		t.Errorf("a copy of what alice's message proved, pulled later: %v", err)
	}
	tampered := badSig
	tampered.Value = []byte(`2`)
	if err := cs.check(tampered, ""); !errors.Is(err, signing.ErrForged) {
		t.Errorf("a tampered copy, pulled later: %v", err)
	}
}

// fixedReader is a deterministic key source.
type fixedReader byte

func (r fixedReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r) + byte(i)
	}
	return len(p), nil
}

// testDevice returns a device ID derived from seed and a function that
// signs records as that device.
func testDevice(t *testing.T, seed byte) (crdt.NodeID, func(crdt.Record) crdt.Record) {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(fixedReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	p, err := peer.IDFromPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	sign := signing.Signer(key)
	return crdt.NodeID(p.String()), func(r crdt.Record) crdt.Record {
		if r.Sig, err = sign(r); err != nil {
			t.Fatal(err)
		}
		return r
	}
}

// newCheckedStore returns a checkedStore, requiring signatures, over an
// in-memory store.
func newCheckedStore(t *testing.T) (checkedStore, *store.Store) {
	t.Helper()
	st, err := store.Open(store.Options{InMemory: true, Origin: "self", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return checkedStore{
		observedStore: observedStore{Store: st, observe: func([]crdt.Record) {}},
		members:       membership.NewList(),
		verifier:      signing.NewVerifier(),
	}, st
}

// TestPulledCopyOfMergedWriteIsStale: a pull that resends a write already
// merged (gossip delivered it first) counts it stale without checking it,
// and a copy that differs, forged signature and all, changes nothing.
func TestPulledCopyOfMergedWriteIsStale(t *testing.T) {
	alice, sign := testDevice(t, 1)
	cs, st := newCheckedStore(t)
	rec := sign(crdt.Record{NS: "tasks", Key: "k", Value: []byte(`1`), Version: crdt.Version{HLC: st.Clock().Now(), Origin: alice, Seq: 1}})
	ctx := context.Background()
	if res, err := cs.Apply(ctx, []crdt.Record{rec}); err != nil || len(res.Applied) != 1 {
		t.Fatalf("first copy: %+v, %v; want it applied", res, err)
	}
	forged := rec
	forged.Value, forged.Sig = []byte(`2`), make([]byte, 64)
	res, err := cs.Apply(ctx, []crdt.Record{rec, forged})
	if err != nil || res.Stale != 2 || len(res.Applied)+len(res.Rejected) != 0 {
		t.Fatalf("copies of a merged write: %+v, %v; want both stale", res, err)
	}
	if got, err := st.Get("tasks", "k"); err != nil || string(got.Value) != `1` {
		t.Fatalf("tasks/k = %s, %v; want the first copy's value", got.Value, err)
	}
}

// TestRefillIsChecked: an answer for a hole is checked like any pulled
// record; a forged one is refused and the key stays a hole, to be asked
// about again, while the genuine record fills it.
func TestRefillIsChecked(t *testing.T) {
	alice, signAlice := testDevice(t, 1)
	mallory, signMallory := testDevice(t, 2)
	cs, st := newCheckedStore(t)
	signed := func(origin crdt.NodeID, sign func(crdt.Record) crdt.Record, value string) crdt.Record {
		return sign(crdt.Record{NS: "tasks", Key: "k", Value: []byte(value), Version: crdt.Version{HLC: st.Clock().Now(), Origin: origin, Seq: 1}})
	}
	ctx := context.Background()
	original, late := signed(alice, signAlice, `"alice"`), signed(mallory, signMallory, `"late"`)
	if _, err := cs.Apply(ctx, []crdt.Record{original, late}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DropAfter(ctx, mallory, 0); err != nil {
		t.Fatal(err)
	}

	forged := original
	forged.Value = []byte(`"forged"`)
	asked := st.Holes()
	res, err := cs.Refill(ctx, asked, []crdt.Record{forged}, nil)
	if err != nil || len(res.Rejected) != 1 || len(res.Applied) != 0 {
		t.Fatalf("forged answer: %+v, %v; want it refused", res, err)
	}
	if len(st.Holes()) != 1 {
		t.Fatal("a refused answer filled the hole")
	}
	if res, err := cs.Refill(ctx, asked, []crdt.Record{original}, nil); err != nil || len(res.Applied) != 1 {
		t.Fatalf("genuine answer: %+v, %v; want it applied", res, err)
	}
	if got, err := st.Get("tasks", "k"); err != nil || string(got.Value) != `"alice"` || len(st.Holes()) != 0 {
		t.Fatalf("tasks/k = %s, %v, holes %v; want alice's record and no hole", got.Value, err, st.Holes())
	}
}
