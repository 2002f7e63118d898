package node_test

import (
	"context"
	"errors"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node"
	"github.com/syncnode/syncnode/node/group"
	"github.com/syncnode/syncnode/store"
)

func nodeID(n *node.Node) crdt.NodeID { return crdt.NodeID(n.ID().String()) }

func holds(n *node.Node, ns, key string) bool {
	_, err := n.Get(ns, key)
	return err == nil
}

func connected(a, b *node.Node) bool {
	return len(a.Host().Network().ConnsToPeer(b.ID())) > 0
}

// threeDevices starts alice, bob and mallory in one new group, each
// dialling the ones before, and waits until each knows all three.
func threeDevices(t *testing.T) (secret group.Secret, alice, bob, mallory *node.Node) {
	t.Helper()
	secret, _ = group.NewSecret()
	alice = device(t, secret)
	bob = device(t, secret, fullAddr(alice))
	mallory = device(t, secret, fullAddr(alice), fullAddr(bob))
	eventually(t, "every device knows the other two", func() bool {
		return len(alice.Devices()) == 3 && len(bob.Devices()) == 3 && len(mallory.Devices()) == 3
	})
	return secret, alice, bob, mallory
}

// TestRevokedDeviceIsCutOffEverywhere is the security battery's revocation
// item: once any device revokes mallory, every device refuses mallory's
// connections and its new records, even records carried by a device that
// had not heard of the revocation yet; mallory's writes from before the
// revocation stay valid everywhere, so replicas still agree.
func TestRevokedDeviceIsCutOffEverywhere(t *testing.T) {
	ctx := context.Background()
	secret, alice, bob, mallory := threeDevices(t)

	must(mallory.Put(ctx, "tasks", "before", []byte(`"written while trusted"`)))
	// The revocation's cut is the last of mallory's writes alice has seen.
	eventually(t, "mallory's early write reaches alice and bob", func() bool {
		return holds(alice, "tasks", "before") && holds(bob, "tasks", "before")
	})

	revoked, err := alice.Revoke(ctx, string(nodeID(mallory)))
	if err != nil || !revoked.Revoked {
		t.Fatalf("Revoke = %+v, %v", revoked, err)
	}
	eventually(t, "bob learns of the revocation", func() bool { return bob.Members().Revoked(nodeID(mallory)) })
	eventually(t, "mallory is disconnected from alice and bob", func() bool {
		return !connected(mallory, alice) && !connected(mallory, bob)
	})
	peers, err := alice.Peers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	listed := false
	for _, p := range peers {
		want := p.ID == mallory.ID().String()
		listed = listed || want
		if p.Revoked != want {
			t.Errorf("alice's peer list says %s revoked = %v, want %v", p.ID, p.Revoked, want)
		}
	}
	if !listed {
		t.Error("alice's peer list lost mallory: it should show her as revoked")
	}

	// Mallory dials bob again: bob's gater refuses it at the handshake.
	_ = mallory.Connect(ctx, peer.AddrInfo{ID: bob.ID(), Addrs: bob.Host().Addrs()})
	eventually(t, "no connection from mallory to bob survives", func() bool { return !connected(mallory, bob) })
	if _, err := mallory.SyncWith(ctx, bob.ID()); err == nil {
		t.Error("mallory could still run anti-entropy with bob")
	}

	// Carol starts late, and meets mallory as well as bob: whichever she
	// hears first, mallory's new write must not stay with her, and must
	// never reach bob through her.
	must(mallory.Put(ctx, "tasks", "after", []byte(`"written once revoked"`)))
	carol := device(t, secret, fullAddr(mallory), fullAddr(bob))
	eventually(t, "carol learns of the revocation", func() bool { return carol.Members().Revoked(nodeID(mallory)) })
	eventually(t, "carol and bob agree, without mallory's new write", func() bool {
		return !holds(carol, "tasks", "after") && holds(carol, "tasks", "before") &&
			carol.Store().Digest() == bob.Store().Digest()
	})
	if _, err := bob.Get("tasks", "after"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("mallory's write after the revocation reached bob: %v", err)
	}
	if !holds(mallory, "tasks", "after") {
		t.Error("the revoked device lost its own write: it is refused elsewhere, but still its user's")
	}
	if _, err := mallory.Revoke(ctx, string(nodeID(alice))); err == nil && mallory.Members().Revoked(nodeID(mallory)) {
		t.Error("a revoked device could still revoke others")
	}
}

// TestRevokeRefusesSelfAndUnknownDevices: a device cannot revoke itself
// (another must), nor a name nobody announced.
func TestRevokeRefusesSelfAndUnknownDevices(t *testing.T) {
	secret, _ := group.NewSecret()
	ctx := context.Background()
	alice := device(t, secret)
	if _, err := alice.Revoke(ctx, string(nodeID(alice))); err == nil {
		t.Error("a device revoked itself")
	}
	if _, err := alice.Revoke(ctx, "no-such-device"); err == nil {
		t.Error("revoking an unknown name succeeded")
	}
}

// TestRevocationRefillsWhatALateWriteReplaced: carol took mallory's write
// made after the revocation, which replaced alice's record, before she
// heard of the revocation. When she meets bob she learns of it and drops
// that write, which would leave the key empty on carol alone; a pull from
// bob puts alice's record back, and carol agrees with bob.
func TestRevocationRefillsWhatALateWriteReplaced(t *testing.T) {
	ctx := context.Background()
	secret, alice, bob, mallory := threeDevices(t)

	must(alice.Put(ctx, "tasks", "shared", []byte(`"alice's"`)))
	eventually(t, "alice's write reaches everyone", func() bool {
		return holds(mallory, "tasks", "shared") && holds(bob, "tasks", "shared")
	})
	original, err := bob.Get("tasks", "shared")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Revoke(ctx, string(nodeID(mallory))); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob learns of the revocation and mallory is cut off", func() bool {
		return bob.Members().Revoked(nodeID(mallory)) && !connected(mallory, alice) && !connected(mallory, bob)
	})
	must(mallory.Put(ctx, "tasks", "shared", []byte(`"mallory's"`)))
	late, err := mallory.Get("tasks", "shared")
	if err != nil {
		t.Fatal(err)
	}

	// Carol, on her own so far, takes both writes as a pull would have
	// brought them to her before the revocation did.
	carol := device(t, secret)
	if res, err := carol.Store().Apply(ctx, []crdt.Record{original, late}); err != nil || len(res.Applied) != 2 {
		t.Fatalf("carol takes both writes: %+v, %v", res, err)
	}
	if err := carol.Connect(ctx, peer.AddrInfo{ID: bob.ID(), Addrs: bob.Host().Addrs()}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "carol holds alice's record again and agrees with bob", func() bool {
		rec, err := carol.Get("tasks", "shared")
		return err == nil && string(rec.Value) == `"alice's"` && carol.Store().Digest() == bob.Store().Digest()
	})
	if st, err := carol.Status(ctx); err != nil || st.Refilling != 0 {
		t.Errorf("carol's status: refilling %d keys, %v; want none", st.Refilling, err)
	}
}
