package node

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/syncnode/syncnode/crdt"
	"github.com/syncnode/syncnode/node/datadir"
	"github.com/syncnode/syncnode/node/membership"
	"github.com/syncnode/syncnode/node/p2p"
	"github.com/syncnode/syncnode/node/seal"
	"github.com/syncnode/syncnode/node/signing"
	"github.com/syncnode/syncnode/store"
)

// DefaultAPIAddr is where the local API listens unless told otherwise.
const DefaultAPIAddr = "127.0.0.1:7070"

// RelayFile and RelayTokenFile, in the data dir, remember the relay a
// device pairs with and its token, after the relay first accepted them.
const (
	RelayFile      = "relay"
	RelayTokenFile = "relay-token"
)

// PeersFile, in the data dir, lists the multiaddrs of peers to keep
// connected across restarts: the inviter's, written by join.
const PeersFile = "peers"

// Options configure a node run from a data directory, which is what
// `syncnode run` does.
type Options struct {
	// DataDir is the data directory; a fresh one is initialized.
	DataDir string
	// Listen are libp2p listen multiaddrs; empty means every IPv4
	// interface at the port remembered in PortFile (see listenP2P).
	Listen []string
	// API is the local API's host:port; empty means DefaultAPIAddr, and
	// then a busy default port falls back to a free one (the chosen address
	// is written to the data dir's api-addr either way).
	API string
	// Peers are static peers' multiaddrs, each with /p2p/ID.
	Peers []string
	// MDNS and MDNSInterfaces turn on LAN discovery.
	MDNS           bool
	MDNSInterfaces []string
	// Relay is a relay's multiaddr, with /p2p/ID, to pair and sync with;
	// empty means the one remembered in the data dir, if any.
	Relay string
	// RelayToken pairs the device with the relay; empty means the one
	// remembered in the data dir, if any.
	RelayToken string
	// RelayInterval is the period of relay exchanges (see RelayLink).
	RelayInterval time.Duration
	// SyncInterval is the mean anti-entropy period (see Config).
	SyncInterval time.Duration
	// Hub makes the node the group's hub (see Config); a relay is one.
	Hub bool
	// ScoreWhitelist exempts networks from gossip's same-IP penalty (see
	// Config); for harnesses that run many nodes on one address.
	ScoreWhitelist []*net.IPNet
	// Admission, Gater, HostOptions and Mounts extend the node into a
	// relay: see Config.Admission, p2p.Config and api.Config.Mounts.
	Admission   Admission
	Gater       connmgr.ConnectionGater
	HostOptions []libp2p.Option
	Mounts      map[string]http.Handler
	// Name is the device name the group sees (`syncnode devices`); empty
	// means the host name, or "relay" for a hub.
	Name string
	// OnRevoke is called for each device revoked while the node runs (see
	// Config.OnRevoke).
	OnRevoke func(membership.Device)
	// Version is reported by status.
	Version string
	// Logger receives node events; nil means slog.Default().
	Logger *slog.Logger
}

// Start opens (or initializes) a data directory and runs a node on it. It
// writes the API address to the data dir and removes it on Close. created
// reports whether the data dir was initialized just now.
func Start(opts Options) (n *Node, created bool, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	// Check every option before touching the data dir, so a typo never
	// leaves a freshly initialized one behind.
	listenFlags, err := ParseAddrs(opts.Listen)
	if err != nil {
		return nil, false, fmt.Errorf("node --listen: %w", err)
	}
	peerFlags, err := ParseAddrs(opts.Peers)
	if err != nil {
		return nil, false, fmt.Errorf("node --peer: %w", err)
	}
	if _, err := peer.AddrInfosFromP2pAddrs(peerFlags...); err != nil {
		return nil, false, fmt.Errorf("node --peer: each peer address needs /p2p/<id>: %w", err)
	}
	if opts.Name != "" {
		if err := membership.ValidateName(opts.Name); err != nil {
			return nil, false, fmt.Errorf("node --name: %w", err)
		}
	}
	if opts.Relay != "" {
		if _, err := parseRelay(opts.Relay); err != nil {
			return nil, false, fmt.Errorf("node --relay: %w", err)
		}
	}
	apiLn, err := listenAPI(opts.API)
	if err != nil {
		return nil, false, err
	}
	n, created, err = start(opts, listenFlags, peerFlags, apiLn)
	if err != nil {
		apiLn.Close()
	}
	return n, created, err
}

