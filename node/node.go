package node

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/antientropy"
	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/node/background"
	"github.com/syncnode/syncnode/node/discovery"
	"github.com/syncnode/syncnode/node/gossip"
	"github.com/syncnode/syncnode/node/group"
	"github.com/syncnode/syncnode/node/membership"
	"github.com/syncnode/syncnode/node/seal"
	"github.com/syncnode/syncnode/node/signing"
	"github.com/syncnode/syncnode/store"
)

const (
	dialTimeout    = 10 * time.Second
	redialInterval = 5 * time.Second
	// hubMaxInbound is how many anti-entropy sessions a hub serves at
	// once: every device asks it after every burst.
	hubMaxInbound = 64
)

// Config wires a Node. The node takes ownership of Store and Host and closes
// them on Close.
type Config struct {
	// Store is the node's replica. Required.
	Store *store.Store
	// Host is the node's libp2p host. Required.
	Host host.Host
	// Network names the group's gossip topic and mDNS hint.
	Network group.Network
	// StaticPeers are dialled at start and redialled whenever disconnected.
	StaticPeers []peer.AddrInfo
	// MDNS turns on LAN discovery. Off unless asked for, so no test can
	// multicast on a real interface by accident.
	MDNS bool
	// MDNSInterfaces limits mDNS to these interfaces; empty means all
	// multicast-capable ones.
	MDNSInterfaces []string
	// SyncInterval is the mean anti-entropy period; zero means
	// DefaultSyncInterval and a negative value turns background
	// anti-entropy off: the timer and the check after each burst (see
	// settleLoop).
	SyncInterval time.Duration
	// ScoreWhitelist exempts these networks from GossipSub's same-IP
	// penalty; in-process tests share one address.
	ScoreWhitelist []*net.IPNet
	// GossipOptions are extra GossipSub options, for test harnesses that
	// inject faults (testnet drops messages with a validator).
	GossipOptions []pubsub.Option
	// Relay, if set, keeps this device paired and in sync with a relay.
	Relay *RelayLink
	// Announce, if set, is how the node announces itself to the group
	// (see Announce), before it dials anyone.
	Announce *membership.Announcement
	// Hub makes the node the group's hub, as a relay is: devices that
	// reach only the relay would otherwise wait for their next pull to see
	// each other's writes. A hub gossips what it pulls by anti-entropy, not
	// only its own writes, and keeps every device in its gossip mesh (see
	// gossip.Config.Hub).
	Hub bool
	// ValueKey, if set, opens sealed values on reads (a device). The store
	// seals local writes itself: see SealWith.
	ValueKey *seal.Key
	// RequireSealed refuses live records in encrypted namespaces whose
	// value is not sealed, from peers and from thin clients alike. Devices
	// with the value key and relays set it.
	RequireSealed bool
	// RequireSigned refuses records from peers and pulls that do not carry
	// a valid signature of their origin (see node/signing). The store signs
	// local writes itself: store.Options.Sign.
	RequireSigned bool
	// Admission limits who syncs with this node beyond the network key;
	// nil admits every group member. A relay admits paired devices only.
	// Revoked devices are refused either way (see Members).
	Admission Admission
	// Members is the group's device list; nil means the one the Store
	// holds, loaded at start. Start builds it first, for its connection
	// gater, and passes it on.
	Members *membership.List
	// OnRevoke, if set, is called once for each device revoked after the
	// node started, however the revocation arrived. It must not block.
	OnRevoke func(membership.Device)
	// APIAddr is the local HTTP API's host:port; empty means no API.
	APIAddr string
	// Mounts are extra API handlers by path prefix (see api.Config).
	Mounts map[string]http.Handler
	// Invites, if set, hands out join codes through the API (see
	// Node.Invite); nil on a relay, which holds no group secret. The node
	// closes it.
	Invites Inviter
	// APIToken is the bearer token the API requires.
	APIToken string
	// Version is reported by status.
	Version string
	// Logger receives node events; nil means slog.Default().
	Logger *slog.Logger
}

