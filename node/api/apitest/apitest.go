// Package apitest provides test-only fakes for the local API: a Backend over
// a real store and a loopback server around it. It must NOT be used outside
// tests.
package apitest

import (
	"context"
	"log/slog"
	"net"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/syncnode/syncnode/node/api"
	"github.com/syncnode/syncnode/node/membership"
	"github.com/syncnode/syncnode/store"
)

// Origin is the node ID that stamps the fake backend's writes.
const Origin = "test-node"

// Token is the bearer token of servers from NewServer.
const Token = "test-token"

// Backend is an api.Backend over a store.Store, with canned status and
// peers. Safe for concurrent use.
type Backend struct {
	*store.Store

	mu      sync.Mutex
	status  api.Status
	peers   []api.Peer
	devices []api.Device
	invite  func(ttl time.Duration) (api.Invite, error) // see SetInvite
}

var _ api.Backend = (*Backend)(nil)

// NewBackend opens a store in dir, or in memory if dir is empty, and closes
// it when the test ends.
func NewBackend(tb testing.TB, dir string) *Backend {
	tb.Helper()
	st, err := store.Open(store.Options{
		Dir:            dir,
		InMemory:       dir == "",
		Origin:         Origin,
		MemTableSize:   8 << 20,
		BlockCacheSize: 8 << 20,
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return &Backend{Store: st, status: api.Status{ID: Origin}}
}

// Head returns the feed position of the latest change.
func (b *Backend) Head() uint64 { return b.Stats().FeedHead }

// SetStatus sets what Status returns.
func (b *Backend) SetStatus(st api.Status) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.status = st
}

// SetPeers sets what Peers returns.
func (b *Backend) SetPeers(peers []api.Peer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.peers = peers
}

// Status returns the status last set.
func (b *Backend) Status(context.Context) (api.Status, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status, nil
}

// Peers returns the peers last set.
func (b *Backend) Peers(context.Context) ([]api.Peer, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peers, nil
}

// Server is an api.Server on a loopback httptest server.
type Server struct {
	*httptest.Server
	// Addr is the host:port the server listens on.
	Addr string
}

// NewServer serves cfg on 127.0.0.1 until the test ends. cfg.Addr is set to
// the listener's address and an empty cfg.Token to Token; a nil logger
// discards.
func NewServer(tb testing.TB, cfg api.Config) *Server {
	tb.Helper()
	ts := httptest.NewUnstartedServer(nil)
	cfg.Addr = ts.Listener.Addr().String()
	if cfg.Token == "" {
		cfg.Token = Token
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	srv, err := api.New(cfg)
	if err != nil {
		ts.Close()
		tb.Fatalf("api new: %v", err)
	}
	// Like a node, end long polls and watch streams when the server stops,
	// so Close does not wait on them.
	ctx, cancel := context.WithCancel(context.Background())
	ts.Config.BaseContext = func(net.Listener) context.Context { return ctx }
	ts.Config.Handler = srv.Handler()
	ts.Start()
	tb.Cleanup(func() {
		cancel()
		ts.Close()
	})
	return &Server{Server: ts, Addr: cfg.Addr}
}

// SetDevices sets what Devices returns and Revoke searches.
func (b *Backend) SetDevices(devs []api.Device) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.devices = devs
}

// Devices returns the devices last set.
func (b *Backend) Devices() []api.Device {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.devices)
}

// Revoke marks the device with that ID, or the only one with that name,
// revoked; it refuses the one marked Self, as a node does.
func (b *Backend) Revoke(_ context.Context, nameOrID string) (api.Device, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var found []int
	for i, d := range b.devices {
		if d.ID == nameOrID || d.Name == nameOrID {
			found = append(found, i)
		}
	}
	switch {
	case len(found) == 0:
		return api.Device{}, membership.ErrUnknownDevice
	case len(found) > 1:
		return api.Device{}, membership.ErrAmbiguousDevice
	case b.devices[found[0]].Self:
		return api.Device{}, membership.ErrRevokesItself
	}
	b.devices[found[0]].Revoked = true
	return b.devices[found[0]], nil
}