func start(opts Options, listenFlags, peerFlags []ma.Multiaddr, apiLn net.Listener) (*Node, bool, error) {
	dir, created, err := datadir.OpenOrInit(opts.DataDir)
	if err != nil {
		return nil, false, err
	}
	statics, err := staticPeers(dir, peerFlags)
	if err != nil {
		return nil, created, err
	}
	key, err := dir.Identity()
	if err != nil {
		return nil, created, err
	}
	network, err := dir.Network()
	if err != nil {
		return nil, created, err
	}
	token, err := dir.Token()
	if err != nil {
		return nil, created, err
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, created, fmt.Errorf("node identity: %w", err)
	}
	valueKey, err := valueKeyOf(dir)
	if err != nil {
		return nil, created, err
	}
	storeOpts := store.Options{
		Dir:    dir.DBPath(),
		Origin: crdt.NodeID(id.String()),
		Sign:   signing.Signer(key),
		Logger: opts.Logger,
	}
	if valueKey != nil {
		storeOpts.Seal = SealWith(valueKey)
	}
	st, err := store.Open(storeOpts)
	if err != nil {
		return nil, created, err
	}
	members, err := membership.Load(st)
	if err != nil {
		st.Close()
		return nil, created, fmt.Errorf("node: %w", err)
	}
	link, err := relayLink(dir, opts)
	if err != nil {
		st.Close()
		return nil, created, err
	}
	hostOpts := opts.HostOptions
	if link != nil {
		// Reach other devices through the relay's circuit, and try to
		// turn such a connection into a direct one.
		hostOpts = append(slices.Clip(hostOpts), libp2p.EnableRelay(), libp2p.EnableHolePunching())
	}
	h, err := listenP2P(dir, p2p.Config{PrivKey: key, PSK: network.PSK(), Gater: memberGater{members, opts.Gater}, ExtraOptions: hostOpts}, listenFlags)
	if err != nil {
		st.Close()
		return nil, created, err
	}
	invites, err := newInvites(dir, h, opts.Logger)
	if err != nil {
		h.Close()
		st.Close()
		return nil, created, err
	}
	n, err := newWithListener(Config{
		Store:          st,
		Host:           h,
		Network:        network,
		StaticPeers:    statics,
		MDNS:           opts.MDNS,
		MDNSInterfaces: opts.MDNSInterfaces,
		Relay:          link,
		Announce:       &membership.Announcement{Name: deviceName(opts), Relay: opts.Hub},
		ValueKey:       valueKey,
		RequireSealed:  true,
		RequireSigned:  true,
		ScoreWhitelist: opts.ScoreWhitelist,
		Hub:            opts.Hub,
		Admission:      opts.Admission,
		Members:        members,
		OnRevoke:       opts.OnRevoke,
		Mounts:         opts.Mounts,
		Invites:        invites,
		SyncInterval:   opts.SyncInterval,
		APIToken:       token,
		Version:        opts.Version,
		Logger:         opts.Logger,
	}, apiLn)
	if err != nil {
		return nil, created, err
	}
	if err := dir.WriteAPIAddr(n.APIAddr()); err != nil {
		n.Close()
		return nil, created, err
	}
	n.onClose(dir.RemoveAPIAddr)
	return n, created, nil
}

// listenAPI opens the local API's listener. Only the default address falls
// back to a free port: an address the user chose is theirs to fix.
func listenAPI(addr string) (net.Listener, error) {
	if addr != "" {
		if err := checkLoopback(addr); err != nil {
			return nil, err
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("node api listen on %s: %w", addr, err)
		}
		return ln, nil
	}
	ln, err := net.Listen("tcp", DefaultAPIAddr)
	if errors.Is(err, syscall.EADDRINUSE) {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return nil, fmt.Errorf("node api listen: %w", err)
	}
	return ln, nil
}

// checkLoopback refuses an API address off loopback: the API holds every
// record, and DESIGN keeps it to this machine.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("node --api %q: want host:port: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("node --api %q: the local API listens on loopback only (127.0.0.1, ::1 or localhost)", addr)
	}
	return nil
}

