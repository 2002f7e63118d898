package testnet

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node"
	"github.com/syncnode/syncnode/node/group"
	"github.com/syncnode/syncnode/store"
)

// readyTimeout bounds the wait for connections and gossip subscriptions
// after New, Heal, Partition and Restart.
const readyTimeout = 20 * time.Second

// Store sizes for testnet nodes: many share one process, so each gets less
// than a device would.
const (
	memTableSize   = 16 << 20
	blockCacheSize = 8 << 20
)

var (
	// ErrStopped is returned for an operation on a node that is stopped.
	ErrStopped = errors.New("testnet: node is stopped")
	// ErrRunning is returned by Restart for a node that is running.
	ErrRunning = errors.New("testnet: node is running")
	// ErrInMemory is returned by Restart when stores are in memory: the
	// node's replica went with it.
	ErrInMemory = errors.New("testnet: in-memory nodes cannot restart")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("testnet: net is closed")
)

// everyone exempts every address from GossipSub's same-IP penalty: the
// nodes of a Net share one address (loopback, or mocknet's).
var everyone = []*net.IPNet{
	{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)},
	{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)},
}

// Net is a group of real nodes in one process, all in one group and, unless
// partitioned, all connected to each other. Its methods are safe for
// concurrent use, but Partition, Heal, Stop and Restart should not race
// each other.
type Net struct {
	opts   Options
	secret group.Secret
	fab    fabric
	dir    string
	ownDir bool
	keys   []crypto.PrivKey
	ids    []peer.ID
	index  map[peer.ID]int
	drops  *dropper

	mu      sync.RWMutex
	closed  bool
	nodes   []*node.Node  // nil while stopped
	views   []*gossipView // what each running node's gossip sees
	side    []int         // partition side of each node
	down    []bool        // stopped, or stopping
	retired Traffic       // what stopped nodes sent
}

// New starts opts.Nodes nodes, connects every pair and returns once each
// node's gossip has every other node as a subscriber. Close stops them.
func New(ctx context.Context, opts Options) (*Net, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	secret, err := group.NewSecret()
	if err != nil {
		return nil, err
	}
	n := &Net{
		opts:   opts,
		secret: secret,
		index:  map[peer.ID]int{},
		drops:  newDropper(opts.Seed, opts.DropRate),
		nodes:  make([]*node.Node, opts.Nodes),
		views:  make([]*gossipView, opts.Nodes),
		side:   make([]int, opts.Nodes),
		down:   make([]bool, opts.Nodes),
	}
	if err := n.identities(); err != nil {
		return nil, err
	}
	if n.dir = opts.Dir; n.dir == "" && !opts.InMemory {
		if n.dir, err = os.MkdirTemp("", "syncnode-testnet-"); err != nil {
			return nil, fmt.Errorf("testnet: %w", err)
		}
		n.ownDir = true
	}
	if opts.Transport == TCP {
		n.fab = &tcpFabric{secret: secret, reachable: n.reachable}
	} else {
		n.fab = newMockFabric(opts.Latency)
	}
	for i := range opts.Nodes {
		if err := n.start(i); err != nil {
			n.Close()
			return nil, err
		}
	}
	if err := n.settle(ctx); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// identities derives one Ed25519 key per node from the seed, so peer IDs,
// and with them last-writer-wins tie-breaks, repeat from run to run.
func (n *Net) identities() error {
	rng := rand.New(rand.NewPCG(uint64(n.opts.Seed), 0x6b657973))
	for i := range n.opts.Nodes {
		var seed [ed25519.SeedSize]byte
		for j := 0; j < len(seed); j += 8 {
			v := rng.Uint64()
			for k := range 8 {
				seed[j+k] = byte(v >> (8 * k))
			}
		}
		key, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed[:]))
		if err != nil {
			return fmt.Errorf("testnet identity: %w", err)
		}
		id, err := peer.IDFromPrivateKey(key)
		if err != nil {
			return fmt.Errorf("testnet identity: %w", err)
		}
		n.keys = append(n.keys, key)
		n.ids = append(n.ids, id)
		n.index[id] = i
	}
	return nil
}

