package gossip_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/gossip"
	"github.com/syncnode/syncnode/store"
	"github.com/syncnode/syncnode/store/storetest"
)

const (
	testTopic = "syncnode/test"
	// baseMS is the fixed wall time of every test clock.
	baseMS = 1_750_000_000_000
	// waitTimeout bounds every wait for the network; generous for -race
	// on two cores, and never reached when things work.
	waitTimeout = 20 * time.Second
)

func fixedClock() int64 { return baseMS }

// discardLogger drops everything; tests assert on behaviour, not logs.
func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// mustStore opens an in-memory store for origin on the fixed clock.
func mustStore(tb testing.TB, origin crdt.NodeID) *store.Store {
	tb.Helper()
	return storetest.InMemory(tb, origin, fixedClock)
}

// mustNet returns a mocknet of n linked hosts, not yet connected: connect
// them with connectAll once their pubsubs run, so that no host dials a
// peer that cannot speak GossipSub yet.
func mustNet(tb testing.TB, n int) (mocknet.Mocknet, []host.Host) {
	tb.Helper()
	mn, err := mocknet.FullMeshLinked(n)
	if err != nil {
		tb.Fatalf("mocknet: %v", err)
	}
	tb.Cleanup(func() { mn.Close() })
	return mn, mn.Hosts()
}

// connectAll connects every pair of mn's hosts.
func connectAll(tb testing.TB, mn mocknet.Mocknet) {
	tb.Helper()
	if err := mn.ConnectAllButSelf(); err != nil {
		tb.Fatalf("connect: %v", err)
	}
}

// events records the OnGap and OnReject calls of one node.
type events struct {
	mu      sync.Mutex
	gaps    []peer.ID
	rejects map[peer.ID][]error
}

func (e *events) gap(from peer.ID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.gaps = append(e.gaps, from)
}

func (e *events) reject(from peer.ID, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rejects == nil {
		e.rejects = map[peer.ID][]error{}
	}
	e.rejects[from] = append(e.rejects[from], err)
}

func (e *events) gapsFrom(p peer.ID) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, g := range e.gaps {
		if g == p {
			n++
		}
	}
	return n
}

func (e *events) rejectsFrom(p peer.ID) []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.rejects[p]...)
}

// testNode is one device: a host, its store and its gossip.
type testNode struct {
	host   host.Host
	store  *store.Store
	gossip *gossip.Gossip
	events *events
}

// startNode runs gossip on h over a fresh store; edit may adjust the config.
func startNode(tb testing.TB, h host.Host, edit func(*gossip.Config)) *testNode {
	tb.Helper()
	n := &testNode{host: h, store: mustStore(tb, crdt.NodeID(h.ID().String())), events: &events{}}
	cfg := gossip.Config{
		Topic:    testTopic,
		Store:    n.store,
		OnGap:    n.events.gap,
		OnReject: n.events.reject,
		Logger:   discardLogger(),
	}
	if edit != nil {
		edit(&cfg)
	}
	g, err := gossip.New(context.Background(), h, cfg)
	if err != nil {
		tb.Fatalf("gossip new: %v", err)
	}
	tb.Cleanup(func() {
		if err := g.Close(); err != nil {
			tb.Errorf("gossip close: %v", err)
		}
	})
	n.gossip = g
	return n
}

// startNodes runs gossip on n mocknet hosts and waits until each sees all
// the others on the topic.
func startNodes(tb testing.TB, n int) []*testNode {
	tb.Helper()
	mn, hosts := mustNet(tb, n)
	nodes := make([]*testNode, n)
	for i, h := range hosts {
		nodes[i] = startNode(tb, h, nil)
	}
	connectAll(tb, mn)
	for _, nd := range nodes {
		waitFor(tb, "topic peers", func() bool { return len(nd.gossip.Peers()) == n-1 })
	}
	return nodes
}

// put writes a value on n's store and gossips it, as the node does.
func (n *testNode) put(tb testing.TB, ns, key string, value []byte) crdt.Record {
	tb.Helper()
	v, err := n.store.Put(context.Background(), ns, key, value)
	if err != nil {
		tb.Fatalf("put: %v", err)
	}
	rec := crdt.Record{NS: ns, Key: key, Value: value, Version: v}
	n.gossip.Publish(rec)
	return rec
}

// waitFor polls cond until it holds, failing the test at waitTimeout.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
		<-tick.C
	}
}

// jsonValue returns a JSON string value of exactly size bytes.
func jsonValue(size int, fill byte) []byte {
	v := make([]byte, size)
	for i := range v {
		v[i] = fill
	}
	v[0], v[size-1] = '"', '"'
	return v
}

// record builds a valid record from origin.
func record(origin peer.ID, seq uint64, hlc crdt.Timestamp, key string) crdt.Record {
	return crdt.Record{
		NS: "tasks", Key: key, Value: []byte(fmt.Sprintf(`{"seq":%d}`, seq)),
		Version: crdt.Version{HLC: hlc, Origin: crdt.NodeID(origin.String()), Seq: seq},
	}
}