// staticPeers merges --peer addresses with those remembered in the data dir.
func staticPeers(dir *datadir.Dir, flags []ma.Multiaddr) ([]peer.AddrInfo, error) {
	saved, err := dir.ReadFile(PeersFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var lines []string
	for _, line := range strings.Split(string(saved), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	addrs, err := ParseAddrs(lines)
	if err != nil {
		return nil, fmt.Errorf("node peers file: %w", err)
	}
	infos, err := peer.AddrInfosFromP2pAddrs(append(addrs, flags...)...)
	if err != nil {
		return nil, fmt.Errorf("node peers: each peer address needs /p2p/<id>: %w", err)
	}
	return infos, nil
}

// SavePeers records peer multiaddrs in the data dir, so that every later run
// keeps them connected. join uses it for the inviter's addresses.
func SavePeers(dir *datadir.Dir, addrs []ma.Multiaddr) error {
	var b strings.Builder
	for _, a := range addrs {
		b.WriteString(a.String())
		b.WriteByte('\n')
	}
	return dir.WriteFile(PeersFile, []byte(b.String()))
}

// valueKeyOf returns the group's value key, derived from the secret of a
// device's data dir; nil for a relay's, which holds no secret.
func valueKeyOf(dir *datadir.Dir) (*seal.Key, error) {
	secret, err := dir.Secret()
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	k := seal.Key(secret.ValueKey())
	return &k, nil
}

// relayLink sets up the relay link from the options or, failing them, the
// data dir; nil means no relay. The relay and token are remembered once the
// relay has accepted them, so later runs need neither flag.
func relayLink(dir *datadir.Dir, opts Options) (*RelayLink, error) {
	addr, err := flagOrFile(dir, opts.Relay, RelayFile)
	if err != nil || addr == "" {
		return nil, err
	}
	ai, err := parseRelay(addr)
	if err != nil {
		return nil, fmt.Errorf("node relay file: %w", err)
	}
	token, err := flagOrFile(dir, opts.RelayToken, RelayTokenFile)
	if err != nil {
		return nil, err
	}
	var once sync.Once
	log := opts.Logger
	return &RelayLink{Peer: ai, Token: token, Interval: opts.RelayInterval, OnPaired: func(device string) {
		once.Do(func() {
			log.Info("paired with the relay", "relay", ai.ID, "device", device)
			if err := rememberRelay(dir, addr, token); err != nil {
				log.Error("could not remember the relay in the data dir", "err", err)
			}
		})
	}}, nil
}

func rememberRelay(dir *datadir.Dir, addr, token string) error {
	if err := dir.WriteFile(RelayFile, []byte(addr+"\n")); err != nil {
		return err
	}
	if token == "" {
		return nil
	}
	return dir.WriteFile(RelayTokenFile, []byte(token+"\n"))
}

// flagOrFile returns flag if set, else the trimmed content of the named
// data dir file, else "".
func flagOrFile(dir *datadir.Dir, flag, name string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	b, err := dir.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// parseRelay parses a relay multiaddr, which must name the relay's peer ID.
func parseRelay(s string) (peer.AddrInfo, error) {
	a, err := ma.NewMultiaddr(strings.TrimSpace(s))
	if err != nil {
		return peer.AddrInfo{}, fmt.Errorf("%q: %w", s, err)
	}
	ai, err := peer.AddrInfoFromP2pAddr(a)
	if err != nil {
		return peer.AddrInfo{}, fmt.Errorf("%q needs /p2p/<relay id> (see `syncnode relay addr`): %w", s, err)
	}
	return *ai, nil
}

// ParseAddrs parses multiaddrs, naming the first that is malformed.
func ParseAddrs(ss []string) ([]ma.Multiaddr, error) {
	out := make([]ma.Multiaddr, 0, len(ss))
	for _, s := range ss {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// deviceName is the name a node announces: the one given, else "relay"
// for a hub, else the host name cut to a valid name.
func deviceName(opts Options) string {
	switch {
	case opts.Name != "":
		return opts.Name
	case opts.Hub:
		return "relay"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		return "device"
	}
	host = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, host)
	for len(host) > membership.MaxNameLen {
		_, size := utf8.DecodeLastRuneInString(host)
		host = host[:len(host)-size]
	}
	return cmp.Or(host, "device")
}
