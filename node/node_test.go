package node_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node"
	"github.com/syncnode/syncnode/node/gossip"
	"github.com/syncnode/syncnode/node/group"
	"github.com/syncnode/syncnode/store"
	"github.com/syncnode/syncnode/store/storetest"
)

const waitTimeout = 20 * time.Second

// everyone exempts all addresses from the same-IP penalty: mocknet hosts
// share address space.
var everyone = []*net.IPNet{
	{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)},
	{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)},
}

// mesh is a set of nodes on one mocknet, in one group.
type mesh struct {
	mn     mocknet.Mocknet
	secret group.Secret
}

func newMesh(t *testing.T) *mesh {
	t.Helper()
	secret, err := group.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	return &mesh{mn: mn, secret: secret}
}

func (m *mesh) host(t *testing.T) host.Host {
	t.Helper()
	h, err := m.mn.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.mn.LinkAll(); err != nil {
		t.Fatal(err)
	}
	return h
}

// node starts a node with an in-memory store on a new mocknet host.
func (m *mesh) node(t *testing.T) *node.Node {
	t.Helper()
	h := m.host(t)
	st := storetest.InMemory(t, crdt.NodeID(h.ID().String()), nil)
	n, err := node.New(node.Config{
		Store:          st,
		Host:           h,
		Network:        m.secret.Network(),
		SyncInterval:   -1,
		ScoreWhitelist: everyone,
		Logger:         quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func connect(t *testing.T, a, b *node.Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Host().Addrs()}); err != nil {
		t.Fatal(err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func TestWritesReachPeerAndStatusShowsInSync(t *testing.T) {
	m := newMesh(t)
	a, b := m.node(t), m.node(t)
	ctx := context.Background()
	// Written before the peers meet: anti-entropy on connect carries it.
	if _, err := a.Put(ctx, "tasks", "early", []byte(`1`)); err != nil {
		t.Fatal(err)
	}
	connect(t, a, b)
	eventually(t, "b to get the early write", func() bool {
		_, err := b.Get("tasks", "early")
		return err == nil
	})
	// Written after: gossip carries it, deletes included.
	if _, err := a.Put(ctx, "tasks", "t1", []byte(`{"title":"x"}`)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b to get t1", func() bool {
		r, err := b.Get("tasks", "t1")
		return err == nil && string(r.Value) == `{"title":"x"}`
	})
	if _, err := b.Delete(ctx, "tasks", "t1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a to see the delete", func() bool {
		r, err := a.Get("tasks", "t1")
		return err == nil && r.Deleted
	})
	eventually(t, "status to report b in sync", func() bool {
		st, err := a.Status(ctx)
		if err != nil || len(st.Peers) != 1 {
			return false
		}
		p := st.Peers[0]
		return p.ID == b.ID().String() && p.Connected && p.InSync && p.Source == "static" && p.LastSync != nil
	})
}

func TestStatusShowsPeerOutOfSync(t *testing.T) {
	m := newMesh(t)
	a, b := m.node(t), m.node(t)
	connect(t, a, b)
	// Applying a record to b's store directly bypasses gossip, so only the
	// digests can tell the replicas differ.
	rec := crdt.Record{NS: "tasks", Key: "hidden", Value: []byte(`1`),
		Version: crdt.Version{HLC: b.Store().Clock().Now(), Origin: "someone-else", Seq: 1}}
	if _, err := b.Store().Apply(context.Background(), []crdt.Record{rec}); err != nil {
		t.Fatal(err)
	}
	peers, err := a.Peers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 1 || peers[0].InSync || peers[0].Digest == "" {
		t.Fatalf("peers = %+v, want b connected and not in sync", peers)
	}
}

// TestHostilePeerIsRejectedAndCounted: a group member that publishes
// garbage and future-stamped records gets them dropped and counted in
// status, and the node keeps its data and keeps serving.
func TestHostilePeerIsRejectedAndCounted(t *testing.T) {
	m := newMesh(t)
	a := m.node(t)
	ctx := context.Background()
	if _, err := a.Put(ctx, "tasks", "keep", []byte(`"safe"`)); err != nil {
		t.Fatal(err)
	}
	before := a.Store().Digest()

	evil := m.host(t)
	ps, err := pubsub.NewGossipSub(ctx, evil, pubsub.WithMessageSignaturePolicy(pubsub.StrictSign))
	if err != nil {
		t.Fatal(err)
	}
	topic, err := ps.Join(m.secret.Topic())
	if err != nil {
		t.Fatal(err)
	}
	if err := evil.Connect(ctx, peer.AddrInfo{ID: a.ID(), Addrs: a.Host().Addrs()}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the hostile peer to see a on the topic", func() bool { return len(topic.ListPeers()) > 0 })

	future := crdt.NewTimestamp(time.Now().Add(time.Hour).UnixMilli(), 0)
	for _, msg := range [][]byte{
		[]byte("not a batch at all"),
		gossip.EncodeBatch([]crdt.Record{{NS: "tasks", Key: "keep", Value: []byte(`"overwritten"`),
			Version: crdt.Version{HLC: future, Origin: crdt.NodeID(evil.ID().String()), Seq: 1}}}),
		gossip.EncodeBatch([]crdt.Record{{NS: "bad ns!", Key: "k", Value: []byte(`1`),
			Version: crdt.Version{HLC: crdt.NewTimestamp(time.Now().UnixMilli(), 0), Origin: crdt.NodeID(evil.ID().String()), Seq: 2}}}),
	} {
		if err := topic.Publish(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "three rejections in status", func() bool {
		st, err := a.Status(ctx)
		if err != nil || st.RejectedTotal < 3 {
			return false
		}
		for _, p := range st.Peers {
			if p.ID == evil.ID().String() && p.Rejected >= 3 {
				return st.Rejected["clock_skew"] >= 1 && st.Rejected["malformed"] >= 1 && st.Rejected["invalid"] >= 1
			}
		}
		return false
	})
	if a.Store().Digest() != before {
		t.Fatal("rejected input changed the replica")
	}
	r, err := a.Get("tasks", "keep")
	if err != nil || string(r.Value) != `"safe"` {
		t.Fatalf("tasks/keep = %s, %v; want the acknowledged value", r.Value, err)
	}
	if _, err := a.Put(ctx, "tasks", "after", []byte(`1`)); err != nil {
		t.Fatalf("node stopped serving after hostile input: %v", err)
	}
	if _, err := a.Get("tasks", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get of an absent key: %v", err)
	}
}