// start opens node i's store, host and node, and links it to every running
// node on its side of any partition. It does not connect it.
func (n *Net) start(i int) error {
	st, err := store.Open(store.Options{
		Dir:            n.storeDir(i),
		InMemory:       n.opts.InMemory,
		Origin:         crdt.NodeID(n.ids[i].String()),
		MemTableSize:   memTableSize,
		BlockCacheSize: blockCacheSize,
		Logger:         n.opts.Logger,
	})
	if err != nil {
		return fmt.Errorf("testnet node %d: %w", i, err)
	}
	h, err := n.fab.host(i, n.keys[i])
	if err != nil {
		st.Close()
		return fmt.Errorf("testnet node %d: %w", i, err)
	}
	for _, j := range n.peersOf(i) {
		if err := n.fab.link(n.ids[i], n.ids[j]); err != nil {
			h.Close()
			st.Close()
			return err
		}
	}
	view := newGossipView(n.secret.Topic())
	nd, err := node.New(node.Config{
		Store:          st,
		Host:           h,
		Network:        n.secret.Network(),
		SyncInterval:   n.opts.SyncInterval,
		ScoreWhitelist: everyone,
		GossipOptions: []pubsub.Option{
			pubsub.WithDefaultValidator(n.drops.validator(n.ids[i]), pubsub.WithValidatorInline(true)),
			pubsub.WithRawTracer(view),
			pubsub.WithBlacklist(cutList{self: n.ids[i], reachable: n.reachable}),
		},
		Logger: n.opts.Logger.With("testnet_node", i),
	})
	if err != nil {
		return fmt.Errorf("testnet node %d: %w", i, err)
	}
	n.mu.Lock()
	n.nodes[i], n.views[i] = nd, view
	n.mu.Unlock()
	return nil
}

func (n *Net) storeDir(i int) string {
	if n.opts.InMemory {
		return ""
	}
	return filepath.Join(n.dir, fmt.Sprintf("node-%d", i))
}

// peersOf lists the running nodes other than i on i's side.
func (n *Net) peersOf(i int) []int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	var out []int
	for j, nd := range n.nodes {
		if j != i && nd != nil && n.side[j] == n.side[i] {
			out = append(out, j)
		}
	}
	return out
}

// reachable reports whether a and b are both up and on one side; the TCP
// gater and the gossip blacklists ask.
func (n *Net) reachable(a, b peer.ID) bool {
	i, okA := n.index[a]
	j, okB := n.index[b]
	if !okA || !okB {
		return false
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.side[i] == n.side[j] && !n.down[i] && !n.down[j]
}

// settle connects every reachable pair of running nodes and waits until
// each node gossips with every node it can reach.
func (n *Net) settle(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for i := range n.opts.Nodes {
		for _, j := range n.peersOf(i) {
			if j < i {
				continue
			}
			if err := n.connect(ctx, i, j); err != nil {
				return err
			}
		}
	}
	return n.await(ctx, "gossip to connect", func() string {
		for i := range n.opts.Nodes {
			view := n.view(i)
			if view == nil {
				continue
			}
			for _, j := range n.peersOf(i) {
				if !view.ready(n.ids[j]) {
					return fmt.Sprintf("node %d cannot gossip to node %d", i, j)
				}
			}
		}
		return ""
	})
}

// disconnect closes every connection between running nodes i and j and
// waits until the gossip of each has dropped the other.
func (n *Net) disconnect(ctx context.Context, i, j int) error {
	a, b := n.Node(i), n.Node(j)
	if a == nil || b == nil {
		return nil
	}
	// A peer's end of a closed connection may close asynchronously
	// (mocknet's does), so close both ends now.
	err := errors.Join(a.Host().Network().ClosePeer(n.ids[j]), b.Host().Network().ClosePeer(n.ids[i]))
	if err != nil {
		return fmt.Errorf("testnet: disconnect node %d from node %d: %w", i, j, err)
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	return errors.Join(n.dropped(ctx, i, j), n.dropped(ctx, j, i))
}

// dropped waits until the gossip of node i, if running, has dropped node j.
func (n *Net) dropped(ctx context.Context, i, j int) error {
	view := n.view(i)
	if view == nil {
		return nil
	}
	return n.await(ctx, "gossip to drop a peer", func() string {
		if !view.gone(n.ids[j]) {
			return fmt.Sprintf("node %d still gossips to node %d", i, j)
		}
		return ""
	})
}

// await polls pending until it returns "" and, if ctx ends first, returns
// an error saying what was still pending.
func (n *Net) await(ctx context.Context, what string, pending func() string) error {
	var left string
	err := poll(ctx, func() bool {
		left = pending()
		return left == ""
	})
	if err != nil {
		return fmt.Errorf("testnet: waiting for %s (%s): %w", what, left, err)
	}
	return nil
}

func (n *Net) view(i int) *gossipView {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.views[i]
}

// connect has node i dial node j.
func (n *Net) connect(ctx context.Context, i, j int) error {
	a, b := n.Node(i), n.Node(j)
	if a == nil || b == nil {
		return nil
	}
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Host().Addrs()}); err != nil {
		return fmt.Errorf("testnet: connect node %d to node %d: %w", i, j, err)
	}
	return nil
}

