package discovery

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

func TestConfigValidation(t *testing.T) {
	valid := Config{Self: testPeerID(t, 1), Hint: "h", Addrs: func() []ma.Multiaddr { return nil }}
	c, err := valid.withDefaults()
	if err != nil {
		t.Fatalf("valid config: %v", err)
	}
	if c.Interval != DefaultInterval || c.QueryTimeout != DefaultQueryTimeout || c.Logger == nil {
		t.Errorf("defaults not applied: %+v", c)
	}
	for name, mutate := range map[string]func(*Config){
		"no self":          func(c *Config) { c.Self = "" },
		"no hint":          func(c *Config) { c.Hint = "" },
		"long hint":        func(c *Config) { c.Hint = string(make([]byte, MaxHintLen+1)) },
		"non-ASCII hint":   func(c *Config) { c.Hint = "grüppe" },
		"no addrs":         func(c *Config) { c.Addrs = nil },
		"negative timeout": func(c *Config) { c.QueryTimeout = -time.Second },
	} {
		c := valid
		mutate(&c)
		if _, err := New(c, func(peer.AddrInfo) {}); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: New = %v, want ErrInvalidConfig", name, err)
		}
	}
	if _, err := New(valid, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("nil PeerFunc: New = %v, want ErrInvalidConfig", err)
	}
}

// TestCloseBeforeStart never starts a Service, so it sends nothing.
func TestCloseBeforeStart(t *testing.T) {
	s := &Service{}
	if err := s.Close(); err != nil {
		t.Fatalf("Close before Start: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Start(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Close = %v, want ErrClosed", err)
	}
}

func TestJitterStaysWithinATenth(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	d := 10 * time.Second
	seen := map[time.Duration]bool{}
	for range 1000 {
		j := jitter(d, rng)
		if j < 9*time.Second || j > 11*time.Second {
			t.Fatalf("jitter(%v) = %v, outside ±10%%", d, j)
		}
		seen[j] = true
	}
	if len(seen) < 100 {
		t.Fatalf("jitter produced only %d distinct delays", len(seen))
	}
	if got := jitter(5*time.Nanosecond, rng); got != 5*time.Nanosecond {
		t.Fatalf("jitter of a tiny interval = %v", got)
	}
}
