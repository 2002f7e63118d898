package relay

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"
	"golang.org/x/time/rate"

	"github.com/syncnode/syncnode/node"
	"github.com/syncnode/syncnode/node/background"
	"github.com/syncnode/syncnode/node/datadir"
	"github.com/syncnode/syncnode/node/invite"
	"github.com/syncnode/syncnode/node/membership"
	"github.com/syncnode/syncnode/node/ratelimit"
	"github.com/syncnode/syncnode/relay/registry"
)

// Files a relay keeps in its data dir besides a node's.
const (
	// DevicesFile is the device registry: token hashes, pairings, acks.
	DevicesFile = "devices.json"
	// AddrsFile lists the relay's full multiaddrs, one per line, written
	// at every start for `syncnode relay addr`.
	AddrsFile = "relay-addrs"
)

// Defaults for zero Options fields.
const (
	DefaultGCInterval = 10 * time.Minute
	DefaultHorizon    = 30 * 24 * time.Hour
	// pairingGrace is how long an unpaired peer may stay connected to
	// present its token.
	pairingGrace = 20 * time.Second
)

// Failed pairing and HTTP attempts are limited per source address: a burst
// of failedBurst, then one every failedEvery. Sources are checked before
// any token is hashed.
const (
	failedBurst   = 10
	failedEvery   = 2 * time.Second
	maxSources    = 10_000
	checkpointLen = 720
)

// ErrNotRelayDir means a data dir is not a relay's: it is uninitialized
// and no relay code was given, or it holds a device's group secret.
var ErrNotRelayDir = errors.New("not a relay data dir")

// Options configure a relay.
type Options struct {
	// DataDir is the relay's data directory.
	DataDir string
	// Join is a relay code from `syncnode invite --relay`: required the
	// first time, checked against the data dir after that.
	Join string
	// Listen are libp2p listen multiaddrs (see node.Options).
	Listen []string
	// PublicAddrs are multiaddrs to announce besides the listen addresses,
	// for a relay behind a port forward or a load balancer.
	PublicAddrs []string
	// HTTP is the host:port of the thin clients' sync API; empty means off.
	HTTP string
	// API is the local admin API's host:port (loopback; see node.Options).
	API string
	// GCInterval is the period of tombstone collection; zero means
	// DefaultGCInterval.
	GCInterval time.Duration
	// Horizon is how long a device may stay away and still count for
	// tombstone collection; one away longer must resync. Zero means
	// DefaultHorizon.
	Horizon time.Duration
	// SyncInterval is the anti-entropy period (see node.Config).
	SyncInterval time.Duration
	// Now is the clock of the device registry (last seen, horizon); nil
	// means time.Now. For tests.
	Now func() time.Time
	// ScoreWhitelist exempts networks from gossip's same-IP penalty; for
	// harnesses that run many devices on one address.
	ScoreWhitelist []*net.IPNet
	// Version is reported by status.
	Version string
	// Logger receives relay events; nil means slog.Default().
	Logger *slog.Logger
}

// Relay is a running relay.
type Relay struct {
	opts    Options
	node    *node.Node
	reg     *registry.Registry
	limiter *ratelimit.Limiter
	log     *slog.Logger
	gc      *collector
	marks   *checkpoints
	http    *http.Server
	httpLn  net.Listener

	ctx    context.Context
	cancel context.CancelFunc
	bg     background.Group
}

