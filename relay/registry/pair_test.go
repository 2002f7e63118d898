package registry

import (
	"errors"
	"os"
	"testing"
)

func TestPairRules(t *testing.T) {
	r := openTest(t)
	tokA, tokB := r.mustCreate(t, "laptop"), r.mustCreate(t, "phone")
	p1, p2, p3 := testPeer(t, 1), testPeer(t, 2), testPeer(t, 3)

	if r.Admitted(p1) || r.RevokedPeer(p1) {
		t.Fatal("an unpaired peer is admitted or revoked")
	}
	d, err := r.Pair(tokA, p1)
	if err != nil || d.Name != "laptop" || d.Peer != p1 {
		t.Fatalf("Pair = %+v, %v", d, err)
	}
	if got, ok := r.ByPeer(p1); !ok || got.Name != "laptop" {
		t.Fatalf("ByPeer(p1) = %+v, %v", got, ok)
	}
	if !r.Admitted(p1) || r.RevokedPeer(p1) {
		t.Fatal("a paired peer is not admitted")
	}
	if _, err := r.Pair(tokA, p1); err != nil {
		t.Fatalf("pairing the same peer again: %v", err)
	}
	if _, err := r.Pair(tokA, p2); !errors.Is(err, ErrTokenInUse) {
		t.Fatalf("Pair(token of p1, p2) error = %v, want ErrTokenInUse", err)
	}
	if _, err := r.Pair(tokB, p1); !errors.Is(err, ErrPeerInUse) {
		t.Fatalf("Pair(other token, p1) error = %v, want ErrPeerInUse", err)
	}
	if _, err := r.Pair(tokA[:21]+tokB[21:], p3); !errors.Is(err, ErrBadToken) {
		t.Fatalf("Pair(wrong token) error = %v, want ErrBadToken", err)
	}
	if _, err := r.Pair(tokB, ""); err == nil {
		t.Fatal("Pair accepted an empty peer ID")
	}
	if _, ok := r.ByPeer(p3); ok || r.Admitted(p3) || r.Admitted(p2) {
		t.Fatal("a failed pairing bound a peer")
	}
	if d, _ := r.ByPeer(p1); d.Name != "laptop" {
		t.Fatal("a failed pairing changed an existing binding")
	}

	if _, err := r.Revoke("laptop"); err != nil {
		t.Fatal(err)
	}
	if r.Admitted(p1) || !r.RevokedPeer(p1) {
		t.Fatal("a revoked device's peer is still admitted")
	}
	if d, ok := r.ByPeer(p1); !ok || !d.Revoked {
		t.Fatalf("ByPeer(revoked) = %+v, %v; want the revoked device", d, ok)
	}
	if _, err := r.Pair(tokA, p1); !errors.Is(err, ErrRevoked) {
		t.Fatalf("Pair(revoked token) error = %v, want ErrRevoked", err)
	}
	if _, err := r.Pair(tokB, p1); !errors.Is(err, ErrPeerInUse) {
		t.Fatalf("a revoked peer re-paired with another token: error = %v, want ErrPeerInUse", err)
	}
	if _, err := r.Pair(tokB, p2); err != nil {
		t.Fatalf("Pair(phone, p2): %v", err)
	}
}

func TestOnRevokeRunsAfterPersistence(t *testing.T) {
	r := openTest(t)
	tok := r.mustCreate(t, "laptop")
	p := testPeer(t, 1)
	if _, err := r.Pair(tok, p); err != nil {
		t.Fatal(err)
	}
	var calls []Device
	r.OnRevoke(func(d Device) {
		raw, err := os.ReadFile(r.path)
		if err != nil {
			t.Error(err)
			return
		}
		entries, err := decodeFile(raw)
		if err != nil || len(entries) != 1 || !entries[0].Revoked {
			t.Errorf("OnRevoke ran before the revocation was on disk (%v)", err)
		}
		if r.Admitted(p) { // also proves no lock is held
			t.Error("OnRevoke ran while the peer was still admitted")
		}
		calls = append(calls, d)
	})
	if _, err := r.Revoke("laptop"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Revoke("laptop"); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0].Name != "laptop" || calls[0].Peer != p || !calls[0].Revoked {
		t.Fatalf("OnRevoke calls = %+v, want one for the revoked laptop", calls)
	}
}
