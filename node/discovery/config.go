package discovery

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

const (
	// ServiceName is the DNS-SD service type every syncnode advertises.
	ServiceName = "_syncnode._udp"
	// Domain is the mDNS domain.
	Domain = "local."
	// DefaultInterval is the mean time between two browse rounds.
	DefaultInterval = 10 * time.Second
	// DefaultQueryTimeout is how long one browse round collects answers.
	// Close waits for a round in flight, so it also bounds Close.
	DefaultQueryTimeout = time.Second
	// MaxHintLen bounds the group hint so that it fits one TXT string.
	MaxHintLen = 64
)

// ErrInvalidConfig reports a Config that New cannot use.
var ErrInvalidConfig = errors.New("invalid discovery config")

// Config configures a Service. A zero duration means its default.
type Config struct {
	// Self is this device's peer ID. It is advertised, and entries that
	// carry it are never reported. Required.
	Self peer.ID
	// Hint names the group on the wire. Anyone on the LAN can read it, so
	// it must come from the group secret through a one-way function and is
	// never the secret itself. 1 to MaxHintLen printable ASCII bytes,
	// without spaces. Required.
	Hint string
	// Addrs returns the host's current listen addresses (host.Addrs fits).
	// It is called at Start and once per browse round from one goroutine.
	// Each interface advertises only the addresses that belong to it;
	// unspecified ones (0.0.0.0, ::) stand for every address of the
	// interface. Required.
	Addrs func() []ma.Multiaddr
	// Interfaces names the interfaces to advertise and browse on. Empty
	// means every interface that is up, multicast-capable, not loopback
	// and has an IPv4 address.
	Interfaces []string
	// Interval is the mean time between browse rounds; each delay is
	// jittered by up to a tenth either way. The first round runs at Start.
	Interval time.Duration
	// QueryTimeout is how long a browse round waits for answers.
	QueryTimeout time.Duration
	// Logger receives discovery events; nil means slog.Default().
	Logger *slog.Logger
}

// withDefaults validates c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	if err := c.Self.Validate(); err != nil {
		return c, fmt.Errorf("%w: self peer id: %w", ErrInvalidConfig, err)
	}
	if err := validateHint(c.Hint); err != nil {
		return c, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if c.Addrs == nil {
		return c, fmt.Errorf("%w: no address source", ErrInvalidConfig)
	}
	if c.Interval < 0 || c.QueryTimeout < 0 {
		return c, fmt.Errorf("%w: negative interval or query timeout", ErrInvalidConfig)
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.QueryTimeout == 0 {
		c.QueryTimeout = DefaultQueryTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// validateHint checks that hint fits a TXT string and survives any DNS-SD
// browser unchanged.
func validateHint(hint string) error {
	if hint == "" || len(hint) > MaxHintLen {
		return fmt.Errorf("group hint must be 1 to %d bytes, got %d", MaxHintLen, len(hint))
	}
	for i := 0; i < len(hint); i++ {
		if c := hint[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("group hint byte %d is not printable ASCII", i)
		}
	}
	return nil
}