// Len returns the number of nodes, running or stopped.
func (n *Net) Len() int { return n.opts.Nodes }

// Transport returns the transport the nodes talk over.
func (n *Net) Transport() Transport { return n.opts.Transport }

// ID returns node i's peer ID, which stays the same across restarts.
func (n *Net) ID(i int) peer.ID { return n.ids[i] }

// Node returns node i, or nil while it is stopped.
func (n *Net) Node(i int) *node.Node {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.nodes[i]
}

// running returns the running nodes and their indexes.
func (n *Net) running() (idx []int, nodes []*node.Node) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	for i, nd := range n.nodes {
		if nd != nil {
			idx, nodes = append(idx, i), append(nodes, nd)
		}
	}
	return idx, nodes
}

// SetDropRate changes the probability that a node ignores a gossip message
// from a peer; see Options.DropRate.
func (n *Net) SetDropRate(rate float64) error {
	if rate < 0 || rate > 1 {
		return fmt.Errorf("testnet: drop rate %g: want 0 to 1", rate)
	}
	n.drops.setRate(rate)
	return nil
}

// Stop closes node i, keeping its store on disk for Restart.
func (n *Net) Stop(i int) error {
	if err := n.check(i); err != nil {
		return err
	}
	n.mu.Lock()
	nd := n.nodes[i]
	n.nodes[i], n.views[i] = nil, nil
	if nd != nil {
		n.down[i] = true
	}
	n.mu.Unlock()
	if nd == nil {
		return fmt.Errorf("testnet stop node %d: %w", i, ErrStopped)
	}
	errs := []error{nd.Close()}
	n.mu.Lock()
	n.retired = n.retired.add(trafficOf(nd))
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	for j := range n.opts.Nodes {
		if j == i {
			continue
		}
		errs = append(errs, n.fab.unlink(n.ids[i], n.ids[j]))
		if other := n.Node(j); other != nil {
			// The peers' ends of the closed connections may close
			// asynchronously (mocknet's do): close them now, and wait for
			// their gossip to drop the node, so that a restart finds no
			// trace of the old connections.
			errs = append(errs, other.Host().Network().ClosePeer(n.ids[i]), n.dropped(ctx, j, i))
		}
	}
	err := errors.Join(errs...)
	if err != nil {
		return fmt.Errorf("testnet stop node %d: %w", i, err)
	}
	return nil
}

// Restart starts stopped node i again with its identity and its store, and
// returns once it is connected to every node on its side and their gossip
// has subscribed.
func (n *Net) Restart(ctx context.Context, i int) error {
	if err := n.check(i); err != nil {
		return err
	}
	if n.opts.InMemory {
		return ErrInMemory
	}
	if n.Node(i) != nil {
		return fmt.Errorf("testnet restart node %d: %w", i, ErrRunning)
	}
	n.mu.Lock()
	n.down[i] = false
	n.mu.Unlock()
	if err := n.start(i); err != nil {
		n.mu.Lock()
		n.down[i] = true
		n.mu.Unlock()
		return err
	}
	return n.settle(ctx)
}

func (n *Net) check(i int) error {
	if i < 0 || i >= n.opts.Nodes {
		return fmt.Errorf("testnet: no node %d in a net of %d", i, n.opts.Nodes)
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.closed {
		return ErrClosed
	}
	return nil
}

// Close stops every node and removes the temporary store directory, if New
// made one.
func (n *Net) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	nodes := append([]*node.Node(nil), n.nodes...)
	clear(n.nodes)
	n.mu.Unlock()
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for k, nd := range nodes {
		if nd != nil {
			wg.Go(func() { errs[k] = nd.Close() })
		}
	}
	wg.Wait()
	if n.fab != nil {
		errs = append(errs, n.fab.close())
	}
	if n.ownDir {
		errs = append(errs, os.RemoveAll(n.dir))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("testnet close: %w", err)
	}
	return nil
}