// Start runs a relay on its data dir, initializing it from opts.Join the
// first time.
func Start(opts Options) (*Relay, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.GCInterval <= 0 {
		opts.GCInterval = DefaultGCInterval
	}
	if opts.Horizon <= 0 {
		opts.Horizon = DefaultHorizon
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	public, err := node.ParseAddrs(opts.PublicAddrs)
	if err != nil {
		return nil, fmt.Errorf("relay --public-addr: %w", err)
	}
	var httpLn net.Listener
	if opts.HTTP != "" {
		if httpLn, err = net.Listen("tcp", opts.HTTP); err != nil {
			return nil, fmt.Errorf("relay --http: %w", err)
		}
	}
	r, err := start(opts, public, httpLn)
	if err != nil && httpLn != nil {
		httpLn.Close()
	}
	return r, err
}

func start(opts Options, public []ma.Multiaddr, httpLn net.Listener) (*Relay, error) {
	dir, err := openDir(opts.DataDir, opts.Join)
	if err != nil {
		return nil, err
	}
	reg, err := registry.Open(filepath.Join(dir.Path, DevicesFile), opts.Now)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Relay{
		opts:    opts,
		reg:     reg,
		limiter: ratelimit.New(rate.Every(failedEvery), failedBurst, maxSources, time.Now),
		log:     opts.Logger.With("component", "relay"),
		marks:   newCheckpoints(checkpointLen),
		httpLn:  httpLn,
		ctx:     ctx,
		cancel:  cancel,
	}
	res := relayv2.DefaultResources()
	res.MaxReservations = 1024
	res.MaxReservationsPerIP = 64
	res.MaxCircuits = 64
	hostOpts := []libp2p.Option{
		libp2p.EnableRelayService(relayv2.WithResources(res), relayv2.WithACL(circuitACL{reg})),
		// A relay is reachable by definition; without this the circuit
		// service waits for AutoNAT to agree.
		libp2p.ForceReachabilityPublic(),
	}
	if len(public) > 0 {
		hostOpts = append(hostOpts, libp2p.AddrsFactory(func(addrs []ma.Multiaddr) []ma.Multiaddr {
			return append(public[:len(public):len(public)], addrs...)
		}))
	}
	n, _, err := node.Start(node.Options{
		DataDir:        dir.Path,
		Listen:         opts.Listen,
		API:            opts.API,
		SyncInterval:   opts.SyncInterval,
		ScoreWhitelist: opts.ScoreWhitelist,
		Hub:            true,
		Admission:      admission{reg: reg},
		OnRevoke:       r.meshRevoked,
		Gater:          gater{reg},
		HostOptions:    hostOpts,
		Mounts:         map[string]http.Handler{adminPrefix: r.adminHandler()},
		Version:        opts.Version,
		Logger:         opts.Logger,
	})
	if err != nil {
		cancel()
		return nil, err
	}
	r.node = n
	r.gc = &collector{store: n.Store(), reg: reg, horizon: opts.Horizon, log: r.log}
	n.Host().SetStreamHandler(controlProtocol, r.handleControl)
	n.Host().Network().Notify(&network.NotifyBundle{ConnectedF: r.connected})
	reg.OnRevoke(r.revoked)
	r.reconcileRevocations()
	if err := r.writeAddrs(dir); err != nil {
		r.Close()
		return nil, err
	}
	r.spawn(r.gcLoop)
	r.spawn(r.checkpointLoop)
	if httpLn != nil {
		r.serveHTTP()
	}
	r.log.Info("relay running", "id", n.ID(), "addrs", r.Addrs(), "http", r.HTTPAddr())
	return r, nil
}

// openDir opens a relay data dir, initializing it from a relay code the
// first time.
func openDir(path, code string) (*datadir.Dir, error) {
	dir, err := datadir.Open(path)
	switch {
	case errors.Is(err, datadir.ErrNotInitialized) && code == "":
		return nil, fmt.Errorf("relay: %w: %s is not initialized; start it once with --join RELAYCODE (print one with `syncnode invite --relay` on a device)", ErrNotRelayDir, path)
	case errors.Is(err, datadir.ErrNotInitialized):
		network, err := invite.DecodeRelay(code)
		if err != nil {
			return nil, fmt.Errorf("relay --join: %w", err)
		}
		return datadir.InitRelay(path, network)
	case err != nil:
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir.Path, datadir.SecretFile)); !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("relay: %w: %s belongs to a device (it holds the group secret, which a relay must never have); give the relay its own data dir", ErrNotRelayDir, dir.Path)
	}
	if code != "" {
		network, err := invite.DecodeRelay(code)
		if err != nil {
			return nil, fmt.Errorf("relay --join: %w", err)
		}
		have, err := dir.Network()
		if err != nil {
			return nil, err
		}
		if have != network {
			return nil, fmt.Errorf("relay --join: %s already serves another group; use a fresh data dir for this one", dir.Path)
		}
	}
	return dir, nil
}

