package p2p

import (
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/pnet"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	basicconnmgr "github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// Defaults for the zero values of Config.
const (
	// DefaultListenAddr is every IPv4 interface on a port the kernel picks.
	DefaultListenAddr = "/ip4/0.0.0.0/tcp/0"
	// DefaultConnLow is the connection count the connection manager trims
	// down to.
	DefaultConnLow = 32
	// DefaultConnHigh is the connection count above which it starts
	// trimming. A group has a few devices and relays, so these leave room
	// for every member plus transient dials.
	DefaultConnHigh = 96
)

var (
	// ErrNoKey is returned when Config.PrivKey is nil.
	ErrNoKey = errors.New("a private key is required")
	// ErrPSKSize is returned for a private-network key that is not 32 bytes.
	ErrPSKSize = errors.New("private network key must be 32 bytes")
	// ErrQUICWithPSK is returned for a QUIC-based listen address (QUIC,
	// WebTransport, WebRTC) on a private network. libp2p's private
	// network (pnet) encrypts the raw byte stream beneath the security
	// handshake; QUIC brings its own TLS handshake inside UDP packets and
	// has no such stream to wrap, so libp2p cannot keep strangers out of it.
	ErrQUICWithPSK = errors.New("QUIC listen addresses cannot be used in a private network (pnet protects only TCP); use a /tcp/ address")
	// ErrNotTCP is returned for a listen address that is not plain TCP,
	// the only transport this host runs.
	ErrNotTCP = errors.New("only TCP listen addresses are supported, like /ip4/0.0.0.0/tcp/0")
)

// Config configures New. Zero fields take the documented defaults.
type Config struct {
	// PrivKey is the host's identity. Required.
	PrivKey crypto.PrivKey
	// PSK is the private-network key (32 bytes, see group.Secret.PSK): peers
	// without it cannot complete a connection. Nil means a public host.
	PSK pnet.PSK
	// ListenAddrs are TCP multiaddrs to listen on; nil means
	// DefaultListenAddr. An empty non-nil slice listens nowhere.
	ListenAddrs []ma.Multiaddr
	// ConnLow and ConnHigh are the connection manager's watermarks; zero
	// means DefaultConnLow and DefaultConnHigh.
	ConnLow, ConnHigh int
	// Limits are the resource manager's limits; nil means DefaultLimits().
	Limits *rcmgr.ConcreteLimitConfig
	// Gater, if set, may refuse connections at each stage.
	Gater connmgr.ConnectionGater
	// ExtraOptions are applied after the host's own options, so they may
	// add services (circuit relay, hole punching) or override settings the
	// libp2p option allows to be set twice.
	ExtraOptions []libp2p.Option
}

// New builds and starts a libp2p host: TCP only, Noise security, yamux
// streams, the private network when a PSK is given, a resource manager, a
// connection manager and identify. It maps no ports on the router (no UPnP
// or NAT-PMP), runs no relay service and does not use relays unless
// ExtraOptions say so, and keeps its metrics out of the global Prometheus
// registry (the node exports its own).
func New(cfg Config) (host.Host, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("p2p new host: %w", err)
	}
	cm, err := basicconnmgr.NewConnManager(orDefault(cfg.ConnLow, DefaultConnLow), orDefault(cfg.ConnHigh, DefaultConnHigh))
	if err != nil {
		return nil, fmt.Errorf("p2p connection manager: %w", err)
	}
	limits := DefaultLimits()
	if cfg.Limits != nil {
		limits = *cfg.Limits
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits))
	if err != nil {
		cm.Close()
		return nil, fmt.Errorf("p2p resource manager: %w", err)
	}
	h, err := libp2p.New(cfg.options(cm, rm)...)
	if err != nil {
		// libp2p closes these on some failures but not all; closing twice
		// is harmless.
		rm.Close()
		cm.Close()
		return nil, fmt.Errorf("p2p new host: %w", err)
	}
	return h, nil
}

// validate reports configuration errors before anything is started.
func (cfg Config) validate() error {
	if cfg.PrivKey == nil {
		return ErrNoKey
	}
	if cfg.PSK != nil && len(cfg.PSK) != 32 {
		return fmt.Errorf("%w, got %d", ErrPSKSize, len(cfg.PSK))
	}
	for _, a := range cfg.listenAddrs() {
		if err := checkListenAddr(a, cfg.PSK != nil); err != nil {
			return err
		}
	}
	low, high := orDefault(cfg.ConnLow, DefaultConnLow), orDefault(cfg.ConnHigh, DefaultConnHigh)
	if low < 0 || low > high {
		return fmt.Errorf("connection watermarks low %d, high %d: want 0 <= low <= high", low, high)
	}
	return nil
}

func (cfg Config) listenAddrs() []ma.Multiaddr {
	if cfg.ListenAddrs == nil {
		return []ma.Multiaddr{ma.StringCast(DefaultListenAddr)}
	}
	return cfg.ListenAddrs
}

// options turns a validated cfg into libp2p options.
func (cfg Config) options(cm connmgr.ConnManager, rm network.ResourceManager) []libp2p.Option {
	opts := []libp2p.Option{
		libp2p.Identity(cfg.PrivKey),
		libp2p.ListenAddrs(cfg.listenAddrs()...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, muxer()),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(cm),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
	}
	if cfg.PSK != nil {
		opts = append(opts, libp2p.PrivateNetwork(cfg.PSK))
	}
	if cfg.Gater != nil {
		opts = append(opts, libp2p.ConnectionGater(cfg.Gater))
	}
	return append(opts, cfg.ExtraOptions...)
}

// checkListenAddr accepts only /ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>.
func checkListenAddr(a ma.Multiaddr, private bool) error {
	var codes []int
	for _, p := range a.Protocols() {
		codes = append(codes, p.Code)
	}
	if len(codes) == 2 && isHost(codes[0]) && codes[1] == ma.P_TCP {
		return nil
	}
	if private && isUDPBased(codes) {
		return fmt.Errorf("listen on %s: %w", a, ErrQUICWithPSK)
	}
	return fmt.Errorf("listen on %s: %w", a, ErrNotTCP)
}

func isHost(code int) bool {
	switch code {
	case ma.P_IP4, ma.P_IP6, ma.P_DNS, ma.P_DNS4, ma.P_DNS6:
		return true
	}
	return false
}

func isUDPBased(codes []int) bool {
	for _, c := range codes {
		switch c {
		case ma.P_UDP, ma.P_QUIC, ma.P_QUIC_V1, ma.P_WEBTRANSPORT, ma.P_WEBRTC_DIRECT:
			return true
		}
	}
	return false
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