// Node is one running device.
type Node struct {
	cfg     Config
	store   *store.Store
	host    host.Host
	log     *slog.Logger
	started time.Time

	gossip  *gossip.Gossip
	ae      *antientropy.Service
	mdns    *discovery.Service
	peers   *peerTable
	rejects *rejectCounter
	members *membership.List
	admit   Admission
	metrics http.Handler

	apiLn  net.Listener
	apiSrv *http.Server

	ctx        context.Context
	cancel     context.CancelFunc
	bg         background.Group
	notifee    connNotifee
	dials      pendingSet
	quietPulls pendingSet // peers with a pull waiting for a lull
	relay      relayState
	relayKick  chan struct{}
	gapPending atomic.Bool
	// refilling is set while refillHoles runs: one loop serves every drop.
	refilling atomic.Bool

	afterClose []func() error
	closeOnce  sync.Once
	closeErr   error
}

// New starts a node: gossip, anti-entropy, discovery, static peers and, if
// cfg.APIAddr is set, the local API. Close stops it.
func New(cfg Config) (*Node, error) {
	var ln net.Listener
	if cfg.APIAddr != "" {
		var err error
		if ln, err = net.Listen("tcp", cfg.APIAddr); err != nil {
			return nil, fmt.Errorf("node api listen: %w", err)
		}
	}
	return newWithListener(cfg, ln)
}

// newWithListener is New with the API listener already open (nil for no
// API). On error it closes everything it was given.
func newWithListener(cfg Config, apiLn net.Listener) (*Node, error) {
	if cfg.Store == nil || cfg.Host == nil {
		if apiLn != nil {
			apiLn.Close()
		}
		return nil, errors.New("node: store and host are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SyncInterval == 0 {
		cfg.SyncInterval = DefaultSyncInterval
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		cfg:       cfg,
		store:     cfg.Store,
		host:      cfg.Host,
		log:       cfg.Logger.With("component", "node", "id", cfg.Host.ID()),
		started:   time.Now(),
		peers:     newPeerTable(),
		rejects:   newRejectCounter(),
		apiLn:     apiLn,
		relayKick: make(chan struct{}, 1),
		ctx:       ctx,
		cancel:    cancel,
	}
	if err := n.start(cfg); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func (n *Node) start(cfg Config) error {
	var err error
	if n.members = cfg.Members; n.members == nil {
		if n.members, err = membership.Load(n.store); err != nil {
			return fmt.Errorf("node: %w", err)
		}
	}
	n.admit = memberAdmission{n.members, cmp.Or[Admission](cfg.Admission, openAdmission{})}
	merged := observedStore{Store: n.store, observe: n.observe}
	replica := checkedStore{observedStore: merged, members: n.members, sealed: cfg.RequireSealed}
	if cfg.RequireSigned {
		replica.verifier = signing.NewVerifier()
	}
	maxInbound := 0 // the default
	if cfg.Hub {
		maxInbound = hubMaxInbound
	}
	n.ae = antientropy.New(n.host, antientropy.Config{
		Store:      replica,
		MaxInbound: maxInbound,
		Admit:      n.admit.AdmitPeer,
		OnApplied: func(_ peer.ID, recs []crdt.Record) {
			if cfg.Hub {
				n.republish(recs)
			}
		},
		OnReject: n.rejected,
		Logger:   cfg.Logger,
	})
	n.gossip, err = gossip.New(n.ctx, n.host, gossip.Config{
		Topic:          cfg.Network.Topic(),
		Store:          merged,
		Admit:          n.admit.AdmitPeer,
		Check:          replica.check,
		ScoreWhitelist: cfg.ScoreWhitelist,
		Hub:            cfg.Hub,
		Relay:          relayPeer(cfg.Relay),
		OnGap:          n.onGap,
		OnJoin:         n.onJoin,
		OnReject:       n.rejected,
		Logger:         cfg.Logger,
		Options:        cfg.GossipOptions,
	})
	if err != nil {
		return fmt.Errorf("node gossip: %w", err)
	}
	serveDigest(n.host, n.store.Digest)
	n.metrics = newMetrics(n)
	n.notifee = connNotifee{n}
	n.host.Network().Notify(n.notifee)
	if cfg.Announce != nil {
		n.announceFirst(*cfg.Announce)
	}
	if cfg.SyncInterval > 0 {
		n.bg.Go(func() { n.syncLoop(cfg.SyncInterval) })
		n.bg.Go(n.settleLoop)
	}
	if len(cfg.StaticPeers) > 0 {
		n.bg.Go(func() { n.redialLoop(cfg.StaticPeers) })
	}
	if cfg.Relay != nil {
		link := *cfg.Relay
		n.bg.Go(func() { n.relayLoop(link) })
	}
	if cfg.MDNS {
		if err := n.startMDNS(cfg); err != nil {
			return err
		}
	}
	if n.apiLn != nil {
		if err := n.serveAPI(cfg); err != nil {
			return err
		}
	}
	return nil
}

// republish gossips records merged from a pull, copying them first: the
// pull reuses their buffers.
func (n *Node) republish(recs []crdt.Record) {
	out := make([]crdt.Record, len(recs))
	for i, r := range recs {
		r.Value = bytes.Clone(r.Value)
		out[i] = r
	}
	n.gossip.Publish(out...)
}

func (n *Node) startMDNS(cfg Config) error {
	svc, err := discovery.New(discovery.Config{
		Self:       n.host.ID(),
		Hint:       cfg.Network.Hint(),
		Addrs:      n.host.Addrs,
		Interfaces: cfg.MDNSInterfaces,
		Logger:     cfg.Logger,
	}, func(ai peer.AddrInfo) {
		// Dial off the browse loop: one slow peer must not delay the rest.
		n.dialAsync(ai, SourceMDNS)
	})
	if err != nil {
		return fmt.Errorf("node mdns: %w", err)
	}
	if err := svc.Start(n.ctx); err != nil {
		return fmt.Errorf("node mdns: %w", err)
	}
	n.mdns = svc
	return nil
}

func (n *Node) serveAPI(cfg Config) error {
	ln := n.apiLn
	srv, err := api.New(api.Config{
		Backend: n,
		Token:   cfg.APIToken,
		Addr:    ln.Addr().String(),
		Metrics: n.metrics,
		Mounts:  cfg.Mounts,
		Logger:  cfg.Logger,
	})
	if err != nil {
		return fmt.Errorf("node api: %w", err)
	}
	n.apiSrv = &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return n.ctx },
	}
	n.bg.Go(func() {
		if err := n.apiSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("api server stopped", "err", err)
		}
	})
	return nil
}

