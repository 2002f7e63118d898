package signing

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
)

func identity(t *testing.T, seed byte) (crypto.PrivKey, crdt.NodeID) {
	t.Helper()
	var s [32]byte
	s[0] = seed
	key, _, err := crypto.GenerateEd25519Key(rand.NewChaCha8(s))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return key, crdt.NodeID(id.String())
}

func signed(t *testing.T, key crypto.PrivKey, r crdt.Record) crdt.Record {
	t.Helper()
	sig, err := Signer(key)(r)
	if err != nil {
		t.Fatal(err)
	}
	r.Sig = sig
	return r
}

func TestVerify(t *testing.T) {
	alice, aliceID := identity(t, 1)
	mallory, _ := identity(t, 2)
	rec := crdt.Record{NS: "tasks", Key: "k", Value: []byte(`"v"`), Version: crdt.Version{HLC: 5, Origin: aliceID, Seq: 1}}
	v := NewVerifier()
	if err := v.Verify(signed(t, alice, rec)); err != nil {
		t.Fatalf("alice's own record: %v", err)
	}
	tampered := signed(t, alice, rec)
	tampered.Value = []byte(`"w"`)
	tombstoned := signed(t, alice, rec)
	tombstoned.Deleted, tombstoned.Value = true, nil
	for name, tc := range map[string]struct {
		rec  crdt.Record
		want error
	}{
		"unsigned":                    {rec, ErrUnsigned},
		"signed by another device":    {signed(t, mallory, rec), ErrForged},
		"value changed after signing": {tampered, ErrForged},
		"turned into a tombstone":     {tombstoned, ErrForged},
		"origin not a peer ID":        {signed(t, alice, crdt.Record{NS: "t", Key: "k", Value: []byte(`1`), Version: crdt.Version{HLC: 1, Origin: "nobody", Seq: 1}}), ErrForged},
	} {
		err := v.Verify(tc.rec)
		if !errors.Is(err, tc.want) || !errors.Is(err, crdt.ErrInvalid) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}
