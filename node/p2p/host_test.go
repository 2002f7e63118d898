package p2p

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/pnet"
	ma "github.com/multiformats/go-multiaddr"
)

const echoProto = "/syncnode/test/echo/1"

// key returns a deterministic Ed25519 identity for seed.
func key(tb testing.TB, seed byte) crypto.PrivKey {
	tb.Helper()
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(s))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func psk(b byte) pnet.PSK { return bytes.Repeat([]byte{b}, 32) }

var loopback = []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}

// mustNew starts a host on loopback and closes it when the test ends.
func mustNew(tb testing.TB, cfg Config) host.Host {
	tb.Helper()
	if cfg.ListenAddrs == nil {
		cfg.ListenAddrs = loopback
	}
	h, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.Close() })
	return h
}

func echo(s network.Stream) {
	defer s.Close()
	io.Copy(s, s)
}

func connect(ctx context.Context, from, to host.Host) error {
	return from.Connect(ctx, peer.AddrInfo{ID: to.ID(), Addrs: to.Addrs()})
}

func testCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

func TestSamePSKConnectsAndStreams(t *testing.T) {
	ctx := testCtx(t)
	a := mustNew(t, Config{PrivKey: key(t, 1), PSK: psk(7)})
	b := mustNew(t, Config{PrivKey: key(t, 2), PSK: psk(7)})
	b.SetStreamHandler(echoProto, echo)

	if err := connect(ctx, a, b); err != nil {
		t.Fatalf("connect: %v", err)
	}
	s, err := a.NewStream(ctx, b.ID(), echoProto)
	if err != nil {
		t.Fatalf("new stream: %v", err)
	}
	defer s.Close()
	msg := []byte("hello group")
	if _, err := s.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Errorf("echo = %q, want %q", got, msg)
	}
	if sec := s.Conn().ConnState().Security; sec != "/noise" {
		t.Errorf("security = %q, want /noise", sec)
	}
	if mux := s.Conn().ConnState().StreamMultiplexer; mux != "/yamux/1.0.0" {
		t.Errorf("muxer = %q, want /yamux/1.0.0", mux)
	}
}

// strangerDialTimeout bounds a dial across the private-network boundary.
// Such a dial fails within milliseconds when the garbage the other side
// reads breaks its parser, but waits out libp2p's 5 s local dial timeout
// when the garbage reads as a long length prefix. A group dial on loopback
// takes about a millisecond, so the bound cannot hide a success.
const strangerDialTimeout = time.Second

func TestStrangerCannotConnect(t *testing.T) {
	member := mustNew(t, Config{PrivKey: key(t, 1), PSK: psk(7)})
	member.SetStreamHandler(echoProto, echo)
	for name, strangerPSK := range map[string]pnet.PSK{"other psk": psk(8), "no psk": nil} {
		t.Run(name, func(t *testing.T) {
			stranger := mustNew(t, Config{PrivKey: key(t, 9), PSK: strangerPSK})
			stranger.SetStreamHandler(echoProto, echo)
			dial := func(from, to host.Host) error {
				ctx, cancel := context.WithTimeout(testCtx(t), strangerDialTimeout)
				defer cancel()
				return connect(ctx, from, to)
			}
			if err := dial(stranger, member); err == nil {
				t.Fatal("stranger connected to a group member")
			}
			if err := dial(member, stranger); err == nil {
				t.Fatal("group member connected to a stranger")
			}
			if c := member.Network().Connectedness(stranger.ID()); c == network.Connected {
				t.Errorf("member reports the stranger as %v", c)
			}
		})
	}
}

type refuseAll struct{}

func (refuseAll) InterceptPeerDial(peer.ID) bool               { return false }
func (refuseAll) InterceptAddrDial(peer.ID, ma.Multiaddr) bool { return false }
func (refuseAll) InterceptAccept(network.ConnMultiaddrs) bool  { return false }
func (refuseAll) InterceptSecured(network.Direction, peer.ID, network.ConnMultiaddrs) bool {
	return false
}
func (refuseAll) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return false, 0 }

func TestGaterIsConsulted(t *testing.T) {
	ctx := testCtx(t)
	a := mustNew(t, Config{PrivKey: key(t, 1), PSK: psk(7), Gater: refuseAll{}})
	b := mustNew(t, Config{PrivKey: key(t, 2), PSK: psk(7)})
	if err := connect(ctx, a, b); err == nil {
		t.Error("dial allowed by a gater that refuses everything")
	}
	if err := connect(ctx, b, a); err == nil {
		t.Error("accept allowed by a gater that refuses everything")
	}
}

func TestListenAddrChecks(t *testing.T) {
	for _, tc := range []struct {
		addr string
		psk  pnet.PSK
		want error
	}{
		{"/ip4/127.0.0.1/udp/0/quic-v1", psk(1), ErrQUICWithPSK},
		{"/ip6/::1/udp/0/quic-v1/webtransport", psk(1), ErrQUICWithPSK},
		{"/ip4/127.0.0.1/udp/0/webrtc-direct", psk(1), ErrQUICWithPSK},
		{"/ip4/127.0.0.1/udp/0/quic-v1", nil, ErrNotTCP},
		{"/ip4/127.0.0.1/tcp/0/ws", psk(1), ErrNotTCP},
		{"/ip4/127.0.0.1/tcp/0/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA", nil, ErrNotTCP},
	} {
		_, err := New(Config{PrivKey: key(t, 1), PSK: tc.psk, ListenAddrs: []ma.Multiaddr{ma.StringCast(tc.addr)}})
		if !errors.Is(err, tc.want) {
			t.Errorf("listen %s (psk %v): error %v, want %v", tc.addr, tc.psk != nil, err, tc.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no key":          {},
		"short psk":       {PrivKey: key(t, 1), PSK: make(pnet.PSK, 16)},
		"low above high":  {PrivKey: key(t, 1), ConnLow: 50, ConnHigh: 40},
		"negative low":    {PrivKey: key(t, 1), ConnLow: -1},
		"low above dflt":  {PrivKey: key(t, 1), ConnLow: DefaultConnHigh + 1},
		"conflicting opt": {PrivKey: key(t, 1), ListenAddrs: loopback, ExtraOptions: []libp2p.Option{libp2p.Identity(key(t, 2))}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}
