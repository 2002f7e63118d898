package p2p

import (
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	basicconnmgr "github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/proto"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

func TestDefaultListenIsIPv4TCP(t *testing.T) {
	h, err := New(Config{PrivKey: key(t, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	addrs := h.Network().ListenAddresses()
	if len(addrs) != 1 {
		t.Fatalf("listening on %v, want one address", addrs)
	}
	ip, err := manet.ToIP(addrs[0])
	if err != nil || !ip.IsUnspecified() || ip.To4() == nil {
		t.Errorf("listening on %s, want 0.0.0.0", addrs[0])
	}
	if _, err := addrs[0].ValueForProtocol(ma.P_TCP); err != nil {
		t.Errorf("listening on %s, want TCP", addrs[0])
	}
}

func TestConnManagerWatermarks(t *testing.T) {
	for _, tc := range []struct{ low, high, wantLow, wantHigh int }{
		{0, 0, DefaultConnLow, DefaultConnHigh},
		{4, 10, 4, 10},
	} {
		h := mustNew(t, Config{PrivKey: key(t, 1), ConnLow: tc.low, ConnHigh: tc.high})
		info := h.ConnManager().(*basicconnmgr.BasicConnMgr).GetInfo()
		if info.LowWater != tc.wantLow || info.HighWater != tc.wantHigh {
			t.Errorf("low/high %d/%d gave watermarks %d/%d, want %d/%d",
				tc.low, tc.high, info.LowWater, info.HighWater, tc.wantLow, tc.wantHigh)
		}
	}
}

// relayStop is the protocol a host serves when it accepts relayed
// connections.
const relayStop = proto.ProtoIDv2Stop

func TestRelayOffUnlessAsked(t *testing.T) {
	h := mustNew(t, Config{PrivKey: key(t, 1)})
	if slices.Contains(h.Mux().Protocols(), relayStop) {
		t.Error("relay transport is on by default")
	}
	h = mustNew(t, Config{PrivKey: key(t, 2), ExtraOptions: []libp2p.Option{libp2p.EnableRelay()}})
	if !slices.Contains(h.Mux().Protocols(), relayStop) {
		t.Error("ExtraOptions could not turn the relay transport on")
	}
}

func TestDefaultLimitsCapPeers(t *testing.T) {
	limits := DefaultLimits().ToPartialLimitConfig()
	p := limits.PeerDefault
	got := []rcmgr.LimitVal{p.Conns, p.ConnsInbound, p.ConnsOutbound, p.FD, p.Streams, p.StreamsInbound, p.StreamsOutbound}
	want := []int{PeerLimit.Conns, PeerLimit.ConnsInbound, PeerLimit.ConnsOutbound, PeerLimit.FD, PeerLimit.Streams, PeerLimit.StreamsInbound, PeerLimit.StreamsOutbound}
	for i := range want {
		if int(got[i]) != want[i] {
			t.Errorf("per-peer limits %v, want %v", got, want)
			break
		}
	}
	if int64(p.Memory) != PeerLimit.Memory {
		t.Errorf("per-peer memory %d, want %d", p.Memory, PeerLimit.Memory)
	}
	// The connection manager, not the resource manager, should be what
	// trims connections in normal operation.
	if sys := limits.System.Conns; int(sys) < DefaultConnHigh {
		t.Errorf("system connection limit %d is below the connection manager's %d", sys, DefaultConnHigh)
	}
}