// Node returns the relay's node.
func (r *Relay) Node() *node.Node { return r.node }

// Registry returns the relay's device registry.
func (r *Relay) Registry() *registry.Registry { return r.reg }

// ID returns the relay's peer ID.
func (r *Relay) ID() peer.ID { return r.node.ID() }

// Addrs returns the relay's full multiaddrs, each ending in /p2p/ID.
func (r *Relay) Addrs() []ma.Multiaddr {
	addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: r.node.ID(), Addrs: r.node.Host().Addrs()})
	if err != nil {
		return nil
	}
	return addrs
}

// HTTPAddr returns the thin clients' API address, "" if off.
func (r *Relay) HTTPAddr() string {
	if r.httpLn == nil {
		return ""
	}
	return r.httpLn.Addr().String()
}

func (r *Relay) writeAddrs(dir *datadir.Dir) error {
	var b []byte
	for _, a := range r.Addrs() {
		b = append(append(b, a.String()...), '\n')
	}
	return dir.WriteFile(AddrsFile, b)
}

// connected gives an unpaired peer pairingGrace to present its token.
func (r *Relay) connected(_ network.Network, c network.Conn) {
	p := c.RemotePeer()
	if r.reg.Admitted(p) {
		return
	}
	t := time.AfterFunc(pairingGrace, func() {
		if !r.reg.Admitted(p) && r.ctx.Err() == nil {
			r.log.Debug("dropping a peer that did not pair", "peer", p)
			_ = r.node.Host().Network().ClosePeer(p)
		}
	})
	context.AfterFunc(r.ctx, func() { t.Stop() })
}

// revoked cuts a device revoked by its token off at once (the gater keeps
// it out) and revokes it for the whole group: every device then refuses
// its connections and its later records too.
func (r *Relay) revoked(d registry.Device) {
	r.log.Info("device revoked", "device", d.Name, "peer", d.Peer)
	if d.Peer == "" {
		return
	}
	_ = r.node.Host().Network().ClosePeer(d.Peer)
	if _, err := r.node.Revoke(r.ctx, d.Peer.String()); err != nil && r.ctx.Err() == nil {
		r.log.Error("could not spread a revocation to the group", "device", d.Name, "err", err)
	}
}

// meshRevoked revokes the token of a device that some device revoked for
// the group, so that `token list` tells the truth and the token stops
// working for HTTP sync too.
func (r *Relay) meshRevoked(membership.Device) {
	// Off the merge path: revoking persists the registry.
	r.spawn(r.reconcileRevocations)
}

// reconcileRevocations brings the registry and the group's revocations
// into line, both ways: a token revoked before revocations spread to the
// group, or while writing the revocation failed, is revoked for the group;
// a device the group revoked while revoking its token failed (or before
// the relay stopped) loses its token. It runs at start and with every
// collection.
func (r *Relay) reconcileRevocations() {
	members := r.node.Members()
	for _, d := range r.reg.List() {
		switch {
		case d.Peer == "":
		case d.Revoked && !members.RevokedPeer(d.Peer):
			r.revoked(d)
		case !d.Revoked && members.RevokedPeer(d.Peer):
			if _, err := r.reg.Revoke(d.Name); err != nil && r.ctx.Err() == nil {
				r.log.Error("could not revoke the token of a device revoked by the group", "device", d.Name, "err", err)
			}
		}
	}
}

// spawn runs fn in the background unless the relay is closing: a
// revocation merged while Close runs must not start work Close would not
// wait for.
func (r *Relay) spawn(fn func()) { r.bg.Go(fn) }

// Close stops the relay and waits for its goroutines.
func (r *Relay) Close() error {
	r.cancel()
	var errs []error
	if r.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, r.http.Shutdown(ctx))
		cancel()
	}
	r.bg.Stop()
	if r.node != nil {
		errs = append(errs, r.node.Close())
	}
	return errors.Join(errs...)
}
