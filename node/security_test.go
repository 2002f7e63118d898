package node_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node"
	"github.com/syncnode/syncnode/node/datadir"
	"github.com/syncnode/syncnode/node/gossip"
	"github.com/syncnode/syncnode/node/group"
	"github.com/syncnode/syncnode/node/p2p"
	"github.com/syncnode/syncnode/node/signing"
)

var loopback = []*net.IPNet{{IP: net.IPv4(127, 0, 0, 0), Mask: net.CIDRMask(8, 32)}}

// device runs a node from a data dir of the group, as `syncnode run` does.
func device(t *testing.T, secret group.Secret, peers ...string) *node.Node {
	t.Helper()
	return deviceAt(t, filepath.Join(t.TempDir(), "dev"), secret, peers...)
}

// deviceAt is device with its data dir at dir, for a test that reads it.
func deviceAt(t *testing.T, dir string, secret group.Secret, peers ...string) *node.Node {
	t.Helper()
	if _, err := datadir.Init(dir, &secret); err != nil {
		t.Fatal(err)
	}
	n, _, err := node.Start(node.Options{
		DataDir: dir, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, API: "127.0.0.1:0",
		Peers: peers, SyncInterval: -1, ScoreWhitelist: loopback, Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func fullAddr(n *node.Node) string {
	addrs, _ := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: n.ID(), Addrs: n.Host().Addrs()})
	return addrs[0].String()
}

// TestHostileGossipIsDroppedAndCounted: a group member (it holds the pnet
// key) publishes a record forged in another device's name, an unsigned one,
// one stamped an hour ahead, an oversized message, and a replay of a real
// device's signed record. None changes the victim's state; each of the
// first four is rejected and counted.
func TestHostileGossipIsDroppedAndCounted(t *testing.T) {
	secret, _ := group.NewSecret()
	alice := device(t, secret)
	bob := device(t, secret, fullAddr(alice))
	ctx := context.Background()
	if _, err := alice.Put(ctx, "open/board", "real", []byte(`"by alice"`)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob has alice's record", func() bool { _, err := bob.Get("open/board", "real"); return err == nil })

	// Mallory: a member's network key, her own identity, raw GossipSub. A
	// peer rejected three times is graylisted and then not even heard, so
	// each message comes from a fresh identity.
	mkey, _, _ := crypto.GenerateEd25519Key(rand.Reader)
	attacker := func() *pubsub.Topic {
		key, _, _ := crypto.GenerateEd25519Key(rand.Reader)
		h, err := p2p.New(p2p.Config{PrivKey: key, PSK: secret.PSK(), ListenAddrs: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		ps, err := pubsub.NewGossipSub(ctx, h, pubsub.WithMessageSignaturePolicy(pubsub.StrictSign), pubsub.WithFloodPublish(true), pubsub.WithMaxMessageSize(16<<20))
		if err != nil {
			t.Fatal(err)
		}
		topic, err := ps.Join(secret.Network().Topic())
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Connect(ctx, peer.AddrInfo{ID: bob.ID(), Addrs: bob.Host().Addrs()}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the attacker joins bob's mesh", func() bool { return len(topic.ListPeers()) > 0 })
		return topic
	}

	mID := crdt.NodeID(peer.ID(must(peer.IDFromPrivateKey(mkey))).String())
	sign := signing.Signer(mkey)
	now := bob.Store().Clock().Now()
	mk := func(origin crdt.NodeID, hlc crdt.Timestamp, key string) crdt.Record {
		return crdt.Record{NS: "open/board", Key: key, Value: []byte(`"by mallory"`), Version: crdt.Version{HLC: hlc, Origin: origin, Seq: 1}}
	}
	forged := mk(crdt.NodeID(alice.ID().String()), now, "real") // in alice's name
	forged.Sig = must(sign(forged))
	unsigned := mk(mID, now, "unsigned")
	future := mk(mID, now+crdt.Timestamp(3600_000<<16), "future")
	future.Sig = must(sign(future))
	big := mk(mID, now, "big")
	big.Value = []byte(`"` + strings.Repeat("x", 1<<20-16) + `"`)
	big.Sig = must(sign(big))
	replay, err := alice.Store().Get("open/board", "real")
	if err != nil {
		t.Fatal(err)
	}

	rejected := func() uint64 { st, _ := bob.Status(ctx); return st.RejectedTotal }
	for i, data := range [][]byte{
		gossip.EncodeBatch([]crdt.Record{forged}),
		gossip.EncodeBatch([]crdt.Record{unsigned}),
		gossip.EncodeBatch([]crdt.Record{future}),
		gossip.EncodeBatch(slices.Repeat([]crdt.Record{big}, 10)), // 10 MiB
	} {
		if err := attacker().Publish(ctx, data); err != nil {
			t.Fatal(err)
		}
		eventually(t, fmt.Sprintf("bob to count rejection %d", i+1), func() bool { return rejected() == uint64(i+1) })
	}
	if err := attacker().Publish(ctx, gossip.EncodeBatch([]crdt.Record{replay})); err != nil {
		t.Fatal(err)
	}
	// A marker from alice after the attack: once bob has it, every message
	// above has been handled.
	if _, err := alice.Put(ctx, "open/board", "marker", []byte(`1`)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob gets alice's marker", func() bool { _, err := bob.Get("open/board", "marker"); return err == nil })
	got, err := bob.Get("open/board", "real")
	if err != nil || string(got.Value) != `"by alice"` {
		t.Errorf("bob's copy of alice's record is now %s (%v)", got.Value, err)
	}
	for _, k := range []string{"unsigned", "future", "big"} {
		if _, err := bob.Get("open/board", k); err == nil {
			t.Errorf("bob stored mallory's %q record", k)
		}
	}
	if rejected() != 4 {
		t.Errorf("bob counted %d rejections, want 4 (the replay is a harmless duplicate)", rejected())
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