// redialLoop keeps static peers connected, dialling them in parallel so one
// unreachable peer does not hold up the rest.
func (n *Node) redialLoop(peers []peer.AddrInfo) {
	t := time.NewTicker(redialInterval)
	defer t.Stop()
	for {
		for _, ai := range peers {
			n.dialAsync(ai, SourceStatic)
		}
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ID returns the node's peer ID, which is also the origin of its writes.
func (n *Node) ID() peer.ID { return n.host.ID() }

// Host returns the node's libp2p host.
func (n *Node) Host() host.Host { return n.host }

// Store returns the node's replica.
func (n *Node) Store() *store.Store { return n.store }

// APIAddr returns the address the local API listens on, or "".
func (n *Node) APIAddr() string {
	if n.apiLn == nil {
		return ""
	}
	return n.apiLn.Addr().String()
}

// Connect dials a peer now.
func (n *Node) Connect(ctx context.Context, ai peer.AddrInfo) error {
	return n.dial(ctx, ai, SourceStatic)
}

// SyncWith runs one anti-entropy pull from p and waits for it.
func (n *Node) SyncWith(ctx context.Context, p peer.ID) (antientropy.Result, error) {
	res, err := n.ae.Sync(ctx, p)
	n.synced(p, err)
	return res, err
}

// Close stops the node and closes its host and store.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		// Cancelling first ends long polls and watch streams, so the API
		// shuts down promptly.
		n.cancel()
		var errs []error
		if n.apiSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			errs = append(errs, n.apiSrv.Shutdown(ctx))
			cancel()
		} else if n.apiLn != nil {
			errs = append(errs, n.apiLn.Close())
		}
		if n.mdns != nil {
			errs = append(errs, n.mdns.Close())
		}
		if n.cfg.Invites != nil {
			errs = append(errs, n.cfg.Invites.Close())
		}
		if n.gossip != nil {
			errs = append(errs, n.gossip.Close())
		}
		if n.ae != nil {
			n.ae.Close()
		}
		n.host.Network().StopNotify(n.notifee)
		n.bg.Stop()
		errs = append(errs, n.host.Close(), n.store.Close())
		for _, f := range n.afterClose {
			errs = append(errs, f())
		}
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// onClose runs f after the node has stopped.
func (n *Node) onClose(f func() error) { n.afterClose = append(n.afterClose, f) }

// rejected counts a record or message refused from p. The first refusal
// from a peer is logged as a warning, later ones at debug level: a peer
// resending the same bad records every round must not flood the log.
func (n *Node) rejected(p peer.ID, err error) {
	n.rejects.add(err)
	if n.peers.reject(p) == 1 {
		n.log.Warn("rejected input from peer; further rejections are counted in status", "peer", p, "err", err)
		return
	}
	n.log.Debug("rejected input from peer", "peer", p, "err", err)
}

// Put writes a value locally (sealed, in an encrypted namespace of a device
// with the value key) and gossips it once durable.
func (n *Node) Put(ctx context.Context, ns, key string, value []byte) (crdt.Version, error) {
	rec, err := n.store.PutRecord(ctx, ns, key, value)
	if err != nil {
		return rec.Version, err
	}
	n.gossip.Publish(rec)
	return rec.Version, nil
}

// WriteAll makes writes on behalf of clients (see store.WriteAll) and
// gossips the ones applied once durable: a relay's HTTP sync uses it. On a
// node that requires sealed values, a plaintext value in an encrypted
// namespace is refused on its own.
func (n *Node) WriteAll(ctx context.Context, ws []store.Write) ([]store.WriteResult, error) {
	res, err := n.writeChecked(ctx, ws)
	var applied []crdt.Record
	for _, r := range res {
		if r.Applied {
			applied = append(applied, r.Record)
		}
	}
	if len(applied) > 0 {
		n.gossip.Publish(applied...)
	}
	return res, err
}

// writeChecked is store.WriteAll with the writes seal.Check refuses left
// out, and reported in their place.
func (n *Node) writeChecked(ctx context.Context, ws []store.Write) ([]store.WriteResult, error) {
	if !n.cfg.RequireSealed {
		return n.store.WriteAll(ctx, ws)
	}
	res := make([]store.WriteResult, len(ws))
	kept, at := make([]store.Write, 0, len(ws)), make([]int, 0, len(ws))
	for i, w := range ws {
		if err := seal.Check(crdt.Record{NS: w.NS, Key: w.Key, Value: w.Value, Deleted: w.Deleted}); err != nil {
			res[i].Err = err
			continue
		}
		kept, at = append(kept, w), append(at, i)
	}
	got, err := n.store.WriteAll(ctx, kept)
	for j, r := range got {
		res[at[j]] = r
	}
	if err != nil {
		// Only the leading writes whose chunks committed have results.
		last := len(ws)
		if len(got) < len(at) {
			last = at[len(got)]
		}
		return res[:last], err
	}
	return res, nil
}

// Delete writes a tombstone locally and gossips it once durable.
func (n *Node) Delete(ctx context.Context, ns, key string) (crdt.Version, error) {
	rec, err := n.store.DeleteRecord(ctx, ns, key)
	if err != nil {
		return rec.Version, err
	}
	n.gossip.Publish(rec)
	return rec.Version, nil
}

// Head returns the feed position of the latest local change.
func (n *Node) Head() uint64 { return n.store.Stats().FeedHead }

// Changed is closed at the next commit that changes a record.
func (n *Node) Changed() <-chan struct{} { return n.store.Changed() }
